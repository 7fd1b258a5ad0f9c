/**
 * Response translation: Gemini generateContent (the wire) → OpenAI chat.completions (the client):
 * non-streaming bodies, streamGenerateContent SSE chunks (→ chat.completion.chunk + `data: [DONE]`) and errors.
 * Pure. Gemini sends each function call whole, so a tool call reaches the client as one chunk carrying id, name
 * and the complete arguments.
 */
import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import type { Finish } from '../common/finish.js';
import { badResponse, isRecord, unixNow } from '../common/json.js';
import {
  OpenAiChunkWriter,
  openAiBodyText,
  openAiCompletion,
  openAiErrorEvent,
  openAiToolCall,
} from '../common/openai-out.js';
import type { ResponseTranslator, TranslatedResponse, TranslateOptions } from '../types.js';
import { geminiHttpError } from './errors.js';
import { finishFromGemini, type GeminiChunk, GeminiStream, readChunk } from './shared.js';

export function geminiToOpenAiResponse(body: unknown, options: TranslateOptions = {}): TranslatedResponse {
  if (!isRecord(body) || (body.candidates === undefined && !isRecord(body.promptFeedback)))
    throw badResponse('upstream Gemini response has no candidates');
  const c = readChunk(body);
  const out = openAiCompletion(
    c.responseId ?? 'gemini-unknown',
    options.now ?? unixNow(),
    c.model ?? '',
    c.text === '' ? null : c.text,
    c.toolCalls.map((tc) => openAiToolCall(tc.id, tc.name, JSON.stringify(tc.args))),
    finishFromGemini(c.finishReason, c.toolCalls.length > 0),
    c.usage,
  );
  return { body: out, usage: c.usage, responseModel: c.model, outputText: c.usage ? undefined : openAiBodyText(out) };
}

class GeminiToOpenAiStream extends GeminiStream {
  private readonly w: OpenAiChunkWriter;

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

  protected errorEvent(err: GatewayError): SseEvent {
    return openAiErrorEvent(err);
  }

  protected write(c: GeminiChunk, out: SseEvent[]): void {
    const w = this.w;
    if (!this.started) {
      this.started = true;
      this.id = w.id = c.responseId ?? 'gemini-unknown';
      this.model = w.model = c.model;
      w.created = this.now ?? unixNow();
      out.push(w.role());
    }
    if (c.text !== '') out.push(w.content(c.text));
    for (const tc of c.toolCalls) out.push(w.toolCallStart(this.tools++, tc.id, tc.name, JSON.stringify(tc.args)));
  }

  /** The finish chunk, the usage chunk and `[DONE]`. */
  protected closing(finish: Finish): SseEvent[] {
    return [this.w.chunk({}, finish), ...this.w.tail(this.u)];
  }
}

export const geminiToOpenAi: ResponseTranslator = {
  response: geminiToOpenAiResponse,
  stream: ({ clientWantsUsage, clientModel, now }) => new GeminiToOpenAiStream(clientWantsUsage, clientModel, now),
  error: (status, bodyText, headers, context) => geminiHttpError(status, bodyText, headers, context),
};
