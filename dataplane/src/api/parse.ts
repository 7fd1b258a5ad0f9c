/**
 * The one check of client request bodies, run per request before routing: envelope by zod, messages
 * shallowly. A hand-written fast pass (fast-check.ts) goes first; zod runs only when it does not vouch for
 * the body, so errors are always zod's. Returns the body itself (unknown fields kept); throws
 * GatewayError('invalid_request') naming the first wrong field.
 */
import type { z } from 'zod';
import { type ClientFormat, GatewayError } from '../errors.js';
import type { Operation } from '../providers/types.js';
import { fastAnthropicMessages, fastOpenAiChat, fastOpenAiEmbeddings } from './fast-check.js';
import { AnthropicMessagesSchema, OpenAiChatSchema, OpenAiEmbeddingsSchema } from './schemas.js';

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

function describe(issue: z.core.$ZodIssue, body: unknown): string {
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && valueAt(body, issue.path) === undefined)
    return 'is required';
  if (issue.code === 'invalid_value' && 'values' in issue)
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'invalid_union') return 'has the wrong type';
  return issue.message.replace(/^Invalid input: /, '');
}

function check(schema: z.ZodType, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new GatewayError('invalid_request', 'the request body must be a JSON object');
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const param = formatPath(issue.path);
    const msg = param === '' ? describe(issue, body) : `${param}: ${describe(issue, body)}`;
    throw new GatewayError('invalid_request', `Invalid request: ${msg}`, param === '' ? {} : { param });
  }
  return body as Record<string, unknown>;
}

export function parseClientRequest(format: ClientFormat, operation: Operation, body: unknown): Record<string, unknown> {
  if (format === 'openai') {
    if (operation === 'embeddings')
      return fastOpenAiEmbeddings(body) ? (body as Record<string, unknown>) : check(OpenAiEmbeddingsSchema, body);
    const b = fastOpenAiChat(body) ? (body as Record<string, unknown>) : check(OpenAiChatSchema, body);
    const msgs = b.messages as Record<string, unknown>[];
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      if (m.role === 'tool' && typeof m.tool_call_id !== 'string')
        throw new GatewayError(
          'invalid_request',
          `Invalid request: messages[${i}].tool_call_id: is required for role tool`,
          {
            param: `messages[${i}].tool_call_id`,
          },
        );
      if (m.role !== 'assistant' && (m.content === undefined || m.content === null))
        throw new GatewayError('invalid_request', `Invalid request: messages[${i}].content: is required`, {
          param: `messages[${i}].content`,
        });
    }
    return b;
  }
  if (operation === 'embeddings')
    throw new GatewayError(
      'not_found',
      'the Anthropic API has no embeddings endpoint; use POST /v1/embeddings (OpenAI format)',
    );
  return fastAnthropicMessages(body) ? (body as Record<string, unknown>) : check(AnthropicMessagesSchema, body);
}
