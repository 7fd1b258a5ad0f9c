/**
 * A stand-in for the canonical answer codec (dataplane/src/cache/canonical*.ts and replay*.ts, the replay
 * helper's), for the cache frame's tests: it keeps a whole answer's client-format body, or a stream's events,
 * as they were sent, and replays them only as they were (the same client format, JSON as JSON, a stream as a
 * stream); anything else throws, which the frame treats as a miss. The real codec converts between them.
 */
import type { AnswerCodec } from '../../dataplane/src/cache/cache.js';
import type {
  AnswerCapture,
  AnswerReplay,
  CanonicalAnswer,
  CanonicalStop,
  StreamCapture,
} from '../../dataplane/src/cache/types.js';
import type { ClientFormat } from '../../dataplane/src/errors.js';
import type { Usage } from '../../dataplane/src/providers/types.js';
import { formatSse, type SseEvent } from '../../dataplane/src/sse/sse.js';

interface Verbatim {
  format: ClientFormat;
  json?: unknown;
  events?: SseEvent[];
}

function stopOf(reason: unknown): CanonicalStop {
  if (reason === 'stop' || reason === 'end_turn' || reason === 'stop_sequence') return 'stop';
  if (reason === 'length' || reason === 'max_tokens') return 'length';
  if (reason === 'tool_calls' || reason === 'tool_use') return 'tool_calls';
  return 'other';
}

function jsonStop(format: ClientFormat, body: unknown): unknown {
  const b = body as { choices?: { finish_reason?: unknown }[]; stop_reason?: unknown };
  return format === 'openai' ? b.choices?.[0]?.finish_reason : b.stop_reason;
}

const capture: AnswerCapture = {
  json(format: ClientFormat, body: unknown, usage: Usage | undefined): CanonicalAnswer {
    const content: Verbatim = { format, json: body };
    const model = (body as { model?: string }).model;
    return { v: 0, operation: 'chat', responseModel: model, usage, stop: stopOf(jsonStop(format, body)), content };
  },
  stream(format: ClientFormat): StreamCapture {
    const events: SseEvent[] = [];
    let reason: unknown;
    return {
      event(ev: SseEvent) {
        events.push(ev);
        if (ev.data === '[DONE]') return;
        const d = JSON.parse(ev.data) as { choices?: { finish_reason?: unknown }[]; delta?: { stop_reason?: unknown } };
        reason ??= format === 'openai' ? (d.choices?.[0]?.finish_reason ?? undefined) : d.delta?.stop_reason;
      },
      end(usage, responseModel) {
        const content: Verbatim = { format, events };
        return { v: 0, operation: 'chat', responseModel, usage, stop: stopOf(reason), content };
      },
    };
  },
};

function verbatimOf(answer: CanonicalAnswer, format: ClientFormat): Verbatim {
  const v = answer.content as Verbatim;
  if (v.format !== format) throw new Error('the stand-in codec replays only in the format it captured');
  return v;
}

const replay: AnswerReplay = {
  json(answer, format) {
    const v = verbatimOf(answer, format);
    if (v.json === undefined) throw new Error('the stand-in codec replays a stream only as a stream');
    return JSON.stringify(v.json);
  },
  stream(answer, format) {
    const v = verbatimOf(answer, format);
    if (v.events === undefined) throw new Error('the stand-in codec replays JSON only as JSON');
    return v.events.map(formatSse).join('');
  },
};

export const verbatimCodec: AnswerCodec = { capture, replay };
