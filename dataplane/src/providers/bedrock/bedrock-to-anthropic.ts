/**
 * Response translation: Bedrock Converse (the wire) → Anthropic Messages (the client): non-streaming bodies,
 * converse-stream events (→ message_start, content_block_start/delta/stop, message_delta, message_stop) and
 * errors. Pure. Converse text blocks have no start event: the first text delta of a block opens it.
 */
import { errorBody, type GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, num, parseUpstreamJson, str } from '../common/json.js';
import { usageToAnthropic } from '../common/usage.js';
import type { ResponseTranslator, StreamTranslator, TranslateOptions, Usage } from '../types.js';
import { isStreamException } from './bedrock-to-openai.js';
import { bedrockHttpError, bedrockStreamError } from './errors.js';
import { DECODE_ERROR } from './eventstream.js';
import { finishToAnthropic, newId, readConverse, usageFromBedrock, ZERO_USAGE } from './shared.js';

export function bedrockToAnthropicResponse(
  body: unknown,
  options: TranslateOptions = {},
): { body: unknown; usage: Usage | undefined; responseModel: string | undefined } {
  const c = readConverse(body);
  const content: JsonObject[] = [];
  if (c.text !== '') content.push({ type: 'text', text: c.text });
  for (const tc of c.toolCalls) content.push({ type: 'tool_use', id: tc.id, name: tc.name, input: tc.input });
  return {
    body: {
      id: newId('msg_bedrock_'),
      type: 'message',
      role: 'assistant',
      model: options.model ?? '',
      content,
      stop_reason: finishToAnthropic(c.stopReason),
      stop_sequence: null,
      usage: usageToAnthropic(c.usage ?? ZERO_USAGE),
    },
    usage: c.usage,
    responseModel: undefined,
  };
}

function ev(event: string, data: JsonObject): SseEvent {
  return { event, data: JSON.stringify(data) };
}

class BedrockToAnthropicStream implements StreamTranslator {
  done = false;
  error: GatewayError | undefined;
  private readonly id = newId('msg_bedrock_');
  private u: Usage | undefined;
  private started = false;
  private blocks = 0;
  /** Converse contentBlockIndex → the open Anthropic block index. */
  private readonly open = new Map<number, number>();
  private stopReason: string | undefined;
  private closed = false;

  constructor(private readonly model: string) {}

  usage(): Usage | undefined {
    return this.u;
  }
  responseModel(): string | undefined {
    return undefined;
  }

  private start(out: SseEvent[]): void {
    if (this.started) return;
    this.started = true;
    out.push(
      ev('message_start', {
        type: 'message_start',
        message: {
          id: this.id,
          type: 'message',
          role: 'assistant',
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // Converse reports usage only at the end (metadata): the real numbers are in message_delta.
          usage: usageToAnthropic(ZERO_USAGE),
        },
      }),
    );
  }

  private openBlock(out: SseEvent[], upstreamIndex: number, block: JsonObject): number {
    const index = this.blocks++;
    this.open.set(upstreamIndex, index);
    out.push(ev('content_block_start', { type: 'content_block_start', index, content_block: block }));
    return index;
  }

  private closeAll(out: SseEvent[]): void {
    for (const index of this.open.values()) out.push(ev('content_block_stop', { type: 'content_block_stop', index }));
    this.open.clear();
  }

  event(e: SseEvent): SseEvent[] {
    if (this.error !== undefined || this.closed) return [];
    if (e.event === DECODE_ERROR) throw badResponse(e.data);
    if (isStreamException(e.event)) {
      const err = bedrockStreamError(e.event ?? 'error', e.data);
      this.error = err;
      this.done = true;
      return [ev('error', errorBody(err, 'anthropic') as JsonObject)];
    }
    const d = parseUpstreamJson(e.data, `${e.event ?? 'stream'} event`);
    const out: SseEvent[] = [];
    switch (e.event) {
      case 'messageStart':
        this.start(out);
        break;
      case 'contentBlockStart': {
        const tu = isRecord(d.start) ? d.start.toolUse : undefined;
        if (!isRecord(tu)) break;
        if (typeof tu.toolUseId !== 'string' || typeof tu.name !== 'string')
          throw badResponse('upstream Bedrock contentBlockStart toolUse has no toolUseId or name');
        this.start(out);
        this.openBlock(out, num(d.contentBlockIndex), { type: 'tool_use', id: tu.toolUseId, name: tu.name, input: {} });
        break;
      }
      case 'contentBlockDelta': {
        const delta = d.delta;
        if (!isRecord(delta)) throw badResponse('upstream Bedrock contentBlockDelta has no delta');
        this.start(out);
        const ui = num(d.contentBlockIndex);
        if (typeof delta.text === 'string') {
          const index = this.open.get(ui) ?? this.openBlock(out, ui, { type: 'text', text: '' });
          if (delta.text !== '')
            out.push(
              ev('content_block_delta', {
                type: 'content_block_delta',
                index,
                delta: { type: 'text_delta', text: delta.text },
              }),
            );
        } else if (isRecord(delta.toolUse)) {
          const index = this.open.get(ui);
          if (index === undefined) throw badResponse('upstream Bedrock toolUse delta for a block that never started');
          out.push(
            ev('content_block_delta', {
              type: 'content_block_delta',
              index,
              delta: { type: 'input_json_delta', partial_json: str(delta.toolUse.input) ?? '' },
            }),
          );
        }
        // reasoningContent and citation deltas: dropped.
        break;
      }
      case 'contentBlockStop': {
        const ui = num(d.contentBlockIndex);
        const index = this.open.get(ui);
        if (index !== undefined) {
          this.open.delete(ui);
          out.push(ev('content_block_stop', { type: 'content_block_stop', index }));
        }
        break;
      }
      case 'messageStop':
        this.stopReason = str(d.stopReason);
        this.done = true;
        break;
      case 'metadata': {
        const u = usageFromBedrock(d.usage);
        if (u) this.u = u;
        break;
      }
    }
    return out;
  }

  /** message_delta (stop reason, usage from metadata) and message_stop go out when the stream closes. */
  end(): SseEvent[] {
    if (!this.done || this.error !== undefined || this.closed) return [];
    this.closed = true;
    const out: SseEvent[] = [];
    this.start(out);
    this.closeAll(out);
    out.push(
      ev('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: finishToAnthropic(this.stopReason), stop_sequence: null },
        usage: usageToAnthropic(this.u ?? ZERO_USAGE),
      }),
      ev('message_stop', { type: 'message_stop' }),
    );
    return out;
  }
}

export const bedrockToAnthropic: ResponseTranslator = {
  response: bedrockToAnthropicResponse,
  stream: ({ clientModel }) => new BedrockToAnthropicStream(clientModel),
  error: (status, bodyText, headers, context) => bedrockHttpError(status, bodyText, headers, context),
};
