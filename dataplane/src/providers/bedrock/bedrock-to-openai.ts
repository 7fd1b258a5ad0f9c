/**
 * Response translation: Bedrock Converse (the wire) → OpenAI chat.completions (the client): non-streaming bodies,
 * converse-stream events (already decoded from the event-stream framing; → chat.completion.chunk + `data: [DONE]`)
 * and errors. Pure. Converse answers name neither an id nor the model: the id is made up, the model is the
 * client's.
 */
import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { unixNow } from '../common/json.js';
import {
  OpenAiChunkWriter,
  openAiBodyText,
  openAiCompletion,
  openAiErrorEvent,
  openAiToolCall,
} from '../common/openai-out.js';
import type { ResponseTranslator, TranslatedResponse, TranslateOptions } from '../types.js';
import { bedrockHttpError } from './errors.js';
import { finishFromBedrock, newId, readConverse } from './shared.js';
import { BedrockStream, toolDeltaWithoutStart } from './stream.js';

export function bedrockToOpenAiResponse(body: unknown, options: TranslateOptions = {}): TranslatedResponse {
  const c = readConverse(body);
  const out = openAiCompletion(
    newId('chatcmpl-bedrock-'),
    options.now ?? unixNow(),
    options.model ?? '',
    c.text === '' ? null : c.text,
    c.toolCalls.map((tc) => openAiToolCall(tc.id, tc.name, JSON.stringify(tc.input))),
    finishFromBedrock(c.stopReason),
    c.usage,
  );
  return {
    body: out,
    usage: c.usage,
    responseModel: undefined,
    outputText: c.usage ? undefined : openAiBodyText(out),
  };
}

class BedrockToOpenAiStream extends BedrockStream {
  private readonly w: OpenAiChunkWriter;
  /** Converse contentBlockIndex → OpenAI tool_calls index. */
  private readonly toolIndex = new Map<number, number>();
  private tools = 0;

  constructor(wantsUsage: boolean, clientModel: string, now: number | undefined) {
    super();
    this.w = new OpenAiChunkWriter(wantsUsage, clientModel);
    this.w.id = newId('chatcmpl-bedrock-');
    this.w.created = now ?? unixNow();
  }

  outputText(): string {
    return this.w.outputText();
  }

  protected errorEvent(err: GatewayError): SseEvent {
    return openAiErrorEvent(err);
  }

  protected opening(out: SseEvent[]): void {
    out.push(this.w.role());
  }

  protected toolStart(out: SseEvent[], block: number, id: string, name: string): void {
    const index = this.tools++;
    this.toolIndex.set(block, index);
    out.push(this.w.toolCallStart(index, id, name, ''));
  }

  protected text(out: SseEvent[], _block: number, text: string): void {
    if (text !== '') out.push(this.w.content(text));
  }

  protected toolInput(out: SseEvent[], block: number, input: string): void {
    const index = this.toolIndex.get(block);
    if (index === undefined) throw toolDeltaWithoutStart();
    if (input !== '') out.push(this.w.toolCallArguments(index, input));
  }

  /** The finish chunk, the usage chunk and `[DONE]` (usage comes in metadata, after messageStop). */
  protected closing(out: SseEvent[], stopReason: string | undefined): void {
    out.push(this.w.chunk({}, finishFromBedrock(stopReason)), ...this.w.tail(this.u));
  }
}

export const bedrockToOpenAi: ResponseTranslator = {
  response: bedrockToOpenAiResponse,
  stream: ({ clientWantsUsage, clientModel, now }) => new BedrockToOpenAiStream(clientWantsUsage, clientModel, now),
  error: (status, bodyText, headers, context) => bedrockHttpError(status, bodyText, headers, context),
};
