/**
 * Response translation: Gemini generateContent (the wire) → OpenAI chat.completions (the client):
 * non-streaming bodies, streamGenerateContent SSE chunks (→ chat.completion.chunk + `data: [DONE]`) and errors.
 * Pure. Gemini sends each function call whole, so a tool call reaches the client as one chunk carrying id, name
 * and the complete arguments.
 */
import { errorBody, type GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson, unixNow } from '../common/json.js';
import { usageToOpenAi } from '../common/usage.js';
import type { ResponseTranslator, StreamTranslator, TranslateOptions, Usage } from '../types.js';
import { geminiHttpError, geminiStreamError } from './errors.js';
import { finishFromGemini, readChunk } from './shared.js';

export function geminiToOpenAiResponse(
  body: unknown,
  options: TranslateOptions = {},
): {
  body: unknown;
  usage: Usage | undefined;
  responseModel: string | undefined;
} {
  if (!isRecord(body) || (body.candidates === undefined && !isRecord(body.promptFeedback)))
    throw badResponse('upstream Gemini response has no candidates');
  const c = readChunk(body);
  const message: JsonObject = { role: 'assistant', content: c.text === '' ? null : c.text, refusal: null };
  if (c.toolCalls.length > 0)
    message.tool_calls = c.toolCalls.map((tc) => ({
      id: tc.id,
      type: 'function',
      function: { name: tc.name, arguments: JSON.stringify(tc.args) },
    }));
  const out: JsonObject = {
    id: c.responseId ?? 'gemini-unknown',
    object: 'chat.completion',
    created: options.now ?? unixNow(),
    model: c.model ?? '',
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: finishFromGemini(c.finishReason, c.toolCalls.length > 0),
      },
    ],
  };
  if (c.usage) out.usage = usageToOpenAi(c.usage);
  return { body: out, usage: c.usage, responseModel: c.model };
}

const DONE: SseEvent = { data: '[DONE]' };

class GeminiToOpenAiStream implements StreamTranslator {
  /** True once a chunk carried a finishReason (or a prompt block): Gemini's last chunk. */
  done = false;
  error: GatewayError | undefined;
  private id = '';
  private model: string | undefined;
  private created = 0;
  private u: Usage | undefined;
  private started = false;
  private tools = 0;
  private finishReason: string | undefined;
  private closed = false;

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
    if (this.error !== undefined || this.closed) return [];
    const d = parseUpstreamJson(ev.data, 'stream chunk');
    if (d.error !== undefined) {
      const err = geminiStreamError(d.error);
      this.error = err;
      this.done = true;
      return [{ data: JSON.stringify(errorBody(err, 'openai')) }];
    }
    const c = readChunk(d, this.tools, this.id === '' ? undefined : this.id);
    const out: SseEvent[] = [];
    if (c.usage) this.u = c.usage;
    if (!this.started) {
      this.started = true;
      this.id = c.responseId ?? 'gemini-unknown';
      this.model = c.model;
      this.created = this.now ?? unixNow();
      out.push(this.chunk({ role: 'assistant', content: '' }));
    }
    if (c.text !== '') out.push(this.chunk({ content: c.text }));
    for (const tc of c.toolCalls) {
      out.push(
        this.chunk({
          tool_calls: [
            {
              index: this.tools++,
              id: tc.id,
              type: 'function',
              function: { name: tc.name, arguments: JSON.stringify(tc.args) },
            },
          ],
        }),
      );
    }
    if (c.finishReason !== undefined) {
      this.finishReason = c.finishReason;
      this.done = true;
    }
    return out;
  }

  /** Gemini has no end marker: the finish chunk, the usage chunk and `[DONE]` are written when it closes. */
  end(): SseEvent[] {
    if (!this.done || this.error !== undefined || this.closed) return [];
    this.closed = true;
    const out = [this.chunk({}, finishFromGemini(this.finishReason, this.tools > 0))];
    if (this.wantsUsage && this.u)
      out.push({
        data: JSON.stringify({
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.created,
          model: this.model ?? this.clientModel,
          choices: [],
          usage: usageToOpenAi(this.u),
        }),
      });
    out.push(DONE);
    return out;
  }
}

export const geminiToOpenAi: ResponseTranslator = {
  response: geminiToOpenAiResponse,
  stream: ({ clientWantsUsage, clientModel, now }) => new GeminiToOpenAiStream(clientWantsUsage, clientModel, now),
  error: (status, bodyText, headers, context) => geminiHttpError(status, bodyText, headers, context),
};
