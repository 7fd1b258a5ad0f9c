/**
 * Response translation: OpenAI chat.completions (the wire) → Anthropic Messages (the client): non-streaming
 * bodies, stream chunks (→ message_start, content_block_start/delta/stop, message_delta, message_stop) and
 * errors. Pure.
 */
import { errorBody, type GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, str } from '../common/json.js';
import { upstreamHttpError, upstreamStreamError } from '../common/upstream-error.js';
import { usageFromOpenAi, usageToAnthropic } from '../common/usage.js';
import type { ResponseTranslator, StreamTranslator, Usage } from '../types.js';

/** OpenAI finish_reason → Anthropic stop_reason. */
export function stopReasonFromOpenAi(finish: unknown): string {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

const ZERO_USAGE: Usage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheCreationTokens: 0,
  reasoningTokens: 0,
  estimated: false,
};

function toolInput(args: unknown): unknown {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string') throw badResponse('upstream tool call arguments are not a string');
  try {
    return JSON.parse(args);
  } catch (cause) {
    throw Object.assign(badResponse('upstream tool call arguments are not valid JSON'), { cause });
  }
}

export function openAiToAnthropicResponse(body: unknown): {
  body: unknown;
  usage: Usage | undefined;
  responseModel: string | undefined;
} {
  if (!isRecord(body) || !Array.isArray(body.choices))
    throw badResponse('upstream OpenAI response has no choices array');
  const choice = body.choices[0];
  if (!isRecord(choice) || !isRecord(choice.message)) throw badResponse('upstream OpenAI response has no message');
  const msg = choice.message;
  const content: JsonObject[] = [];
  const text = typeof msg.content === 'string' ? msg.content : typeof msg.refusal === 'string' ? msg.refusal : '';
  if (text !== '') content.push({ type: 'text', text });
  if (Array.isArray(msg.tool_calls)) {
    for (const tc of msg.tool_calls) {
      if (!isRecord(tc) || !isRecord(tc.function) || typeof tc.function.name !== 'string')
        throw badResponse('upstream OpenAI tool call is malformed');
      content.push({
        type: 'tool_use',
        id: str(tc.id) ?? '',
        name: tc.function.name,
        input: toolInput(tc.function.arguments),
      });
    }
  }
  const usage = usageFromOpenAi(body.usage);
  const model = str(body.model);
  return {
    body: {
      id: str(body.id) ?? 'msg_unknown',
      type: 'message',
      role: 'assistant',
      model: model ?? '',
      content,
      stop_reason: stopReasonFromOpenAi(choice.finish_reason),
      stop_sequence: null,
      usage: usageToAnthropic(usage ?? ZERO_USAGE),
    },
    usage,
    responseModel: model,
  };
}

function ev(event: string, data: JsonObject): SseEvent {
  return { event, data: JSON.stringify(data) };
}

class OpenAiToAnthropicStream implements StreamTranslator {
  done = false;
  error: GatewayError | undefined;
  private model: string | undefined;
  private u: Usage | undefined;
  private started = false;
  private blockCount = 0;
  /** The open content block: its Anthropic index and what it is (text, or the OpenAI tool-call index). */
  private open: { index: number; tool: number | undefined } | undefined;
  private toolBlock = new Map<number, number>();
  private finish: unknown;

  constructor(private readonly clientModel: string) {}

  usage(): Usage | undefined {
    return this.u;
  }
  responseModel(): string | undefined {
    return this.model;
  }

  private start(id: string, out: SseEvent[]): void {
    this.started = true;
    out.push(
      ev('message_start', {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model: this.model ?? this.clientModel,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // OpenAI reports usage only at the end: the real numbers come in message_delta.
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      }),
    );
  }

  private close(out: SseEvent[]): void {
    if (this.open === undefined) return;
    out.push(ev('content_block_stop', { type: 'content_block_stop', index: this.open.index }));
    this.open = undefined;
  }

  private openBlock(block: JsonObject, tool: number | undefined, out: SseEvent[]): number {
    this.close(out);
    const index = this.blockCount++;
    this.open = { index, tool };
    out.push(ev('content_block_start', { type: 'content_block_start', index, content_block: block }));
    return index;
  }

  private text(text: string, out: SseEvent[]): void {
    if (text === '') return;
    const index =
      this.open !== undefined && this.open.tool === undefined
        ? this.open.index
        : this.openBlock({ type: 'text', text: '' }, undefined, out);
    out.push(ev('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } }));
  }

  private toolCall(tc: unknown, out: SseEvent[]): void {
    if (!isRecord(tc) || typeof tc.index !== 'number') throw badResponse('upstream tool call delta has no index');
    const fn = isRecord(tc.function) ? tc.function : {};
    let index = this.toolBlock.get(tc.index);
    if (index === undefined) {
      if (typeof tc.id !== 'string' || typeof fn.name !== 'string')
        throw badResponse('upstream tool call delta starts without id and name');
      index = this.openBlock({ type: 'tool_use', id: tc.id, name: fn.name, input: {} }, tc.index, out);
      this.toolBlock.set(tc.index, index);
    } else if (this.open?.index !== index) {
      throw badResponse('upstream interleaved the arguments of several tool calls');
    }
    const args = fn.arguments;
    if (typeof args === 'string' && args !== '')
      out.push(
        ev('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: args },
        }),
      );
  }

  private finishEvents(out: SseEvent[]): void {
    this.close(out);
    const usage = usageToAnthropic(this.u ?? ZERO_USAGE);
    out.push(
      ev('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReasonFromOpenAi(this.finish), stop_sequence: null },
        usage,
      }),
      ev('message_stop', { type: 'message_stop' }),
    );
    this.done = true;
  }

  event(e: SseEvent): SseEvent[] {
    if (this.done) return [];
    const out: SseEvent[] = [];
    if (e.data === '[DONE]') {
      if (!this.started) this.start('msg_unknown', out);
      this.finishEvents(out);
      return out;
    }
    const d = parseUpstreamJson(e.data, 'stream chunk');
    if (d.error !== undefined) {
      const err = upstreamStreamError(d.error);
      this.error = err;
      this.done = true;
      return [ev('error', errorBody(err, 'anthropic') as JsonObject)];
    }
    if (!Array.isArray(d.choices)) throw badResponse('upstream stream chunk has no choices array');
    if (this.model === undefined) this.model = str(d.model);
    if (!this.started) this.start(str(d.id) ?? 'msg_unknown', out);
    if (isRecord(d.usage)) this.u = usageFromOpenAi(d.usage);
    const c = d.choices[0];
    if (isRecord(c)) {
      const delta = isRecord(c.delta) ? c.delta : {};
      if (typeof delta.content === 'string') this.text(delta.content, out);
      if (typeof delta.refusal === 'string') this.text(delta.refusal, out);
      if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) this.toolCall(tc, out);
      if (c.finish_reason !== null && c.finish_reason !== undefined) {
        this.finish = c.finish_reason;
        this.close(out);
      }
    }
    return out;
  }

  /** Lenient end: a server that sent a finish_reason but no `[DONE]` still gets a well-formed close. */
  end(): SseEvent[] {
    if (this.done || this.finish === undefined) return [];
    const out: SseEvent[] = [];
    this.finishEvents(out);
    return out;
  }
}

export const openAiToAnthropic: ResponseTranslator = {
  response: openAiToAnthropicResponse,
  stream: ({ clientModel }) => new OpenAiToAnthropicStream(clientModel),
  error: (status, bodyText, headers, context) => upstreamHttpError('openai', status, bodyText, headers, context),
};
