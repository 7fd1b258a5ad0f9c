/**
 * Replay (ADR 0073): a canonical answer rendered in the format the new request asks for, as a whole JSON body or
 * as a whole event stream written in one go, well-formed for the official SDKs: OpenAI `chat.completion` /
 * `chat.completion.chunk`s (with `usage: null` on each chunk and a `choices: []` usage chunk when the client
 * asked for `stream_options.include_usage`, then `[DONE]`), Anthropic `message` / message events
 * (`message_start`, `content_block_start/delta/stop` per block, `message_delta` with the stop and the usage,
 * `message_stop`). Ids are fresh (`chatcmpl-…`, `msg_…`), `created` is the replay's second; the model, the
 * content, tool call ids, the stop and the usage are the original answer's. Pure but for the fresh ids.
 */
import { randomBytes } from 'node:crypto';
import { type ClientFormat, GatewayError } from '../errors.js';
import type { JsonObject } from '../providers/common/json.js';
import { usageToAnthropic, usageToOpenAi, ZERO_USAGE } from '../providers/common/usage.js';
import type { Usage } from '../providers/types.js';
import { type ChatAnswer, type ChatContent, isChatAnswer } from './canonical.js';
import { answerCapture, type RouteAnswerCapture } from './canonical-stream.js';
import type { AnswerReplay, CanonicalAnswer, CanonicalStop, ReplayContext } from './types.js';

/** A fresh answer id in the format's spelling. */
export function freshId(format: ClientFormat): string {
  const hex = randomBytes(12).toString('hex');
  return format === 'anthropic' ? `msg_${hex}` : `chatcmpl-${hex}`;
}

export function finishForOpenAi(stop: CanonicalStop): string {
  return stop === 'other' ? 'stop' : stop;
}

export function stopReasonForAnthropic(stop: CanonicalStop, stopSequence: string | null): string {
  switch (stop) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return stopSequence === null ? 'end_turn' : 'stop_sequence';
  }
}

function modelOf(c: ChatContent, ctx: ReplayContext): string {
  return c.model ?? ctx.model;
}

/** The text of the answer for OpenAI (its text blocks joined); null when there is none and there are tool calls. */
function openAiText(c: ChatContent): string | null {
  let text = '';
  let calls = 0;
  for (const b of c.blocks) {
    if (b.type === 'text') text += b.text;
    else calls++;
  }
  return text === '' && calls > 0 ? null : text;
}

function openAiToolCalls(c: ChatContent, streamed: boolean): JsonObject[] {
  const out: JsonObject[] = [];
  for (const b of c.blocks) {
    if (b.type !== 'tool_call') continue;
    const call: JsonObject = { id: b.id, type: 'function', function: { name: b.name, arguments: b.arguments } };
    out.push(streamed ? { index: out.length, ...call } : call);
  }
  return out;
}

/** Anthropic content blocks (a tool call's arguments parsed back into `input`). */
function anthropicContent(c: ChatContent): JsonObject[] {
  return c.blocks.map((b) =>
    b.type === 'text'
      ? { type: 'text', text: b.text }
      : { type: 'tool_use', id: b.id, name: b.name, input: b.arguments === '' ? {} : toolInput(b.arguments) },
  );
}

/**
 * A stored tool call's arguments as an object. Capture keeps only JSON objects (renderableArguments); an entry
 * damaged in the store throws without V8's message, which would quote the arguments into the log line.
 */
function toolInput(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch {
    throw new Error('a cached tool call has arguments that are not JSON');
  }
}

// ─── whole answers ───────────────────────────────────────────────────────────────────────────────────

export function openAiJson(a: ChatAnswer, ctx: ReplayContext, id: string = freshId('openai')): JsonObject {
  const c = a.content;
  const message: JsonObject = { role: 'assistant', content: openAiText(c), refusal: null };
  const calls = openAiToolCalls(c, false);
  if (calls.length > 0) message.tool_calls = calls;
  const out: JsonObject = {
    id,
    object: 'chat.completion',
    created: ctx.now,
    model: modelOf(c, ctx),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishForOpenAi(a.stop) }],
  };
  if (a.usage !== undefined) out.usage = usageToOpenAi(a.usage);
  if (c.systemFingerprint !== null) out.system_fingerprint = c.systemFingerprint;
  return out;
}

