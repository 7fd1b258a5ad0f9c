/**
 * Same-format pair: OpenAI client ⇄ OpenAI wire (OpenAI, Azure OpenAI, OpenAI-compatible servers).
 * Near-passthrough: the request gets the upstream model and, when streaming, stream_options.include_usage
 * (so usage is always metered); the usage-only final chunk is dropped again when the client did not ask.
 */
import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, str } from '../common/json.js';
import { upstreamHttpError, upstreamStreamError } from '../common/upstream-error.js';
import { usageFromOpenAi } from '../common/usage.js';
import type { ResponseTranslator, StreamTranslator, Usage } from '../types.js';

export function openAiPassthroughRequest(body: JsonObject, upstreamModel: string, stream: boolean): JsonObject {
  const out: JsonObject = { ...body, model: upstreamModel };
  if (stream) {
    const so = isRecord(body.stream_options) ? body.stream_options : {};
    if (so.include_usage !== true) out.stream_options = { ...so, include_usage: true };
  }
  return out;
}

class OpenAiPassthroughStream implements StreamTranslator {
  done = false;
  error: GatewayError | undefined;
  private u: Usage | undefined;
  private model: string | undefined;

  constructor(private readonly wantsUsage: boolean) {}

  usage(): Usage | undefined {
    return this.u;
  }
  responseModel(): string | undefined {
    return this.model;
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
    return [ev];
  }

  end(): SseEvent[] {
    return [];
  }
}

export const openAiToOpenAi: ResponseTranslator = {
  response(body) {
    if (!isRecord(body) || !Array.isArray(body.choices))
      throw badResponse('upstream OpenAI response has no choices array');
    return { body, usage: usageFromOpenAi(body.usage), responseModel: str(body.model) };
  },
  stream: ({ clientWantsUsage }) => new OpenAiPassthroughStream(clientWantsUsage),
  error: (status, bodyText, headers, context) => upstreamHttpError('openai', status, bodyText, headers, context),
};

/** Embeddings: OpenAI client → OpenAI wire, passthrough. */
export const openAiEmbeddings: ResponseTranslator = {
  response(body) {
    if (!isRecord(body) || !Array.isArray(body.data))
      throw badResponse('upstream embeddings response has no data array');
    return { body, usage: usageFromOpenAi(body.usage), responseModel: str(body.model) };
  },
  stream() {
    throw badResponse('embeddings do not stream');
  },
  error: (status, bodyText, headers, context) => upstreamHttpError('openai', status, bodyText, headers, context),
};
