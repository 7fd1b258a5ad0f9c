/**
 * Hand-written fast passes over the request schemas (schemas.ts and the nested parts in parts.ts), for the
 * common case of a valid body: one pass, no allocation. Each returns true only when the zod schemas would
 * accept the body too (so it may say the body's type); when it returns false the caller runs zod, which
 * decides and names the field at fault. So these may be stricter than zod, never laxer (fast-check.test.ts
 * checks that on generated bodies, nested parts included), and errors stay zod's.
 *
 * Why: per request, zod's parse is the largest single step between a request's headers and the upstream
 * call (it touches far more code and allocates a copy of the body), and at one request at a time that
 * cost is paid with cold caches.
 */

import type { AnthropicMessagesRequest, OpenAIChatRequest, OpenAIEmbeddingsRequest } from './schemas.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Absent (undefined) or null. */
function nil(v: unknown): boolean {
  return v === undefined || v === null;
}

function optBool(v: unknown): boolean {
  return nil(v) || typeof v === 'boolean';
}

/** nullish(z.number().int().positive()) */
function optPosInt(v: unknown): boolean {
  return nil(v) || (Number.isSafeInteger(v) && (v as number) > 0);
}

/** nullish(z.number().min(lo).max(hi)) */
function optRange(v: unknown, lo: number, hi: number): boolean {
  return nil(v) || (typeof v === 'number' && v >= lo && v <= hi);
}

function strings(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

/** z.looseObject({ type: z.string() }) */
function typed(v: unknown): boolean {
  return isObj(v) && typeof v.type === 'string';
}

/** An OpenAI content part (parts.ts openAiPart): checked tags by shape, any other tag as a string. */
function openAiPart(p: unknown): boolean {
  if (!isObj(p)) return false;
  switch (p.type) {
    case 'text':
      return typeof p.text === 'string';
    case 'image_url': {
      const iu = p.image_url;
      return typeof iu === 'string' || (isObj(iu) && typeof iu.url === 'string');
    }
    case 'refusal':
      return typeof p.refusal === 'string';
    default:
      return typeof p.type === 'string';
  }
}

/** A function tool call (`type` absent or "function") or a custom one (parts.ts openAiToolCall). */
function openAiToolCall(tc: unknown): boolean {
  if (!isObj(tc)) return false;
  if (tc.type === 'custom') return true;
  if (tc.type !== undefined && tc.type !== 'function') return false;
  const f = tc.function;
  return typeof tc.id === 'string' && isObj(f) && typeof f.name === 'string' && optString(f.arguments);
}

function optString(v: unknown): boolean {
  return nil(v) || typeof v === 'string';
}

/** `{type}`, and for type "function" a `function.name` (parts.ts openAiTool, the object forms of openAiToolChoice). */
function openAiFunctionTagged(v: unknown): boolean {
  if (!isObj(v) || typeof v.type !== 'string') return false;
  if (v.type !== 'function') return true;
  const f = v.function;
  return isObj(f) && typeof f.name === 'string';
}

function openAiMessage(m: unknown): boolean {
  if (!isObj(m)) return false;
  const role = m.role;
  if (
    role !== 'user' &&
    role !== 'system' &&
    role !== 'assistant' &&
    role !== 'tool' &&
    role !== 'developer' &&
    role !== 'function'
  )
    return false;
  const c = m.content;
  if (!nil(c) && typeof c !== 'string') {
    if (!Array.isArray(c)) return false;
    for (let i = 0; i < c.length; i++) if (!openAiPart(c[i])) return false;
  }
  const tcs = m.tool_calls;
  if (!nil(tcs)) {
    if (!Array.isArray(tcs)) return false;
    // Tool calls are read (and checked) in assistant turns only.
    if (role === 'assistant') for (let i = 0; i < tcs.length; i++) if (!openAiToolCall(tcs[i])) return false;
  }
  if (role === 'tool') return typeof m.tool_call_id === 'string';
  return m.tool_call_id === undefined || typeof m.tool_call_id === 'string';
}

/** True: OpenAiChatRequestSchema accepts `b`. False: run the schemas. */
export function fastOpenAiChat(b: unknown): b is OpenAIChatRequest {
  if (!isObj(b)) return false;
  if (typeof b.model !== 'string' || b.model.length === 0) return false;
  const msgs = b.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return false;
  for (let i = 0; i < msgs.length; i++) if (!openAiMessage(msgs[i])) return false;
  if (!optBool(b.stream)) return false;
  const so = b.stream_options;
  if (!nil(so) && !(isObj(so) && (so.include_usage === undefined || typeof so.include_usage === 'boolean')))
    return false;
  if (!optPosInt(b.max_tokens) || !optPosInt(b.max_completion_tokens) || !optPosInt(b.n)) return false;
  if (!optRange(b.temperature, 0, 2) || !optRange(b.top_p, 0, 1)) return false;
  if (!optRange(b.presence_penalty, -2, 2) || !optRange(b.frequency_penalty, -2, 2)) return false;
  const stop = b.stop;
  if (!nil(stop) && typeof stop !== 'string' && !strings(stop)) return false;
  if (!nil(b.seed) && !Number.isSafeInteger(b.seed)) return false;
  if (b.user !== undefined && typeof b.user !== 'string') return false;
  const tools = b.tools;
  if (!nil(tools)) {
    if (!Array.isArray(tools)) return false;
    for (let i = 0; i < tools.length; i++) if (!openAiFunctionTagged(tools[i])) return false;
  }
  const tc = b.tool_choice;
  if (!nil(tc) && tc !== 'auto' && tc !== 'none' && tc !== 'required' && !openAiFunctionTagged(tc)) return false;
  if (!optBool(b.parallel_tool_calls) || !optBool(b.logprobs)) return false;
  const tl = b.top_logprobs;
  if (!nil(tl) && !(Number.isSafeInteger(tl) && (tl as number) >= 0 && (tl as number) <= 20)) return false;
  return nil(b.response_format) || typed(b.response_format);
}

function ints(v: unknown[]): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) return false;
  return true;
}

