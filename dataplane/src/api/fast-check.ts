/**
 * Hand-written fast passes over the envelope schemas (schemas.ts), for the common case of a valid body.
 * Each returns true only when the zod schema would accept the body too; when it returns false the caller
 * runs the zod schema, which decides and names the field at fault. So these may be stricter than zod, never
 * laxer (fast-check.test.ts checks that on generated bodies), and errors stay zod's.
 *
 * Why: per request, zod's parse is the largest single step between a request's headers and the upstream
 * call (it touches far more code and allocates a copy of the body), and at one request at a time that
 * cost is paid with cold caches.
 */

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

function allTyped(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!typed(v[i])) return false;
  return true;
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
  if (!nil(c) && typeof c !== 'string' && !Array.isArray(c)) return false;
  if (!nil(m.tool_calls) && !Array.isArray(m.tool_calls)) return false;
  return m.tool_call_id === undefined || typeof m.tool_call_id === 'string';
}

/** True: OpenAiChatSchema accepts `b`. False: run the schema. */
export function fastOpenAiChat(b: unknown): boolean {
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
  if (!nil(b.tools) && !allTyped(b.tools)) return false;
  const tc = b.tool_choice;
  if (!nil(tc) && tc !== 'auto' && tc !== 'none' && tc !== 'required' && !typed(tc)) return false;
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
export function fastOpenAiEmbeddings(b: unknown): boolean {
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

function anthropicMessage(m: unknown): boolean {
  if (!isObj(m)) return false;
  if (m.role !== 'user' && m.role !== 'assistant') return false;
  return typeof m.content === 'string' || allTyped(m.content);
}

/** z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional() */
function optTextOrBlocks(v: unknown): boolean {
  return v === undefined || typeof v === 'string' || allTyped(v);
}

/** True: AnthropicMessagesSchema accepts `b`. False: run the schema. */
export function fastAnthropicMessages(b: unknown): boolean {
  if (!isObj(b)) return false;
  if (typeof b.model !== 'string' || b.model.length === 0) return false;
  if (!(Number.isSafeInteger(b.max_tokens) && (b.max_tokens as number) > 0)) return false;
  const msgs = b.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return false;
  for (let i = 0; i < msgs.length; i++) if (!anthropicMessage(msgs[i])) return false;
  if (!optTextOrBlocks(b.system)) return false;
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
  return ty === 'auto' || ty === 'any' || ty === 'tool' || ty === 'none';
}
