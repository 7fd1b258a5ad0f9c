/**
 * Response translation: Anthropic Messages (the wire) → OpenAI chat.completions (the client):
 * non-streaming bodies, stream events (→ chat.completion.chunk + `data: [DONE]`) and errors. Pure.
 */
import type { SseEvent } from '../../sse/sse.js';
import { finishReasonFromAnthropic } from '../common/finish.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, str, unixNow } from '../common/json.js';
import {
  OpenAiChunkWriter,
  openAiBodyText,
  openAiCompletion,
  openAiErrorEvent,
  openAiToolCall,
} from '../common/openai-out.js';
import { BaseStream } from '../common/stream.js';
import { upstreamHttpError, upstreamStreamError } from '../common/upstream-error.js';
import { mergeAnthropicDeltaUsage, usageFromAnthropic } from '../common/usage.js';
import type { ResponseTranslator, TranslatedResponse, TranslateOptions } from '../types.js';

export function anthropicToOpenAiResponse(body: unknown, options: TranslateOptions = {}): TranslatedResponse {
  if (!isRecord(body) || !Array.isArray(body.content))
    throw badResponse('upstream Anthropic response has no content array');
  let text = '';
  let hasText = false;
  const toolCalls: JsonObject[] = [];
  for (const b of body.content) {
    if (!isRecord(b)) throw badResponse('upstream Anthropic response has a malformed content block');
    if (b.type === 'text') {
      if (typeof b.text !== 'string') throw badResponse('upstream Anthropic text block has no text');
      text += b.text;
      hasText = true;
    } else if (b.type === 'tool_use') {
      if (typeof b.id !== 'string' || typeof b.name !== 'string')
        throw badResponse('upstream Anthropic tool_use block lacks id or name');
      toolCalls.push(openAiToolCall(b.id, b.name, JSON.stringify(b.input ?? {})));
    }
    // thinking, redacted_thinking and server-tool blocks have no OpenAI chat equivalent: dropped.
  }
  const usage = usageFromAnthropic(body.usage);
  const model = str(body.model);
  const out = openAiCompletion(
    str(body.id) ?? 'msg_unknown',
    options.now ?? unixNow(),
    model ?? '',
    hasText ? text : null,
    toolCalls,
    finishReasonFromAnthropic(body.stop_reason),
    usage,
  );
  return { body: out, usage, responseModel: model, outputText: usage ? undefined : openAiBodyText(out) };
}

class AnthropicToOpenAiStream extends BaseStream {
  private readonly w: OpenAiChunkWriter;
  private toolIndexByBlock = new Map<number, number>();
  private nextToolIndex = 0;
  private started = false;

  constructor(
    wantsUsage: boolean,
    clientModel: string,
    private readonly now: number | undefined,
  ) {
    super();
    this.w = new OpenAiChunkWriter(wantsUsage, clientModel);
  }

  outputText(): string {
    return this.w.outputText();
  }

  event(ev: SseEvent): SseEvent[] {
    if (this.done) return [];
    const name = ev.event;
    if (name === 'ping') return [];
    const d = parseUpstreamJson(ev.data, `stream event ${name ?? '(unnamed)'}`);
    const type = name ?? str(d.type);
    switch (type) {
      case 'message_start': {
        const m = d.message;
        if (!isRecord(m)) throw badResponse('upstream message_start has no message');
        this.w.id = str(m.id) ?? 'msg_unknown';
        this.model = this.w.model = str(m.model);
        this.w.created = this.now ?? unixNow();
        this.u = usageFromAnthropic(m.usage);
        this.started = true;
        return [this.w.role()];
      }
      case 'content_block_start': {
        this.requireStarted(type);
        const b = d.content_block;
        const index = d.index;
        if (!isRecord(b) || typeof index !== 'number') throw badResponse('upstream content_block_start is malformed');
        if (b.type === 'tool_use') {
          if (typeof b.id !== 'string' || typeof b.name !== 'string')
            throw badResponse('upstream tool_use block lacks id or name');
          const ti = this.nextToolIndex++;
          this.toolIndexByBlock.set(index, ti);
          return [this.w.toolCallStart(ti, b.id, b.name, '')];
        }
        if (b.type === 'text' && typeof b.text === 'string' && b.text !== '') return [this.w.content(b.text)];
        return [];
      }
      case 'content_block_delta': {
        this.requireStarted(type);
        const delta = d.delta;
        if (!isRecord(delta)) throw badResponse('upstream content_block_delta has no delta');
        if (delta.type === 'text_delta') {
          if (typeof delta.text !== 'string') throw badResponse('upstream text_delta has no text');
          return [this.w.content(delta.text)];
        }
        if (delta.type === 'input_json_delta') {
          const ti = typeof d.index === 'number' ? this.toolIndexByBlock.get(d.index) : undefined;
          if (ti === undefined || typeof delta.partial_json !== 'string')
            throw badResponse('upstream input_json_delta for an unknown tool_use block');
          if (delta.partial_json === '') return [];
          return [this.w.toolCallArguments(ti, delta.partial_json)];
        }
        return []; // thinking_delta, signature_delta, citations_delta: no OpenAI chat equivalent
      }
      case 'content_block_stop':
        return [];
      case 'message_delta': {
        this.requireStarted(type);
        this.u = mergeAnthropicDeltaUsage(this.u, d.usage);
        const delta = isRecord(d.delta) ? d.delta : {};
        return [this.w.chunk({}, finishReasonFromAnthropic(delta.stop_reason))];
      }
      case 'message_stop': {
        this.done = true;
        return this.w.tail(this.u);
      }
      case 'error': {
        const err = upstreamStreamError(d.error);
        this.error = err;
        this.done = true;
        return [openAiErrorEvent(err)];
      }
      default:
        return []; // Anthropic may add event types; unknown ones are ignored as its docs ask.
    }
  }

  private requireStarted(type: string): void {
    if (!this.started) throw badResponse(`upstream sent ${type} before message_start`);
  }
}

export const anthropicToOpenAi: ResponseTranslator = {
  response: anthropicToOpenAiResponse,
  stream: ({ clientWantsUsage, clientModel, now }) => new AnthropicToOpenAiStream(clientWantsUsage, clientModel, now),
  error: (status, bodyText, headers, context) => upstreamHttpError('anthropic', status, bodyText, headers, context),
};