/** True: OpenAiEmbeddingsSchema accepts `b`. False: run the schema. */
export function fastOpenAiEmbeddings(b: unknown): b is OpenAIEmbeddingsRequest {
  if (!isObj(b)) return false;
  if (typeof b.model !== 'string' || b.model.length === 0) return false;
  const input = b.input;
  if (typeof input !== 'string') {
    if (!Array.isArray(input) || input.length === 0) return false;
    const first = input[0];
    if (typeof first === 'string') {
      if (!strings(input)) return false;
    } else if (Array.isArray(first)) {
      for (let i = 0; i < input.length; i++) {
        const row = input[i];
        if (!Array.isArray(row) || !ints(row)) return false;
      }
    } else if (!ints(input)) return false;
  }
  const ef = b.encoding_format;
  if (ef !== undefined && ef !== 'float' && ef !== 'base64') return false;
  if (b.dimensions !== undefined && !(Number.isSafeInteger(b.dimensions) && (b.dimensions as number) > 0)) return false;
  return b.user === undefined || typeof b.user === 'string';
}

/** An image source (`text` too for a document): base64 and url by shape, any other type (or none) as is. */
function anthropicSource(s: unknown, document: boolean): boolean {
  if (!isObj(s)) return false;
  switch (s.type) {
    case 'base64':
      return typeof s.media_type === 'string' && typeof s.data === 'string';
    case 'url':
      return typeof s.url === 'string';
    case 'text':
      return !document || typeof s.data === 'string';
    default:
      return s.type === undefined || typeof s.type === 'string';
  }
}

/** A text block by shape, or (`image`: an image block by shape, or) any other tagged block. */
function textOrTagged(b: unknown, image: boolean): boolean {
  if (!isObj(b)) return false;
  if (b.type === 'text') return typeof b.text === 'string';
  if (image && b.type === 'image') return anthropicSource(b.source, false);
  return typeof b.type === 'string';
}

/** An Anthropic content block (parts.ts anthropicBlock). */
function anthropicBlock(b: unknown): boolean {
  if (!isObj(b)) return false;
  switch (b.type) {
    case 'text':
      return typeof b.text === 'string';
    case 'image':
      return anthropicSource(b.source, false);
    case 'document':
      return anthropicSource(b.source, true);
    case 'tool_use':
      return typeof b.id === 'string' && typeof b.name === 'string';
    case 'tool_result': {
      if (typeof b.tool_use_id !== 'string') return false;
      const c = b.content;
      if (nil(c) || typeof c === 'string') return true;
      if (!Array.isArray(c)) return false;
      for (let i = 0; i < c.length; i++) if (!textOrTagged(c[i], true)) return false;
      return true;
    }
    default:
      return typeof b.type === 'string';
  }
}

function anthropicMessage(m: unknown): boolean {
  if (!isObj(m)) return false;
  if (m.role !== 'user' && m.role !== 'assistant') return false;
  const c = m.content;
  if (typeof c === 'string') return true;
  if (!Array.isArray(c)) return false;
  for (let i = 0; i < c.length; i++) if (!anthropicBlock(c[i])) return false;
  return true;
}

/** parts.ts anthropicSystem: a string or text blocks (other tags as is). */
function optSystem(v: unknown): boolean {
  if (v === undefined || typeof v === 'string') return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!textOrTagged(v[i], false)) return false;
  return true;
}

/** True: AnthropicMessagesRequestSchema accepts `b`. False: run the schemas. */
export function fastAnthropicMessages(b: unknown): b is AnthropicMessagesRequest {
  if (!isObj(b)) return false;
  if (typeof b.model !== 'string' || b.model.length === 0) return false;
  if (!(Number.isSafeInteger(b.max_tokens) && (b.max_tokens as number) > 0)) return false;
  const msgs = b.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return false;
  for (let i = 0; i < msgs.length; i++) if (!anthropicMessage(msgs[i])) return false;
  if (!optSystem(b.system)) return false;
  if (b.stream !== undefined && typeof b.stream !== 'boolean') return false;
  const t = b.temperature;
  if (t !== undefined && !(typeof t === 'number' && t >= 0 && t <= 1)) return false;
  const p = b.top_p;
  if (p !== undefined && !(typeof p === 'number' && p >= 0 && p <= 1)) return false;
  const k = b.top_k;
  if (k !== undefined && !(Number.isSafeInteger(k) && (k as number) >= 0)) return false;
  if (b.stop_sequences !== undefined && !strings(b.stop_sequences)) return false;
  const md = b.metadata;
  if (md !== undefined && !(isObj(md) && (nil(md.user_id) || typeof md.user_id === 'string'))) return false;
  const tools = b.tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return false;
    for (let i = 0; i < tools.length; i++) {
      const tool = tools[i];
      if (!isObj(tool) || typeof tool.name !== 'string') return false;
    }
  }
  const tc = b.tool_choice;
  if (tc === undefined) return true;
  if (!isObj(tc)) return false;
  const ty = tc.type;
  if (ty === 'tool') return typeof tc.name === 'string';
  return ty === 'auto' || ty === 'any' || ty === 'none';
}