export function anthropicJson(a: ChatAnswer, ctx: ReplayContext, id: string = freshId('anthropic')): JsonObject {
  const c = a.content;
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: modelOf(c, ctx),
    content: anthropicContent(c),
    stop_reason: stopReasonForAnthropic(a.stop, c.stopSequence),
    stop_sequence: c.stopSequence,
    usage: usageToAnthropic(a.usage ?? ZERO_USAGE),
  };
}

// ─── streams ─────────────────────────────────────────────────────────────────────────────────────────

const data = (d: unknown): string => `data: ${JSON.stringify(d)}\n\n`;
const event = (name: string, d: JsonObject): string => `event: ${name}\ndata: ${JSON.stringify(d)}\n\n`;

export function openAiStream(a: ChatAnswer, ctx: ReplayContext, id: string = freshId('openai')): string {
  const c = a.content;
  const model = modelOf(c, ctx);
  const chunk = (delta: JsonObject, finish: string | null): string => {
    const o: JsonObject = {
      id,
      object: 'chat.completion.chunk',
      created: ctx.now,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (c.systemFingerprint !== null) o.system_fingerprint = c.systemFingerprint;
    if (ctx.clientWantsUsage) o.usage = null;
    return data(o);
  };
  let out = chunk({ role: 'assistant', content: '', refusal: null }, null);
  const text = openAiText(c);
  if (text !== null && text !== '') out += chunk({ content: text }, null);
  const calls = openAiToolCalls(c, true);
  for (const call of calls) out += chunk({ tool_calls: [call] }, null);
  out += chunk({}, finishForOpenAi(a.stop));
  if (ctx.clientWantsUsage && a.usage !== undefined) {
    const u: JsonObject = { id, object: 'chat.completion.chunk', created: ctx.now, model, choices: [] };
    if (c.systemFingerprint !== null) u.system_fingerprint = c.systemFingerprint;
    u.usage = usageToOpenAi(a.usage);
    out += data(u);
  }
  return `${out}data: [DONE]\n\n`;
}

export function anthropicStream(a: ChatAnswer, ctx: ReplayContext, id: string = freshId('anthropic')): string {
  const c = a.content;
  const usage: Usage = a.usage ?? ZERO_USAGE;
  // message_start carries the input side (output 0, as a live stream's first event); message_delta the whole.
  const start = usageToAnthropic({ ...usage, outputTokens: 0 });
  let out = event('message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: modelOf(c, ctx),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: start,
    },
  });
  const blocks = anthropicContent(c);
  for (let index = 0; index < blocks.length; index++) {
    const b = blocks[index] as JsonObject;
    const src = c.blocks[index];
    if (src?.type === 'tool_call') {
      out += event('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: src.id, name: src.name, input: {} },
      });
      if (src.arguments !== '')
        out += event('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: src.arguments },
        });
    } else {
      out += event('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'text', text: '' },
      });
      out += event('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'text_delta', text: b.text as string },
      });
    }
    out += event('content_block_stop', { type: 'content_block_stop', index });
  }
  out += event('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReasonForAnthropic(a.stop, c.stopSequence), stop_sequence: c.stopSequence },
    usage: usageToAnthropic(usage),
  });
  return out + event('message_stop', { type: 'message_stop' });
}

function chat(answer: CanonicalAnswer): ChatAnswer {
  if (isChatAnswer(answer)) return answer;
  throw new GatewayError('internal', 'a cached answer does not have the canonical chat layout');
}

/**
 * The replay of a route's cache (types.ts AnswerReplay). The cache stage checks `isChatAnswer` on what the store
 * returned (not: a miss); an answer that fails it here is a coded internal error, never a misrendered answer.
 */
export const ANSWER_REPLAY: AnswerReplay = {
  json: (answer, format, ctx) =>
    JSON.stringify(format === 'anthropic' ? anthropicJson(chat(answer), ctx) : openAiJson(chat(answer), ctx)),
  stream: (answer, format, ctx) =>
    format === 'anthropic' ? anthropicStream(chat(answer), ctx) : openAiStream(chat(answer), ctx),
};

/**
 * Capture and replay of chat answers, for the response cache. Two members, not `AnswerCapture & AnswerReplay`:
 * both interfaces name their methods `json` and `stream`, with different signatures, so one object cannot be both.
 * Its capture keeps answers cut by the token limit (stop `length`): the cache's store step decides on them with
 * the route's includeTruncated.
 */
export const ANSWER_CODEC: { readonly capture: RouteAnswerCapture; readonly replay: AnswerReplay } = Object.freeze({
  capture: answerCapture({ storeLength: true }),
  replay: ANSWER_REPLAY,
});
