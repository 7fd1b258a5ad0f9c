/**
 * Anthropic Messages objects for Anthropic clients of any other wire: the non-streaming message, the event
 * sequence of a stream (message_start, content_block_start/delta/stop, message_delta, message_stop), error
 * events, and the completion text of a body (for usage estimation). Pure.
 */
import { errorBody, type GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import type { Usage } from '../types.js';
import { isRecord, type JsonObject } from './json.js';
import { OutputText } from './stream.js';
import { usageToAnthropic, ZERO_USAGE } from './usage.js';

/** A non-streaming Anthropic message (usage zero when the provider reported none). */
export function anthropicMessage(
  id: string,
  model: string,
  content: JsonObject[],
  stopReason: string,
  usage: Usage | undefined,
): JsonObject {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: usageToAnthropic(usage ?? ZERO_USAGE),
  };
}

export function anthropicEvent(event: string, data: JsonObject): SseEvent {
  return { event, data: JSON.stringify(data) };
}

/** The `event: error` an Anthropic client gets mid-stream. */
export function anthropicErrorEvent(err: GatewayError): SseEvent {
  return anthropicEvent('error', errorBody(err, 'anthropic') as JsonObject);
}

/**
 * Writes one Anthropic stream: numbers the content blocks, keeps at most one open (opening a block closes
 * the open one), and keeps text, tool names and input JSON for outputText().
 */
export class AnthropicStreamWriter {
  private blocks = 0;
  /** Index of the open content block, and whether it is a text block. */
  private open: number | undefined;
  private openIsText = false;
  private readonly output = new OutputText();

  constructor(private readonly clientModel: string) {}

  /** message_start; `usage` is the Anthropic usage object it carries. */
  start(out: SseEvent[], id: string, model: string | undefined, usage: JsonObject): void {
    out.push(
      anthropicEvent('message_start', {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model: model ?? this.clientModel,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage,
        },
      }),
    );
  }

  /** The index of the open block, if any. */
  get openIndex(): number | undefined {
    return this.open;
  }

  private openBlock(out: SseEvent[], block: JsonObject, isText: boolean): number {
    this.closeBlock(out);
    const index = this.blocks++;
    this.open = index;
    this.openIsText = isText;
    out.push(anthropicEvent('content_block_start', { type: 'content_block_start', index, content_block: block }));
    return index;
  }

  closeBlock(out: SseEvent[]): void {
    if (this.open === undefined) return;
    out.push(anthropicEvent('content_block_stop', { type: 'content_block_stop', index: this.open }));
    this.open = undefined;
  }

  /** A text delta, in the open text block or a new one. Empty text: nothing. */
  text(out: SseEvent[], text: string): void {
    if (text === '') return;
    this.output.add(text);
    const index =
      this.open !== undefined && this.openIsText ? this.open : this.openBlock(out, { type: 'text', text: '' }, true);
    out.push(
      anthropicEvent('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'text_delta', text },
      }),
    );
  }

  /** Opens a tool_use block; its input follows as inputJson deltas. */
  toolUse(out: SseEvent[], id: string, name: string): number {
    this.output.add(name);
    return this.openBlock(out, { type: 'tool_use', id, name, input: {} }, false);
  }

  inputJson(out: SseEvent[], index: number, partialJson: string): void {
    this.output.add(partialJson);
    out.push(
      anthropicEvent('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: partialJson },
      }),
    );
  }

  /** Closes the open block, then message_delta (stop reason, usage) and message_stop. */
  finish(out: SseEvent[], stopReason: string, usage: Usage | undefined): void {
    this.closeBlock(out);
    out.push(
      anthropicEvent('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: usageToAnthropic(usage ?? ZERO_USAGE),
      }),
      anthropicEvent('message_stop', { type: 'message_stop' }),
    );
  }

  outputText(): string {
    return this.output.text();
  }
}

/** The completion text of an Anthropic message body (text, thinking, tool names and inputs). */
export function anthropicBodyText(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.content)) return '';
  const out = new OutputText();
  for (const b of body.content) addAnthropicBlock(b, out);
  return out.text();
}

/** A content block or a stream delta: its text, thinking, tool name or (partial) input JSON. */
export function addAnthropicBlock(b: unknown, out: OutputText): void {
  if (!isRecord(b)) return;
  if (typeof b.text === 'string') out.add(b.text);
  else if (typeof b.thinking === 'string') out.add(b.thinking);
  else if (typeof b.partial_json === 'string') out.add(b.partial_json);
  else if (b.type === 'tool_use' && typeof b.name === 'string') {
    out.add(b.name);
    if (isRecord(b.input) && Object.keys(b.input).length > 0) out.add(JSON.stringify(b.input));
  }
}
