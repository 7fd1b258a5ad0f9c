/**
 * Response translation: Anthropic Messages (the wire) → OpenAI chat.completions (the client):
 * non-streaming bodies, stream events (→ chat.completion.chunk + `data: [DONE]`) and errors. Pure.
 */
import { errorBody, type GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, str, unixNow } from '../common/json.js';
import { upstreamHttpError, upstreamStreamError } from '../common/upstream-error.js';
import { mergeAnthropicDeltaUsage, usageFromAnthropic, usageToOpenAi } from '../common/usage.js';
import type { ResponseTranslator, StreamTranslator, TranslateOptions, Usage } from '../types.js';

/** Anthropic stop_reason → OpenAI finish_reason. */
export function finishReasonFromAnthropic(stop: unknown): string {
  switch (stop) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn, null
      return 'stop';
  }
}

export function anthropicToOpenAiResponse(
  body: unknown,
  options: TranslateOptions = {},
): {
  body: unknown;
  usage: Usage | undefined;
  responseModel: string | undefined;
} {
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
      toolCalls.push({
        id: b.id,
        type: 'function',
        function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
      });
    }
    // thinking, redacted_thinking and server-tool blocks have no OpenAI chat equivalent: dropped.
  }
  const usage = usageFromAnthropic(body.usage);
  const model = str(body.model);
  const message: JsonObject = { role: 'assistant', content: hasText ? text : null, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const out: JsonObject = {
    id: str(body.id) ?? 'msg_unknown',
    object: 'chat.completion',
    created: options.now ?? unixNow(),
    model: model ?? '',
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonFromAnthropic(body.stop_reason) }],
  };
  if (usage) out.usage = usageToOpenAi(usage);
  return { body: out, usage, responseModel: model };
}

const DONE: SseEvent = { data: '[DONE]' };

class AnthropicToOpenAiStream implements StreamTranslator {
  done = false;
  error: GatewayError | undefined;
  private id = '';
  private model: string | undefined;
  private created = 0;
  private u: Usage | undefined;
  private toolIndexByBlock = new Map<number, number>();
  private nextToolIndex = 0;
  private started = false;

  constructor(
    private readonly wantsUsage: boolean,
    private readonly clientModel: string,
    private readonly now: number | undefined,
  ) {}

  usage(): Usage | undefined {
    return this.u;
  }
  responseModel(): string | undefined {
    return this.model;
  }

  private chunk(delta: JsonObject, finish: string | null = null): SseEvent {
    const c: JsonObject = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model ?? this.clientModel,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (this.wantsUsage) c.usage = null;
    return { data: JSON.stringify(c) };
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
        this.id = str(m.id) ?? 'msg_unknown';
        this.model = str(m.model);
        this.created = this.now ?? unixNow();
        this.u = usageFromAnthropic(m.usage);
        this.started = true;
        return [this.chunk({ role: 'assistant', content: '' })];
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
          return [
            this.chunk({
              tool_calls: [{ index: ti, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }],
            }),
          ];
        }
        if (b.type === 'text' && typeof b.text === 'string' && b.text !== '') return [this.chunk({ content: b.text })];
        return [];
      }
      case 'content_block_delta': {
        this.requireStarted(type);
        const delta = d.delta;
        if (!isRecord(delta)) throw badResponse('upstream content_block_delta has no delta');
        if (delta.type === 'text_delta') {
          if (typeof delta.text !== 'string') throw badResponse('upstream text_delta has no text');
          return [this.chunk({ content: delta.text })];
        }
        if (delta.type === 'input_json_delta') {
          const ti = typeof d.index === 'number' ? this.toolIndexByBlock.get(d.index) : undefined;
          if (ti === undefined || typeof delta.partial_json !== 'string')
            throw badResponse('upstream input_json_delta for an unknown tool_use block');
          if (delta.partial_json === '') return [];
          return [this.chunk({ tool_calls: [{ index: ti, function: { arguments: delta.partial_json } }] })];
        }
        return []; // thinking_delta, signature_delta, citations_delta: no OpenAI chat equivalent
      }
      case 'content_block_stop':
        return [];
      case 'message_delta': {
        this.requireStarted(type);
        this.u = mergeAnthropicDeltaUsage(this.u, d.usage);
        const delta = isRecord(d.delta) ? d.delta : {};
        return [this.chunk({}, finishReasonFromAnthropic(delta.stop_reason))];
      }
      case 'message_stop': {
        this.done = true;
        if (!this.wantsUsage || !this.u) return [DONE];
        const usageChunk = {
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.created,
          model: this.model ?? this.clientModel,
          choices: [],
          usage: usageToOpenAi(this.u),
        };
        return [{ data: JSON.stringify(usageChunk) }, DONE];
      }
      case 'error': {
        const err = upstreamStreamError(d.error);
        this.error = err;
        this.done = true;
        return [{ data: JSON.stringify(errorBody(err, 'openai')) }];
      }
      default:
        return []; // Anthropic may add event types; unknown ones are ignored as its docs ask.
    }
  }

  private requireStarted(type: string): void {
    if (!this.started) throw badResponse(`upstream sent ${type} before message_start`);
  }

  end(): SseEvent[] {
    return [];
  }
}

export const anthropicToOpenAi: ResponseTranslator = {
  response: anthropicToOpenAiResponse,
  stream: ({ clientWantsUsage, clientModel, now }) => new AnthropicToOpenAiStream(clientWantsUsage, clientModel, now),
  error: (status, bodyText, headers, context) => upstreamHttpError('anthropic', status, bodyText, headers, context),
};
