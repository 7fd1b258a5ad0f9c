/**
 * Response translation: OpenAI chat.completions (the wire) → Anthropic Messages (the client): non-streaming
 * bodies, stream chunks (→ message_start, content_block_start/delta/stop, message_delta, message_stop) and
 * errors. Pure.
 */
import type { SseEvent } from '../../sse/sse.js';
import {
  AnthropicStreamWriter,
  anthropicBodyText,
  anthropicErrorEvent,
  anthropicMessage,
} from '../common/anthropic-out.js';
import { stopReasonFromOpenAi } from '../common/finish.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, str } from '../common/json.js';
import { BaseStream } from '../common/stream.js';
import { upstreamHttpError, upstreamStreamError } from '../common/upstream-error.js';
import { usageFromOpenAi } from '../common/usage.js';
import type { ResponseTranslator, TranslatedResponse } from '../types.js';

function toolInput(args: unknown): unknown {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string') throw badResponse('upstream tool call arguments are not a string');
  try {
    return JSON.parse(args);
  } catch (cause) {
    throw Object.assign(badResponse('upstream tool call arguments are not valid JSON'), { cause });
  }
}

export function openAiToAnthropicResponse(body: unknown): TranslatedResponse {
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
  const out = anthropicMessage(
    str(body.id) ?? 'msg_unknown',
    model ?? '',
    content,
    stopReasonFromOpenAi(choice.finish_reason),
    usage,
  );
  return { body: out, usage, responseModel: model, outputText: usage ? undefined : anthropicBodyText(out) };
}

class OpenAiToAnthropicStream extends BaseStream {
  private readonly w: AnthropicStreamWriter;
  private started = false;
  /** OpenAI tool-call index → Anthropic block index. */
  private toolBlock = new Map<number, number>();
  private finish: unknown;

  constructor(clientModel: string) {
    super();
    this.w = new AnthropicStreamWriter(clientModel);
  }

  outputText(): string {
    return this.w.outputText();
  }

  private start(id: string, out: SseEvent[]): void {
    this.started = true;
    // OpenAI reports usage only at the end: the real numbers come in message_delta.
    this.w.start(out, id, this.model, { input_tokens: 0, output_tokens: 0 });
  }

  private toolCall(tc: unknown, out: SseEvent[]): void {
    if (!isRecord(tc) || typeof tc.index !== 'number') throw badResponse('upstream tool call delta has no index');
    const fn = isRecord(tc.function) ? tc.function : {};
    let index = this.toolBlock.get(tc.index);
    if (index === undefined) {
      if (typeof tc.id !== 'string' || typeof fn.name !== 'string')
        throw badResponse('upstream tool call delta starts without id and name');
      index = this.w.toolUse(out, tc.id, fn.name);
      this.toolBlock.set(tc.index, index);
    } else if (this.w.openIndex !== index) {
      throw badResponse('upstream interleaved the arguments of several tool calls');
    }
    const args = fn.arguments;
    if (typeof args === 'string' && args !== '') this.w.inputJson(out, index, args);
  }

  private finishEvents(out: SseEvent[]): void {
    this.w.finish(out, stopReasonFromOpenAi(this.finish), this.u);
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
      return [anthropicErrorEvent(err)];
    }
    if (!Array.isArray(d.choices)) throw badResponse('upstream stream chunk has no choices array');
    if (this.model === undefined) this.model = str(d.model);
    if (!this.started) this.start(str(d.id) ?? 'msg_unknown', out);
    if (isRecord(d.usage)) this.u = usageFromOpenAi(d.usage);
    const c = d.choices[0];
    if (isRecord(c)) {
      const delta = isRecord(c.delta) ? c.delta : {};
      if (typeof delta.content === 'string') this.w.text(out, delta.content);
      if (typeof delta.refusal === 'string') this.w.text(out, delta.refusal);
      if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) this.toolCall(tc, out);
      if (c.finish_reason !== null && c.finish_reason !== undefined) {
        this.finish = c.finish_reason;
        this.w.closeBlock(out);
      }
    }
    return out;
  }

  /** Lenient end: a server that sent a finish_reason but no `[DONE]` still gets a well-formed close. */
  override end(): SseEvent[] {
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
