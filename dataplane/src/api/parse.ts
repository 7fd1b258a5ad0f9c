/**
 * The one check of client request bodies, run per request before routing. A hand-written fast pass
 * (fast-check.ts) goes first; zod runs only when it does not vouch for the body, so errors are always zod's:
 * the envelope schema first (top-level fields, messages shallowly), then the request schema (the nested parts
 * the translators read). Returns the body itself, typed (unknown fields kept); throws
 * GatewayError('invalid_request') naming the first wrong field by its path.
 */
import type { z } from 'zod';
import { type ClientFormat, GatewayError } from '../errors.js';
import type { Operation } from '../providers/types.js';
import { fastAnthropicMessages, fastOpenAiChat, fastOpenAiEmbeddings } from './fast-check.js';
import { AS_IS, NOT_THIS, UP } from './parts.js';
import {
  type AnthropicMessagesRequest,
  AnthropicMessagesRequestSchema,
  AnthropicMessagesSchema,
  type OpenAIChatRequest,
  type OpenAIEmbeddingsRequest,
  OpenAiChatRequestSchema,
  OpenAiChatSchema,
  OpenAiEmbeddingsSchema,
} from './schemas.js';

/** A client body parseClientRequest accepted, for one of the formats and operations. */
export type ClientRequestBody = OpenAIChatRequest | OpenAIEmbeddingsRequest | AnthropicMessagesRequest;

/** `['messages', 2, 'role']` → `messages[2].role`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s === '' ? String(p) : `.${String(p)}`;
  }
  return s;
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/**
 * Whether a variant of a union took the value as its own: not when it failed on the value's type, on a tag
 * (a literal or enum), on finding no variant for the tag, or as the catch-all declining a checked tag.
 */
function claims(issues: readonly z.core.$ZodIssue[]): boolean {
  const i = issues[0];
  if (i === undefined) return false;
  if (i.code === 'invalid_type' && i.path.length === 0) return false;
  if (i.code === 'invalid_value' && i.path.length <= 1) return false;
  if (i.code === 'invalid_union' && i.errors.length === 0 && i.discriminator !== undefined) return false;
  return i.message !== NOT_THIS;
}

/** The issue to report and its full path: inside a union, the issue of the one variant that claims the value. */
function innermost(issue: z.core.$ZodIssue, dive: boolean): { issue: z.core.$ZodIssue; path: PropertyKey[] } {
  let path: PropertyKey[] = issue.path.slice();
  while (dive) {
    if (issue.code !== 'invalid_union') break;
    let claimed: readonly z.core.$ZodIssue[] | undefined;
    let n = 0;
    for (const branch of issue.errors)
      if (claims(branch)) {
        claimed = branch;
        n++;
      }
    if (n !== 1 || claimed === undefined) break;
    issue = claimed[0]!;
    path = path.concat(issue.path);
  }
  // UP: reported at the object holding the field, with the schema's own message.
  if (issue.message.startsWith(UP)) path.pop();
  return { issue, path };
}

function describe(issue: z.core.$ZodIssue, path: readonly PropertyKey[], body: unknown): string {
  if (issue.message.startsWith(UP) || issue.message.startsWith(AS_IS)) return issue.message.slice(1);
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && valueAt(body, path) === undefined)
    return 'is required';
  if (issue.code === 'invalid_value' && 'values' in issue)
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'invalid_union') return 'has the wrong type';
  return issue.message.replace(/^Invalid input: /, '');
}

/** `dive`: name the field inside the variant at fault (the request schemas); the envelope names the union. */
function fail(error: z.ZodError, body: unknown, dive: boolean): never {
  const { issue, path } = innermost(error.issues[0]!, dive);
  const param = formatPath(path);
  const msg = param === '' ? describe(issue, path, body) : `${param}: ${describe(issue, path, body)}`;
  throw new GatewayError('invalid_request', `Invalid request: ${msg}`, param === '' ? {} : { param });
}

function isObject(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/**
 * The slow path: the envelope schema, then the request schema (its errors name nested fields). The body
 * itself is returned, not zod's copy: identity is kept and nothing is copied per request.
 */
function check<T>(envelope: z.ZodType, request: z.ZodType<T>, body: unknown): T {
  if (!isObject(body)) throw new GatewayError('invalid_request', 'the request body must be a JSON object');
  const e = envelope.safeParse(body);
  if (!e.success) fail(e.error, body, false);
  if (accepts(request, body)) return body;
  return fail(request.safeParse(body).error!, body, true);
}

/** A schema's verdict as a type guard (the failing case parses again, for the issues: slow path only). */
function accepts<T>(schema: z.ZodType<T>, v: unknown): v is T {
  return schema.safeParse(v).success;
}

/** The check the schemas do not express: content is required but for assistant turns. */
function checkOpenAiMessages(b: OpenAIChatRequest): OpenAIChatRequest {
  const msgs = b.messages;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    if (m.role !== 'assistant' && (m.content === undefined || m.content === null))
      throw new GatewayError('invalid_request', `Invalid request: messages[${i}].content: is required`, {
        param: `messages[${i}].content`,
      });
  }
  return b;
}

/** An OpenAI chat.completions body, checked and typed. */
export function parseOpenAiChat(body: unknown): OpenAIChatRequest {
  return checkOpenAiMessages(fastOpenAiChat(body) ? body : check(OpenAiChatSchema, OpenAiChatRequestSchema, body));
}

/** An OpenAI embeddings body, checked and typed. */
export function parseOpenAiEmbeddings(body: unknown): OpenAIEmbeddingsRequest {
  return fastOpenAiEmbeddings(body) ? body : check(OpenAiEmbeddingsSchema, OpenAiEmbeddingsSchema, body);
}

/** An Anthropic Messages body, checked and typed. */
export function parseAnthropicMessages(body: unknown): AnthropicMessagesRequest {
  return fastAnthropicMessages(body) ? body : check(AnthropicMessagesSchema, AnthropicMessagesRequestSchema, body);
}

export function parseClientRequest(format: ClientFormat, operation: Operation, body: unknown): ClientRequestBody {
  if (format === 'openai') return operation === 'embeddings' ? parseOpenAiEmbeddings(body) : parseOpenAiChat(body);
  if (operation === 'embeddings')
    throw new GatewayError(
      'not_found',
      'the Anthropic API has no embeddings endpoint; use POST /v1/embeddings (OpenAI format)',
    );
  return parseAnthropicMessages(body);
}

/**
 * The typed view of a client body at the provider boundary (the adapters' BuildRequestInput.body). No check:
 * that body is the object parseClientRequest returned for the same client format and operation (the one check,
 * at the edge), but RoutedRequest and BuildRequestInput do not carry that link in their types (ADR 0052).
 */
export function validatedOpenAiChat(body: Readonly<Record<string, unknown>>): OpenAIChatRequest {
  return body as OpenAIChatRequest;
}

/** As validatedOpenAiChat, for an Anthropic Messages body. */
export function validatedAnthropicMessages(body: Readonly<Record<string, unknown>>): AnthropicMessagesRequest {
  return body as AnthropicMessagesRequest;
}
