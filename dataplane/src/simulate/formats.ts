/**
 * Pure builders of the simulated provider's wire formats: OpenAI chat.completion / chat.completion.chunk /
 * embeddings / model list, Anthropic Message and its stream events, and both providers' error bodies.
 * No I/O here; the server in ./server.ts writes what these return. Strings are assembled from
 * pre-serialized pieces because this is the upstream of the benchmarks and must cost little per request.
 */
import { anthropicErrorTypeForStatus } from '../errors.js';

/** Filler vocabulary the answers cycle through after their deterministic prefix. */
const FILLER = [
  'lorem',
  'ipsum',
  'dolor',
  'sit',
  'amet',
  'consectetur',
  'adipiscing',
  'elit',
  'sed',
  'do',
  'eiusmod',
  'tempor',
  'incididunt',
  'ut',
  'labore',
  'et',
  'dolore',
  'magna',
  'aliqua.',
];

/**
 * The answer as a list of tokens (one token = one stream chunk = one unit of output usage). Deterministic:
 * it says how many words the prompt had, then cycles the filler vocabulary up to `count` tokens. Every
 * token but the first carries its leading space, so joining the tokens gives the full text.
 */
export function answerTokens(promptWords: number, count: number): string[] {
  const words = ['Simulated', 'answer', 'to', `${promptWords}`, promptWords === 1 ? 'word:' : 'words:'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const w = i < words.length ? words[i]! : FILLER[(i - words.length) % FILLER.length]!;
    out.push(i === 0 ? w : ` ${w}`);
  }
  return out;
}

/** Cache of JSON-escaped tokens: the same few strings are sent millions of times in a benchmark. */
const escaped = new Map<string, string>();
export function jsonString(s: string): string {
  let e = escaped.get(s);
  if (e === undefined) {
    e = JSON.stringify(s);
    if (escaped.size < 10_000) escaped.set(s, e);
  }
  return e;
}

/** Counts whitespace-separated words: the simulator's honest-enough input token count. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 9 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/** Words in a message `content`: a string, or an array of parts whose `text` fields count. */
export function contentWords(content: unknown): number {
  if (typeof content === 'string') return countWords(content);
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content) {
    if (part !== null && typeof part === 'object') {
      const text = (part as { text?: unknown }).text;
      if (typeof text === 'string') n += countWords(text);
    }
  }
  return n;
}

/** Input words of an OpenAI chat request or an Anthropic messages request (with its `system`). */
export function promptWords(messages: readonly unknown[], system?: unknown): number {
  let n = contentWords(system);
  for (const m of messages) {
    if (m !== null && typeof m === 'object') n += contentWords((m as { content?: unknown }).content);
  }
  return n;
}

let idCounter = 0;
/** A short unique id (the simulator does not need randomness here; uniqueness per process is enough). */
export function nextId(prefix: string): string {
  idCounter = (idCounter + 1) % 0x7fffffff;
  return `${prefix}${process.pid.toString(36)}${idCounter.toString(36).padStart(6, '0')}`;
}

// ---------------------------------------------------------------- OpenAI

export interface OpenAIUsage {
  prompt: number;
  completion: number;
}

function openaiUsageJson(u: OpenAIUsage): string {
  return `{"prompt_tokens":${u.prompt},"completion_tokens":${u.completion},"total_tokens":${u.prompt + u.completion},"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`;
}

/** A whole `chat.completion` object. */
export function openaiCompletion(
  id: string,
  created: number,
  model: string,
  text: string,
  finishReason: 'stop' | 'length',
  usage: OpenAIUsage,
): string {
  return `{"id":"${id}","object":"chat.completion","created":${created},"model":${jsonString(model)},"choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(text)},"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"${finishReason}"}],"usage":${openaiUsageJson(usage)},"service_tier":"default","system_fingerprint":null}`;
}

/**
 * The pieces of one `chat.completion.chunk` stream. The per-request prefix is built once; each content
 * chunk is then prefix + escaped token + a constant suffix.
 */
export class OpenAIChunkWriter {
  private readonly head: string;
  private readonly usageField: string;

