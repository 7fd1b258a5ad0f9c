/**
 * Opt-in prompt and completion logging (`--log-content`, TOLLGATE_LOG_CONTENT=true): what of a request and
 * its answer goes into the access log, and the cap that keeps one line bounded. Off by default; when off
 * nothing here runs.
 */

/** Content logging settings, parsed once from flags and env. */
export interface ContentLogOptions {
  /** Cap, in UTF-8 bytes, of each of the request and completion texts (before JSON escaping). */
  readonly maxBytes: number;
}

export const DEFAULT_CONTENT_MAX_BYTES = 16384;

/** The body fields that carry what the client sends the model: chat (both formats), embeddings, completions. */
const PROMPT_FIELDS = ['system', 'messages', 'input', 'prompt'] as const;

/**
 * The prompt content of a client's parsed body as JSON text, e.g. `{"messages":[...]}` or
 * `{"system":"...","messages":[...]}` or `{"input":"..."}`. Parameters (model, temperature, tools) and
 * anything outside the body (headers, the API key) are not part of it.
 */
export function requestContent(body: Readonly<Record<string, unknown>>): string {
  const picked: Record<string, unknown> = {};
  for (const f of PROMPT_FIELDS) if (body[f] !== undefined) picked[f] = body[f];
  return JSON.stringify(picked);
}

export interface Capped {
  readonly text: string;
  readonly truncated: boolean;
}

/** `text` cut to at most `maxBytes` bytes of UTF-8, never inside a character. */
export function capUtf8(text: string, maxBytes: number): Capped {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short texts need no encoding to know they fit.
  if (text.length * 3 <= maxBytes) return { text, truncated: false };
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return { text: buf.toString('utf8', 0, end), truncated: true };
}

/** The access-log fields of content logging: `request`, `completion`, and `*_truncated` when cut. */
export function contentFields(
  options: ContentLogOptions,
  body: Readonly<Record<string, unknown>> | undefined,
  completion: string | undefined,
): Record<string, string | boolean | undefined> {
  const out: Record<string, string | boolean | undefined> = {};
  if (body !== undefined) {
    const r = capUtf8(requestContent(body), options.maxBytes);
    out.request = r.text;
    if (r.truncated) out.request_truncated = true;
  }
  if (completion !== undefined) {
    const c = capUtf8(completion, options.maxBytes);
    out.completion = c.text;
    if (c.truncated) out.completion_truncated = true;
  }
  return out;
}
