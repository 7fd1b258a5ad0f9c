/**
 * The exact cache key (ADR 0070): a SHA-256 over the canonical JSON of everything that changes the answer —
 * the scope (the route's namespace, or the key for scope perKey), the operation, the client format, the model
 * the client asked for, the normalised request and the allow-listed client headers forwarded upstream
 * (anthropic-beta ...) — and nothing that does not (`stream`, `stream_options`, `user`, `metadata`, prompt
 * cache markers, key order). Pure: a table test (key.test.ts) says what changes a key and what does not.
 *
 * Normalised (client-format equivalents that mean the same request):
 * - OpenAI `max_completion_tokens` and the older `max_tokens`: one field;
 * - `stop: "x"` and `stop: ["x"]` (OpenAI), a content (or an Anthropic `system`) given as a string or as one
 *   text block;
 * - Anthropic `cache_control` markers (provider prompt caching: billing, not the answer).
 * Every other field is kept as sent: a field this module does not know may change the answer.
 *
 * Embeddings are keyed per input item (embeddingItemKeys): a batch is served from the cache item by item.
 * The Responses API is not in the tree; when it is, it gets its own normaliser here (CachedOperation).
 */
import { createHash } from 'node:crypto';
import { ANONYMOUS_SCOPE } from '../../../contract/shared-state.js';
import { canonicalJson } from '../config/canonical-json.js';
import type { ClientFormat } from '../errors.js';

/** Bumped when the normalisation changes meaning (old entries then simply miss). */
const KEY_VERSION = 1;

/** Request fields that never change the answer. */
const IGNORED: ReadonlySet<string> = new Set(['stream', 'stream_options', 'user', 'metadata', 'model']);

/** Where entries are shared: a namespace's keys, or one key. */
export function cacheScope(scope: 'namespace' | 'perKey', namespace: string, keyId: string | undefined): string {
  return scope === 'perKey' ? `key:${keyId ?? ANONYMOUS_SCOPE}` : `ns:${namespace}`;
}

export interface KeyInput {
  readonly format: ClientFormat;
  /** The model the client asked for. */
  readonly model: string;
  readonly body: Readonly<Record<string, unknown>>;
  /** Allow-listed client headers the adapters forward (they may change the answer). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** The digest (hex SHA-256) of a chat request. */
export function chatKey(k: KeyInput): string {
  const body = k.format === 'anthropic' ? normaliseAnthropic(k.body) : normaliseOpenAI(k.body);
  return digest([KEY_VERSION, 'chat', k.format, k.model, body, k.headers ?? null]);
}

/**
 * One digest per input item of an embeddings request (the rest of the body — encoding_format, dimensions —
 * is part of every item's key). Undefined when the input is not a list of items the cache can split
 * (the request then goes upstream uncached).
 */
export function embeddingItemKeys(k: KeyInput): string[] | undefined {
  const items = embeddingItems(k.body.input);
  if (items === undefined) return undefined;
  const rest = strip(k.body, 'input');
  const keys: string[] = new Array(items.length);
  for (let i = 0; i < items.length; i++)
    keys[i] = digest([KEY_VERSION, 'embeddings', k.format, k.model, rest, k.headers ?? null, items[i]]);
  return keys;
}

/**
 * The items of an embeddings `input`: a string is one item, a token array (numbers) is one item, a list of
 * strings or of token arrays is one item each. Undefined: empty or not one of those shapes.
 */
export function embeddingItems(input: unknown): readonly unknown[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((v) => typeof v === 'number')) return [input];
  if (input.every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((n) => typeof n === 'number'))))
    return input;
  return undefined;
}

function digest(parts: unknown[]): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

function strip(body: Readonly<Record<string, unknown>>, also?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in body) if (!IGNORED.has(k) && k !== also) out[k] = body[k];
  return out;
}

function normaliseOpenAI(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = strip(body);
  if (out.max_completion_tokens === undefined && out.max_tokens !== undefined) {
    out.max_completion_tokens = out.max_tokens;
  }
  delete out.max_tokens;
  if (typeof out.stop === 'string') out.stop = [out.stop];
  if (Array.isArray(out.messages)) out.messages = out.messages.map(openAIMessage);
  return out;
}

function openAIMessage(m: unknown): unknown {
  if (!isRecord(m)) return m;
  const text = textOnly(m.content, false);
  return text === undefined ? m : { ...m, content: text };
}

function normaliseAnthropic(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = dropCacheControl(strip(body)) as Record<string, unknown>;
  const system = textOnly(out.system, true);
  if (system !== undefined) out.system = system;
  if (Array.isArray(out.messages)) out.messages = out.messages.map(anthropicMessage);
  return out;
}

function anthropicMessage(m: unknown): unknown {
  if (!isRecord(m)) return m;
  const text = textOnly(m.content, true);
  return text === undefined ? m : { ...m, content: text };
}

/**
 * A content that is one text block, as its string (the same prompt as the string form); undefined otherwise.
 * Several text blocks are kept as they are: how a provider joins them is its own business.
 */
function textOnly(content: unknown, anthropic: boolean): string | undefined {
  if (!Array.isArray(content) || content.length !== 1) return undefined;
  const b: unknown = content[0];
  if (!isRecord(b) || b.type !== 'text' || typeof b.text !== 'string') return undefined;
  for (const k in b) if (k !== 'type' && k !== 'text' && !(anthropic && k === 'cache_control')) return undefined;
  return b.text;
}

/** Anthropic prompt-caching markers anywhere in the body: they change the bill, not the answer. */
function dropCacheControl(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropCacheControl);
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k in v) if (k !== 'cache_control') out[k] = dropCacheControl(v[k]);
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
