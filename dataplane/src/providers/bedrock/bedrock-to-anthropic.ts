/**
 * Response translation: Bedrock Converse (the wire) → Anthropic Messages (the client): non-streaming bodies,
 * converse-stream events (→ message_start, content_block_start/delta/stop, message_delta, message_stop) and
 * errors. Pure. Converse text blocks have no start event: the first text delta of a block opens it.
 */
import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import {
  AnthropicStreamWriter,
  anthropicBodyText,
  anthropicErrorEvent,
  anthropicMessage,
} from '../common/anthropic-out.js';
import type { JsonObject } from '../common/json.js';
import { usageToAnthropic, ZERO_USAGE } from '../common/usage.js';
import type { ResponseTranslator, TranslatedResponse, TranslateOptions } from '../types.js';
import { bedrockHttpError } from './errors.js';
import { newId, readConverse, stopReasonFromBedrock } from './shared.js';
import { BedrockStream, toolDeltaWithoutStart } from './stream.js';

export function bedrockToAnthropicResponse(body: unknown, options: TranslateOptions = {}): TranslatedResponse {
  const c = readConverse(body);
  const content: JsonObject[] = [];
  if (c.text !== '') content.push({ type: 'text', text: c.text });
  for (const tc of c.toolCalls) content.push({ type: 'tool_use', id: tc.id, name: tc.name, input: tc.input });
  const out = anthropicMessage(
    newId('msg_bedrock_'),
    options.model ?? '',
    content,
    stopReasonFromBedrock(c.stopReason),
    c.usage,
  );
  return {
    body: out,
    usage: c.usage,
    responseModel: undefined,
    outputText: c.usage ? undefined : anthropicBodyText(out),
  };
}

class BedrockToAnthropicStream extends BedrockStream {
  private readonly w: AnthropicStreamWriter;
  private readonly id = newId('msg_bedrock_');
  /** The Converse contentBlockIndex of the writer's open block. */
  private openBlock: number | undefined;

  constructor(clientModel: string) {
    super();
    this.w = new AnthropicStreamWriter(clientModel);
  }

  outputText(): string {
    return this.w.outputText();
  }

  protected errorEvent(err: GatewayError): SseEvent {
    return anthropicErrorEvent(err);
  }

  protected opening(out: SseEvent[]): void {
    // Converse reports usage only at the end (metadata): the real numbers are in message_delta.
    this.w.start(out, this.id, undefined, usageToAnthropic(ZERO_USAGE));
  }

  protected toolStart(out: SseEvent[], block: number, id: string, name: string): void {
    this.w.toolUse(out, id, name);
    this.openBlock = block;
  }

  protected text(out: SseEvent[], block: number, text: string): void {
    if (this.openBlock !== block) this.w.closeBlock(out);
    this.w.text(out, text);
    this.openBlock = this.w.openIndex === undefined ? undefined : block;
  }

  protected toolInput(out: SseEvent[], block: number, input: string): void {
    const index = this.w.openIndex;
    if (this.openBlock !== block || index === undefined) throw toolDeltaWithoutStart();
    this.w.inputJson(out, index, input);
  }

  protected override blockStop(out: SseEvent[], block: number): void {
    if (this.openBlock !== block) return;
    this.w.closeBlock(out);
    this.openBlock = undefined;
  }

  /** message_delta (stop reason, usage from metadata) and message_stop. */
  protected closing(out: SseEvent[], stopReason: string | undefined): void {
    this.w.finish(out, stopReasonFromBedrock(stopReason), this.u);
  }
}

export const bedrockToAnthropic: ResponseTranslator = {
  response: bedrockToAnthropicResponse,
  stream: ({ clientModel }) => new BedrockToAnthropicStream(clientModel),
  error: (status, bodyText, headers, context) => bedrockHttpError(status, bodyText, headers, context),
};
