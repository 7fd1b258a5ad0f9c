/**
 * Same-format pair: OpenAI client ⇄ OpenAI wire (OpenAI, Azure OpenAI, OpenAI-compatible servers).
 * Near-passthrough: the request gets the upstream model and, when streaming, stream_options.include_usage
 * (so usage is always metered); the usage-only final chunk is dropped again when the client did not ask.
 */
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, str } from '../common/json.js';
import { addOpenAiToolCall, openAiBodyText } from '../common/openai-out.js';
import { BaseStream, OutputText, passthroughResponse } from '../common/stream.js';
import { upstreamHttpError, upstreamStreamError } from '../common/upstream-error.js';
import { usageFromOpenAi } from '../common/usage.js';
import type { ResponseTranslator } from '../types.js';

export function openAiPassthroughRequest(body: JsonObject, upstreamModel: string, stream: boolean): JsonObject {
  const out: JsonObject = { ...body, model: upstreamModel };
  if (stream) {
    const so = isRecord(body.stream_options) ? body.stream_options : {};
    if (so.include_usage !== true) out.stream_options = { ...so, include_usage: true };
  }
  return out;
}

class OpenAiPassthroughStream extends BaseStream {
  private readonly output = new OutputText();

  constructor(private readonly wantsUsage: boolean) {
    super();
  }

  outputText(): string {
    return this.output.text();
  }

  event(ev: SseEvent): SseEvent[] {
    if (this.done) return [];
    if (ev.data === '[DONE]') {
      this.done = true;
      return [ev];
    }
    const d = parseUpstreamJson(ev.data, 'stream chunk');
    if (d.error !== undefined) {
      this.error = upstreamStreamError(d.error);
      this.done = true;
      return [ev];
    }
    if (!Array.isArray(d.choices)) throw badResponse('upstream stream chunk has no choices array');
    if (this.model === undefined) this.model = str(d.model);
    if (isRecord(d.usage)) {
      this.u = usageFromOpenAi(d.usage);
      if (!this.wantsUsage && d.choices.length === 0) return [];
    }
    const delta = isRecord(d.choices[0]) ? d.choices[0].delta : undefined;
    if (isRecord(delta)) {
      if (typeof delta.content === 'string') this.output.add(delta.content);
      if (typeof delta.refusal === 'string') this.output.add(delta.refusal);
      if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) addOpenAiToolCall(tc, this.output);
    }
    return [ev];
  }
}

export const openAiToOpenAi: ResponseTranslator = {
  response: passthroughResponse(
    'choices',
    'upstream OpenAI response has no choices array',
    usageFromOpenAi,
    openAiBodyText,
  ),
  stream: ({ clientWantsUsage }) => new OpenAiPassthroughStream(clientWantsUsage),
  error: (status, bodyText, headers, context) => upstreamHttpError('openai', status, bodyText, headers, context),
};

/** Embeddings: OpenAI client → OpenAI wire, passthrough (no output text: embeddings have no output tokens). */
export const openAiEmbeddings: ResponseTranslator = {
  response: passthroughResponse('data', 'upstream embeddings response has no data array', usageFromOpenAi, () => ''),
  stream() {
    throw badResponse('embeddings do not stream');
  },
  error: (status, bodyText, headers, context) => upstreamHttpError('openai', status, bodyText, headers, context),
};
