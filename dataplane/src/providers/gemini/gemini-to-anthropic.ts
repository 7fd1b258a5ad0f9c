/**
 * Response translation: Gemini generateContent (the wire) → Anthropic Messages (the client): non-streaming
 * bodies, streamGenerateContent SSE chunks (→ message_start, content_block_start/delta/stop, message_delta,
 * message_stop) and errors. Pure. A Gemini function call arrives whole: it becomes a tool_use block with one
 * input_json_delta carrying the complete input.
 */
import { errorBody, type GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, parseUpstreamJson } from '../common/json.js';
import { usageToAnthropic } from '../common/usage.js';
import type { ResponseTranslator, StreamTranslator, Usage } from '../types.js';
import { geminiHttpError, geminiStreamError } from './errors.js';
import { finishFromGemini, finishToAnthropic, readChunk, ZERO_USAGE } from './shared.js';

export function geminiToAnthropicResponse(body: unknown): {
  body: unknown;
  usage: Usage | undefined;
  responseModel: string | undefined;
} {
  if (!isRecord(body) || (body.candidates === undefined && !isRecord(body.promptFeedback)))
    throw badResponse('upstream Gemini response has no candidates');
  const c = readChunk(body);
  const content: JsonObject[] = [];
  if (c.text !== '') content.push({ type: 'text', text: c.text });
  for (const tc of c.toolCalls) content.push({ type: 'tool_use', id: tc.id, name: tc.name, input: tc.args });
  return {
    body: {
      id: c.responseId ?? 'msg_unknown',
      type: 'message',
      role: 'assistant',
      model: c.model ?? '',
      content,
      stop_reason: finishToAnthropic(finishFromGemini(c.finishReason, c.toolCalls.length > 0)),
      stop_sequence: null,
      usage: usageToAnthropic(c.usage ?? ZERO_USAGE),
    },
    usage: c.usage,
    responseModel: c.model,
  };
}

function ev(event: string, data: JsonObject): SseEvent {
  return { event, data: JSON.stringify(data) };
}

class GeminiToAnthropicStream implements StreamTranslator {
  done = false;
  error: GatewayError | undefined;
  private id = '';
  private model: string | undefined;
  private u: Usage | undefined;
  private started = false;
  private blocks = 0;
  /** Index of the open text block, if any (tool_use blocks open and close within one chunk). */
  private openText: number | undefined;
  private tools = 0;
  private finishReason: string | undefined;
  private closed = false;

  constructor(private readonly clientModel: string) {}

  usage(): Usage | undefined {
    return this.u;
  }
  responseModel(): string | undefined {
    return this.model;
  }

  private closeText(out: SseEvent[]): void {
    if (this.openText === undefined) return;
    out.push(ev('content_block_stop', { type: 'content_block_stop', index: this.openText }));
    this.openText = undefined;
  }

  event(e: SseEvent): SseEvent[] {
    if (this.error !== undefined || this.closed) return [];
    const d = parseUpstreamJson(e.data, 'stream chunk');
    if (d.error !== undefined) {
      const err = geminiStreamError(d.error);
      this.error = err;
      this.done = true;
      return [ev('error', errorBody(err, 'anthropic') as JsonObject)];
    }
    const c = readChunk(d, this.tools, this.id === '' ? undefined : this.id);
    const out: SseEvent[] = [];
    if (c.usage) this.u = c.usage;
    if (!this.started) {
      this.started = true;
      this.id = c.responseId ?? 'msg_unknown';
      this.model = c.model;
      const u = usageToAnthropic(this.u ?? ZERO_USAGE);
      out.push(
        ev('message_start', {
          type: 'message_start',
          message: {
            id: this.id,
            type: 'message',
            role: 'assistant',
            model: this.model ?? this.clientModel,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            // Gemini repeats usage on each chunk; the input is known now, the output comes in message_delta.
            usage: { ...u, output_tokens: 0 },
          },
        }),
      );
    }
    if (c.text !== '') {
      if (this.openText === undefined) {
        this.openText = this.blocks++;
        out.push(
          ev('content_block_start', {
            type: 'content_block_start',
            index: this.openText,
            content_block: { type: 'text', text: '' },
          }),
        );
      }
      out.push(
        ev('content_block_delta', {
          type: 'content_block_delta',
          index: this.openText,
          delta: { type: 'text_delta', text: c.text },
        }),
      );
    }
    for (const tc of c.toolCalls) {
      this.closeText(out);
      const index = this.blocks++;
      this.tools++;
      out.push(
        ev('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: tc.id, name: tc.name, input: {} },
        }),
        ev('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(tc.args) },
        }),
        ev('content_block_stop', { type: 'content_block_stop', index }),
      );
    }
    if (c.finishReason !== undefined) {
      this.finishReason = c.finishReason;
      this.done = true;
    }
    return out;
  }

  /** Gemini has no end marker: message_delta (stop reason, usage) and message_stop are written when it closes. */
  end(): SseEvent[] {
    if (!this.done || this.error !== undefined || this.closed) return [];
    this.closed = true;
    const out: SseEvent[] = [];
    this.closeText(out);
    out.push(
      ev('message_delta', {
        type: 'message_delta',
        delta: {
          stop_reason: finishToAnthropic(finishFromGemini(this.finishReason, this.tools > 0)),
          stop_sequence: null,
        },
        usage: usageToAnthropic(this.u ?? ZERO_USAGE),
      }),
      ev('message_stop', { type: 'message_stop' }),
    );
    return out;
  }
}

export const geminiToAnthropic: ResponseTranslator = {
  response: geminiToAnthropicResponse,
  stream: ({ clientModel }) => new GeminiToAnthropicStream(clientModel),
  error: (status, bodyText, headers, context) => geminiHttpError(status, bodyText, headers, context),
};
