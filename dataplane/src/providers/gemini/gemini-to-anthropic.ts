/**
 * Response translation: Gemini generateContent (the wire) → Anthropic Messages (the client): non-streaming
 * bodies, streamGenerateContent SSE chunks (→ message_start, content_block_start/delta/stop, message_delta,
 * message_stop) and errors. Pure. A Gemini function call arrives whole: it becomes a tool_use block with one
 * input_json_delta carrying the complete input.
 */
import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import {
  AnthropicStreamWriter,
  anthropicBodyText,
  anthropicErrorEvent,
  anthropicMessage,
} from '../common/anthropic-out.js';
import { type Finish, stopReasonFromOpenAi } from '../common/finish.js';
import { badResponse, isRecord, type JsonObject } from '../common/json.js';
import { usageToAnthropic, ZERO_USAGE } from '../common/usage.js';
import type { ResponseTranslator, TranslatedResponse } from '../types.js';
import { geminiHttpError } from './errors.js';
import { finishFromGemini, type GeminiChunk, GeminiStream, readChunk } from './shared.js';

export function geminiToAnthropicResponse(body: unknown): TranslatedResponse {
  if (!isRecord(body) || (body.candidates === undefined && !isRecord(body.promptFeedback)))
    throw badResponse('upstream Gemini response has no candidates');
  const c = readChunk(body);
  const content: JsonObject[] = [];
  if (c.text !== '') content.push({ type: 'text', text: c.text });
  for (const tc of c.toolCalls) content.push({ type: 'tool_use', id: tc.id, name: tc.name, input: tc.args });
  const out = anthropicMessage(
    c.responseId ?? 'msg_unknown',
    c.model ?? '',
    content,
    stopReasonFromOpenAi(finishFromGemini(c.finishReason, c.toolCalls.length > 0)),
    c.usage,
  );
  return {
    body: out,
    usage: c.usage,
    responseModel: c.model,
    outputText: c.usage ? undefined : anthropicBodyText(out),
  };
}

class GeminiToAnthropicStream extends GeminiStream {
  private readonly w: AnthropicStreamWriter;

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

  protected write(c: GeminiChunk, out: SseEvent[]): void {
    if (!this.started) {
      this.started = true;
      this.id = c.responseId ?? 'msg_unknown';
      this.model = c.model;
      // Gemini repeats usage on each chunk; the input is known now, the output comes in message_delta.
      this.w.start(out, this.id, this.model, { ...usageToAnthropic(this.u ?? ZERO_USAGE), output_tokens: 0 });
    }
    this.w.text(out, c.text);
    for (const tc of c.toolCalls) {
      const index = this.w.toolUse(out, tc.id, tc.name);
      this.tools++;
      this.w.inputJson(out, index, JSON.stringify(tc.args));
      this.w.closeBlock(out);
    }
  }

  /** message_delta (stop reason, usage) and message_stop. */
  protected closing(finish: Finish): SseEvent[] {
    const out: SseEvent[] = [];
    this.w.finish(out, stopReasonFromOpenAi(finish), this.u);
    return out;
  }
}

export const geminiToAnthropic: ResponseTranslator = {
  response: geminiToAnthropicResponse,
  stream: ({ clientModel }) => new GeminiToAnthropicStream(clientModel),
  error: (status, bodyText, headers, context) => geminiHttpError(status, bodyText, headers, context),
};
