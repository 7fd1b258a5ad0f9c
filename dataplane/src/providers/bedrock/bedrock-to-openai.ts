/**
 * Response translation: Bedrock Converse (the wire) → OpenAI chat.completions (the client): non-streaming bodies,
 * converse-stream events (already decoded from the event-stream framing; → chat.completion.chunk + `data: [DONE]`)
 * and errors. Pure. Converse answers name neither an id nor the model: the id is made up, the model is the
 * client's.
 */
import { errorBody, type GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, type JsonObject, num, parseUpstreamJson, str, unixNow } from '../common/json.js';
import { usageToOpenAi } from '../common/usage.js';
import type { ResponseTranslator, StreamTranslator, TranslateOptions, Usage } from '../types.js';
import { bedrockHttpError, bedrockStreamError } from './errors.js';
import { DECODE_ERROR } from './eventstream.js';
import { finishToOpenAi, newId, readConverse, usageFromBedrock } from './shared.js';

export function bedrockToOpenAiResponse(
  body: unknown,
  options: TranslateOptions = {},
): { body: unknown; usage: Usage | undefined; responseModel: string | undefined } {
  const c = readConverse(body);
  const message: JsonObject = { role: 'assistant', content: c.text === '' ? null : c.text, refusal: null };
  if (c.toolCalls.length > 0)
    message.tool_calls = c.toolCalls.map((tc) => ({
      id: tc.id,
      type: 'function',
      function: { name: tc.name, arguments: JSON.stringify(tc.input) },
    }));
  const out: JsonObject = {
    id: newId('chatcmpl-bedrock-'),
    object: 'chat.completion',
    created: options.now ?? unixNow(),
    model: options.model ?? '',
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishToOpenAi(c.stopReason) }],
  };
  if (c.usage) out.usage = usageToOpenAi(c.usage);
  return { body: out, usage: c.usage, responseModel: undefined };
}

const DONE: SseEvent = { data: '[DONE]' };

/** True for event names Bedrock uses for exceptions (and the event-stream `error` message). */
export function isStreamException(name: string | undefined): boolean {
  return name !== undefined && (name === 'error' || name.endsWith('Exception'));
}

class BedrockToOpenAiStream implements StreamTranslator {
  /** True once messageStop arrived (metadata with usage may still follow). */
  done = false;
  error: GatewayError | undefined;
  private readonly id = newId('chatcmpl-bedrock-');
  private readonly created: number;
  private u: Usage | undefined;
  private started = false;
  /** Converse contentBlockIndex → OpenAI tool_calls index. */
  private readonly toolIndex = new Map<number, number>();
  private tools = 0;
  private stopReason: string | undefined;
  private closed = false;

  constructor(
    private readonly wantsUsage: boolean,
    private readonly model: string,
    now: number | undefined,
  ) {
    this.created = now ?? unixNow();
  }

  usage(): Usage | undefined {
    return this.u;
  }
  responseModel(): string | undefined {
    return undefined;
  }

  private chunk(delta: JsonObject, finish: string | null = null): SseEvent {
    const c: JsonObject = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (this.wantsUsage) c.usage = null;
    return { data: JSON.stringify(c) };
  }

  private start(out: SseEvent[]): void {
    if (this.started) return;
    this.started = true;
    out.push(this.chunk({ role: 'assistant', content: '' }));
  }

  event(ev: SseEvent): SseEvent[] {
    if (this.error !== undefined || this.closed) return [];
    if (ev.event === DECODE_ERROR) throw badResponse(ev.data);
    if (isStreamException(ev.event)) {
      const err = bedrockStreamError(ev.event ?? 'error', ev.data);
      this.error = err;
      this.done = true;
      return [{ data: JSON.stringify(errorBody(err, 'openai')) }];
    }
    const d = parseUpstreamJson(ev.data, `${ev.event ?? 'stream'} event`);
    const out: SseEvent[] = [];
    switch (ev.event) {
      case 'messageStart':
        this.start(out);
        break;
      case 'contentBlockStart': {
        const tu = isRecord(d.start) ? d.start.toolUse : undefined;
        if (!isRecord(tu)) break;
        if (typeof tu.toolUseId !== 'string' || typeof tu.name !== 'string')
          throw badResponse('upstream Bedrock contentBlockStart toolUse has no toolUseId or name');
        this.start(out);
        const index = this.tools++;
        this.toolIndex.set(num(d.contentBlockIndex), index);
        out.push(
          this.chunk({
            tool_calls: [{ index, id: tu.toolUseId, type: 'function', function: { name: tu.name, arguments: '' } }],
          }),
        );
        break;
      }
      case 'contentBlockDelta': {
        const delta = d.delta;
        if (!isRecord(delta)) throw badResponse('upstream Bedrock contentBlockDelta has no delta');
        this.start(out);
        if (typeof delta.text === 'string') {
          if (delta.text !== '') out.push(this.chunk({ content: delta.text }));
        } else if (isRecord(delta.toolUse)) {
          const index = this.toolIndex.get(num(d.contentBlockIndex));
          if (index === undefined) throw badResponse('upstream Bedrock toolUse delta for a block that never started');
          const input = str(delta.toolUse.input) ?? '';
          if (input !== '') out.push(this.chunk({ tool_calls: [{ index, function: { arguments: input } }] }));
        }
        // reasoningContent and citation deltas: dropped.
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
      // contentBlockStop and unknown events: nothing to say.
    }
    return out;
  }

  /** Finish chunk, usage chunk and `[DONE]` go out when the stream closes (usage comes after messageStop). */
  end(): SseEvent[] {
    if (!this.done || this.error !== undefined || this.closed) return [];
    this.closed = true;
    const out: SseEvent[] = [];
    this.start(out);
    out.push(this.chunk({}, finishToOpenAi(this.stopReason)));
    if (this.wantsUsage && this.u)
      out.push({
        data: JSON.stringify({
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.created,
          model: this.model,
          choices: [],
          usage: usageToOpenAi(this.u),
        }),
      });
    out.push(DONE);
    return out;
  }
}

export const bedrockToOpenAi: ResponseTranslator = {
  response: bedrockToOpenAiResponse,
  stream: ({ clientWantsUsage, clientModel, now }) => new BedrockToOpenAiStream(clientWantsUsage, clientModel, now),
  error: (status, bodyText, headers, context) => bedrockHttpError(status, bodyText, headers, context),
};
