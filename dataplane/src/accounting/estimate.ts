/**
 * Token estimation for when a provider reports no usage (a stream cut short, an upstream that omits it)
 * and rough reservations for token/cost quotas before a call.
 *
 * The tokenizer (js-tiktoken, o200k_base for the GPT-4o/4.1/5/o-series families, cl100k_base otherwise)
 * is loaded lazily, once per encoding, on the first estimate that needs it; never per request. Estimation
 * runs after the response has been sent, off the client's critical path.
 */
import type { Tiktoken } from 'js-tiktoken/lite';
import type { Operation, Usage } from '../providers/types.js';

export type EncodingName = 'o200k_base' | 'cl100k_base';

const O200K_RE = /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt|o[1-9]|codex)/;

/** The encoding used to estimate a model's tokens (other vendors' models: cl100k as an approximation). */
export function encodingFor(model: string): EncodingName {
  return O200K_RE.test(model) ? 'o200k_base' : 'cl100k_base';
}

const encoders = new Map<EncodingName, Promise<Tiktoken>>();

/** The encoder, loaded once; concurrent callers share one load. */
export function loadEncoder(name: EncodingName): Promise<Tiktoken> {
  let p = encoders.get(name);
  if (!p) {
    p = (async () => {
      const { Tiktoken } = await import('js-tiktoken/lite');
      const ranks =
        name === 'o200k_base'
          ? (await import('js-tiktoken/ranks/o200k_base')).default
          : (await import('js-tiktoken/ranks/cl100k_base')).default;
      return new Tiktoken(ranks);
    })();
    p.catch(() => encoders.delete(name));
    encoders.set(name, p);
  }
  return p;
}

export async function countTokens(text: string, model: string): Promise<number> {
  if (text.length === 0) return 0;
  const enc = await loadEncoder(encodingFor(model));
  return enc.encode(text, 'all').length;
}

/** Per-message framing tokens in chat formats (OpenAI's documented count: 3 per message, 3 to prime the reply). */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;

/** The text a request sends as input, with the number of chat messages (for framing overhead). */
export function requestText(operation: Operation, body: Record<string, unknown>): { text: string; messages: number } {
  const parts: string[] = [];
  let messages = 0;
  if (operation === 'embeddings') {
    collectText(body.input, parts);
    return { text: parts.join('\n'), messages: 0 };
  }
  if (body.system !== undefined) {
    collectText(body.system, parts);
    messages++;
  }
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      messages++;
      if (m && typeof m === 'object') {
        const msg = m as Record<string, unknown>;
        collectText(msg.content, parts);
        if (msg.tool_calls !== undefined) collectText(msg.tool_calls, parts);
      }
    }
  }
  if (body.tools !== undefined) parts.push(JSON.stringify(body.tools));
  return { text: parts.join('\n'), messages };
}

/** Walks content: strings, arrays of parts, `{text}`, `{content}` (tool results), function arguments. */
function collectText(v: unknown, out: string[]): void {
  if (typeof v === 'string') {
    out.push(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) collectText(x, out);
    return;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.text === 'string') out.push(o.text);
    if (o.content !== undefined) collectText(o.content, out);
    if (o.function && typeof o.function === 'object') {
      const f = o.function as Record<string, unknown>;
      if (typeof f.name === 'string') out.push(f.name);
      if (typeof f.arguments === 'string') out.push(f.arguments);
    }
    if (o.input !== undefined && typeof o.name === 'string') out.push(o.name, JSON.stringify(o.input));
  }
}

export interface EstimateInput {
  operation: Operation;
  /** The client's request body. */
  body: Record<string, unknown>;
  /** Text the client received so far (completion), when known. */
  outputText?: string;
  /** Model used to pick the tokenizer. */
  model: string;
}

/** Usage estimated with a tokenizer, `estimated: true`. */
export async function estimateUsage(input: EstimateInput): Promise<Usage> {
  const { text, messages } = requestText(input.operation, input.body);
  const inputTokens =
    (await countTokens(text, input.model)) + (messages > 0 ? messages * PER_MESSAGE + REPLY_PRIMING : 0);
  const outputTokens = input.outputText ? await countTokens(input.outputText, input.model) : 0;
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens: 0,
    cacheCreationTokens: 0,
    reasoningTokens: 0,
    estimated: true,
  };
}

/**
 * Rough input tokens for a reservation, no tokenizer: ~3 bytes per token is above the real count for
 * typical text (BPE averages ~4 characters per token) and the body's JSON framing adds more margin.
 */
export function roughInputTokens(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 3);
}

/** Requested output ceiling: OpenAI `max_completion_tokens` / `max_tokens`, Anthropic `max_tokens`. */
export function requestedMaxTokens(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : undefined;
}