  constructor(id: string, created: number, model: string, includeUsage: boolean) {
    this.head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${jsonString(model)},"service_tier":"default","system_fingerprint":null,"choices":[`;
    this.usageField = includeUsage ? ',"usage":null' : '';
  }

  /** The first chunk: the assistant role with empty content. */
  role(): string {
    return `${this.head}{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]${this.usageField}}\n\n`;
  }

  content(token: string): string {
    return `${this.head}{"index":0,"delta":{"content":${jsonString(token)}},"logprobs":null,"finish_reason":null}]${this.usageField}}\n\n`;
  }

  finish(reason: 'stop' | 'length'): string {
    return `${this.head}{"index":0,"delta":{},"logprobs":null,"finish_reason":"${reason}"}]${this.usageField}}\n\n`;
  }

  /** The extra usage chunk sent when `stream_options.include_usage` is true: empty choices. */
  usage(u: OpenAIUsage): string {
    return `${this.head}],"usage":${openaiUsageJson(u)}}\n\n`;
  }

  static readonly DONE = 'data: [DONE]\n\n';
}

/** Deterministic embedding for an input: values in [-1, 1) from a hash of the text, then L2-normalized. */
export function embeddingVector(text: string, dims: number): Float32Array {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) ^ i;
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    const x = ((h >>> 0) / 4294967296) * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  const k = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dims; i++) v[i] = v[i]! * k;
  return v;
}

/** An embeddings `list` response; `base64` encodes little-endian float32 as the OpenAI API does. */
export function openaiEmbeddings(
  model: string,
  inputs: readonly string[],
  dims: number,
  encoding: 'float' | 'base64',
  promptTokens: number,
): string {
  const data: string[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const v = embeddingVector(inputs[i]!, dims);
    const emb =
      encoding === 'base64'
        ? `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"`
        : `[${Array.prototype.join.call(v, ',')}]`;
    data.push(`{"object":"embedding","index":${i},"embedding":${emb}}`);
  }
  return `{"object":"list","data":[${data.join(',')}],"model":${jsonString(model)},"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}`;
}

/** `GET /v1/models`. */
export function openaiModelList(models: readonly string[], created: number): string {
  const data = models.map(
    (m) => `{"id":${jsonString(m)},"object":"model","created":${created},"owned_by":"tollgate-simulate"}`,
  );
  return `{"object":"list","data":[${data.join(',')}]}`;
}

/** OpenAI error types by status, as the API answers them. */
function openaiErrorType(status: number): { type: string; code: string | null } {
  if (status === 400) return { type: 'invalid_request_error', code: null };
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 403) return { type: 'invalid_request_error', code: null };
  if (status === 404) return { type: 'invalid_request_error', code: 'model_not_found' };
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' };
  return { type: 'server_error', code: null };
}

export function openaiError(status: number, message: string, param: string | null = null): string {
  const { type, code } = openaiErrorType(status);
  return `{"error":{"message":${JSON.stringify(message)},"type":"${type}","param":${param === null ? 'null' : jsonString(param)},"code":${code === null ? 'null' : `"${code}"`}}}`;
}

// ---------------------------------------------------------------- Anthropic

export interface AnthropicUsage {
  input: number;
  output: number;
}

function anthropicUsageJson(u: AnthropicUsage): string {
  return `{"input_tokens":${u.input},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":${u.output},"service_tier":"standard"}`;
}

export type AnthropicStopReason = 'end_turn' | 'max_tokens';

/** A whole Anthropic `message` object. */
export function anthropicMessage(
  id: string,
  model: string,
  text: string,
  stopReason: AnthropicStopReason,
  usage: AnthropicUsage,
): string {
  return `{"id":"${id}","type":"message","role":"assistant","model":${jsonString(model)},"content":[{"type":"text","text":${JSON.stringify(text)}}],"stop_reason":"${stopReason}","stop_sequence":null,"usage":${anthropicUsageJson(usage)}}`;
}

/** The events of an Anthropic message stream, in the documented order. */
export const anthropicEvents = {
  /** message_start + content_block_start + ping, sent together as the stream's head. */
  start(id: string, model: string, inputTokens: number): string {
    return (
      `event: message_start\ndata: {"type":"message_start","message":{"id":"${id}","type":"message","role":"assistant","model":${jsonString(model)},"content":[],"stop_reason":null,"stop_sequence":null,"usage":${anthropicUsageJson({ input: inputTokens, output: 1 })}}}\n\n` +
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
      'event: ping\ndata: {"type":"ping"}\n\n'
    );
  },
  delta(token: string): string {
    return `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${jsonString(token)}}}\n\n`;
  },
  /** content_block_stop + message_delta (stop reason, cumulative output usage) + message_stop. */
  end(stopReason: AnthropicStopReason, outputTokens: number): string {
    return (
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
      `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"${stopReason}","stop_sequence":null},"usage":{"output_tokens":${outputTokens}}}\n\n` +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    );
  },
  /** An error event in the middle of a stream (Anthropic sends these, e.g. overloaded_error). */
  error(status: number, message: string): string {
    return `event: error\ndata: ${anthropicError(status, message)}\n\n`;
  },
};

export function anthropicError(status: number, message: string): string {
  return `{"type":"error","error":{"type":"${anthropicErrorTypeForStatus(status)}","message":${JSON.stringify(message)}}}`;
}
