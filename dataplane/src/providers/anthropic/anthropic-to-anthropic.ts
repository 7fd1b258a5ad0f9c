/**
 * Same-format pair: Anthropic client ⇄ Anthropic wire. Near-passthrough: the request gets the upstream model,
 * responses and stream events go back untouched (events are parsed only where usage or the model is read).
 */

import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, str } from '../common/json.js';
import { upstreamHttpError, upstreamStreamError } from '../common/upstream-error.js';
import { mergeAnthropicDeltaUsage, usageFromAnthropic } from '../common/usage.js';
import type { ResponseTranslator, StreamTranslator, Usage } from '../types.js';

export function anthropicPassthroughRequest(body: JsonObject, upstreamModel: string): JsonObject {
  return { ...body, model: upstreamModel };
}

class AnthropicPassthroughStream implements StreamTranslator {
  done = false;
  error: GatewayError | undefined;
  private u: Usage | undefined;
  private model: string | undefined;

  usage(): Usage | undefined {
    return this.u;
  }
  responseModel(): string | undefined {
    return this.model;
  }

  event(ev: SseEvent): SseEvent[] {
    if (this.done) return [];
    switch (ev.event) {
      case 'message_start': {
        const d = parseUpstreamJson(ev.data, 'stream event message_start');
        if (!isRecord(d.message)) throw badResponse('upstream message_start has no message');
        this.model = str(d.message.model);
        this.u = usageFromAnthropic(d.message.usage);
        break;
      }
      case 'message_delta': {
        const d = parseUpstreamJson(ev.data, 'stream event message_delta');
        this.u = mergeAnthropicDeltaUsage(this.u, d.usage);
        break;
      }
      case 'message_stop':
        this.done = true;
        break;
      case 'error': {
        const d = parseUpstreamJson(ev.data, 'stream event error');
        this.error = upstreamStreamError(d.error);
        this.done = true;
        break;
      }
      case undefined:
        throw badResponse('upstream Anthropic stream sent an event without an event name');
    }
    return [ev];
  }

  end(): SseEvent[] {
    return [];
  }
}

export const anthropicToAnthropic: ResponseTranslator = {
  response(body) {
    if (!isRecord(body) || !Array.isArray(body.content))
      throw badResponse('upstream Anthropic response has no content array');
    return { body, usage: usageFromAnthropic(body.usage), responseModel: str(body.model) };
  },
  stream: () => new AnthropicPassthroughStream(),
  error: (status, bodyText, headers, context) => upstreamHttpError('anthropic', status, bodyText, headers, context),
};
