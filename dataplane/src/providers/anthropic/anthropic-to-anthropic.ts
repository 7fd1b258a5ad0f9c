/**
 * Same-format pair: Anthropic client ⇄ Anthropic wire. Near-passthrough: the request gets the upstream model,
 * responses and stream events go back untouched (events are parsed only where usage or the model is read).
 */

import type { SseEvent } from '../../sse/sse.js';
import { addAnthropicBlock, anthropicBodyText } from '../common/anthropic-out.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, str } from '../common/json.js';
import { BaseStream, OutputText, passthroughResponse } from '../common/stream.js';
import { upstreamHttpError, upstreamStreamError } from '../common/upstream-error.js';
import { mergeAnthropicDeltaUsage, usageFromAnthropic } from '../common/usage.js';
import type { ResponseTranslator } from '../types.js';

export function anthropicPassthroughRequest(body: JsonObject, upstreamModel: string): JsonObject {
  return { ...body, model: upstreamModel };
}

class AnthropicPassthroughStream extends BaseStream {
  /** Unparsed data of the content events, read only by outputText() (the pass-through does not parse them). */
  private readonly contentEvents: string[] = [];

  outputText(): string {
    const out = new OutputText();
    for (const data of this.contentEvents) {
      let d: unknown;
      try {
        d = JSON.parse(data);
      } catch {
        continue; // the client got it as it was; it adds no countable text
      }
      if (isRecord(d)) addAnthropicBlock(d.delta ?? d.content_block, out);
    }
    return out.text();
  }

  event(ev: SseEvent): SseEvent[] {
    if (this.done) return [];
    switch (ev.event) {
      case 'content_block_delta':
      case 'content_block_start':
        this.contentEvents.push(ev.data);
        break;
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
}

export const anthropicToAnthropic: ResponseTranslator = {
  response: passthroughResponse(
    'content',
    'upstream Anthropic response has no content array',
    usageFromAnthropic,
    anthropicBodyText,
  ),
  stream: () => new AnthropicPassthroughStream(),
  error: (status, bodyText, headers, context) => upstreamHttpError('anthropic', status, bodyText, headers, context),
};
