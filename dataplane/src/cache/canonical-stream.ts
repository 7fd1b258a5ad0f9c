/**
 * Stream captures (ADR 0073): the canonical answer of a streamed answer, built event by event from the
 * client-format events the relay wrote (OpenAI `chat.completion.chunk`s, Anthropic message events), whatever
 * wire the provider spoke. A capture never throws (it runs inside the relay's socket callbacks): an event it
 * cannot read makes the answer not capturable. Pure.
 */
import type { ClientFormat } from '../errors.js';
import { isRecord } from '../providers/common/json.js';
import type { Usage } from '../providers/types.js';
import type { SseEvent } from '../sse/sse.js';
import {
  anthropicBlock,
  type CanonicalBlock,
  type CaptureOptions,
  type ChatAnswer,
  chatAnswer,
  fromAnthropicBody,
  fromOpenAiBody,
  hasReasoning,
  stopFromAnthropic,
  stopFromOpenAi,
} from './canonical.js';
import type { AnswerCapture, CanonicalStop, StreamCapture } from './types.js';

/** A block being streamed: text or tool-call arguments grow by deltas. */
interface OpenBlock {
  type: 'text' | 'tool_call';
  id: string;
  name: string;
  /** Text, or the arguments' JSON text. */
  text: string;
}

abstract class BlockCapture implements StreamCapture {
  protected blocks: OpenBlock[] = [];
  protected model: string | undefined;
  protected stop: CanonicalStop | undefined;
  /** Something the capture cannot replay, or an event it could not read: not capturable. */
  protected broken = false;
  /** The terminal event (or an error event) came. */
  protected ended = false;

  constructor(private readonly options: CaptureOptions | undefined) {}

  event(ev: SseEvent): void {
    if (this.broken) return;
    try {
      this.read(ev);
    } catch {
      this.broken = true;
    }
  }

  protected abstract read(ev: SseEvent): void;
  protected abstract complete(): boolean;
  protected stopSequence(): string | null {
    return null;
  }
  protected fingerprint(): string | null {
    return null;
  }

  end(usage: Usage | undefined, responseModel: string | undefined): ChatAnswer | undefined {
    if (this.broken || !this.complete()) return undefined;
    const blocks: CanonicalBlock[] = this.blocks.map((b) =>
      b.type === 'text'
        ? { type: 'text', text: b.text }
        : { type: 'tool_call', id: b.id, name: b.name, arguments: b.text },
    );
    return chatAnswer(
      blocks,
      this.stop,
      this.model,
      this.stopSequence(),
      this.fingerprint(),
      usage,
      responseModel,
      this.options,
    );
  }
}

/** OpenAI chunks: text deltas, tool calls by `index` (id and name on the first chunk), finish_reason, [DONE]. */
export class OpenAiStreamCapture extends BlockCapture {
  /** Block position of each tool call `index`. */
  private readonly calls: number[] = [];
  private fp: string | null = null;

  protected read(ev: SseEvent): void {
    if (ev.data === '[DONE]') {
      this.ended = true;
      return;
    }
    const d: unknown = JSON.parse(ev.data);
    if (!isRecord(d) || d.error !== undefined || !Array.isArray(d.choices)) {
      this.broken = true;
      return;
    }
    if (this.model === undefined && typeof d.model === 'string') this.model = d.model;
    if (typeof d.system_fingerprint === 'string') this.fp = d.system_fingerprint;
    // A usage-only chunk (choices: []) or a provider's bookkeeping chunk (Azure's prompt_filter_results).
    if (d.choices.length === 0) return;
    const c = d.choices[0];
    if (d.choices.length > 1 || !isRecord(c) || (c.index !== undefined && c.index !== 0)) {
      this.broken = true; // several choices (n > 1): replay renders one
      return;
    }
    if (c.logprobs !== undefined && c.logprobs !== null) this.broken = true;
    const delta = c.delta;
    if (isRecord(delta)) this.delta(delta);
    if (c.finish_reason !== null && c.finish_reason !== undefined) this.stop = stopFromOpenAi(c.finish_reason);
  }

  private delta(delta: Record<string, unknown>): void {
    if (typeof delta.refusal === 'string' && delta.refusal !== '') this.broken = true;
    if ((delta.audio ?? null) !== null || (delta.function_call ?? null) !== null || hasReasoning(delta))
      this.broken = true;
    if (typeof delta.content === 'string' && delta.content !== '') {
      const last = this.blocks[this.blocks.length - 1];
      if (last?.type === 'text') last.text += delta.content;
      else this.blocks.push({ type: 'text', id: '', name: '', text: delta.content });
    }
    if (!Array.isArray(delta.tool_calls)) return;
    for (const tc of delta.tool_calls) {
      const f = isRecord(tc) ? tc.function : undefined;
      const index = isRecord(tc) && typeof tc.index === 'number' ? tc.index : -1;
      if (!isRecord(tc) || index < 0) {
        this.broken = true;
        return;
      }
      const args = isRecord(f) && typeof f.arguments === 'string' ? f.arguments : '';
      const at = this.calls[index];
      if (at === undefined) {
        const name = isRecord(f) ? f.name : undefined;
        if (typeof tc.id !== 'string' || typeof name !== 'string') {
          this.broken = true; // a call's first chunk names it
          return;
        }
        this.calls[index] = this.blocks.length;
        this.blocks.push({ type: 'tool_call', id: tc.id, name, text: args });
      } else (this.blocks[at] as OpenBlock).text += args;
    }
  }

  /** The finish chunk came (a stream closed after it without [DONE] is still complete, as the relay says). */
  protected complete(): boolean {
    return this.stop !== undefined;
  }

  protected override fingerprint(): string | null {
    return this.fp;
  }
}

/** Anthropic events: message_start, content_block_start/delta/stop, message_delta, message_stop (ping ignored). */
export class AnthropicStreamCapture extends BlockCapture {
  /** Block position of each content block `index`. */
  private readonly at: number[] = [];
  private seq: string | null = null;

  protected read(ev: SseEvent): void {
    switch (ev.event) {
      case 'ping':
      case 'content_block_stop':
        return;
      case 'message_stop':
        this.ended = true;
        return;
      case 'message_start': {
        const d = parse(ev);
        const m = d?.message;
        if (!isRecord(m) || (Array.isArray(m.content) && m.content.length > 0)) this.broken = true;
        else if (typeof m.model === 'string') this.model = m.model;
        return;
      }
      case 'content_block_start': {
        const d = parse(ev);
        const b = anthropicBlock(d?.content_block);
        if (d === undefined || b === undefined || typeof d.index !== 'number') {
          this.broken = true; // thinking, server tools, citations…: not replayable
          return;
        }
        this.at[d.index] = this.blocks.length;
        this.blocks.push(
          b.type === 'text'
            ? { type: 'text', id: '', name: '', text: b.text }
            : { type: 'tool_call', id: b.id, name: b.name, text: b.arguments },
        );
        return;
      }
      case 'content_block_delta': {
        const d = parse(ev);
        const block = d !== undefined && typeof d.index === 'number' ? this.blocks[this.at[d.index] ?? -1] : undefined;
        const delta = d?.delta;
        if (block === undefined || !isRecord(delta)) this.broken = true;
        else if (delta.type === 'text_delta' && block.type === 'text' && typeof delta.text === 'string')
          block.text += delta.text;
        else if (
          delta.type === 'input_json_delta' &&
          block.type === 'tool_call' &&
          typeof delta.partial_json === 'string'
        )
          block.text += delta.partial_json;
        else this.broken = true;
        return;
      }
      case 'message_delta': {
        const delta = parse(ev)?.delta;
        if (!isRecord(delta)) {
          this.broken = true;
          return;
        }
        this.stop = stopFromAnthropic(delta.stop_reason);
        this.seq = typeof delta.stop_sequence === 'string' ? delta.stop_sequence : null;
        return;
      }
      default:
        // `error`, or an event replay does not know.
        this.broken = true;
    }
  }

  protected complete(): boolean {
    return this.ended && this.stop !== undefined;
  }

  protected override stopSequence(): string | null {
    return this.seq;
  }
}

function parse(ev: SseEvent): Record<string, unknown> | undefined {
  const d: unknown = JSON.parse(ev.data);
  return isRecord(d) ? d : undefined;
}

/** A fresh capture for one streamed answer in `format`. */
export function streamCapture(format: ClientFormat, options?: CaptureOptions): StreamCapture {
  return format === 'anthropic' ? new AnthropicStreamCapture(options) : new OpenAiStreamCapture(options);
}

/**
 * The capture of a route's cache (types.ts AnswerCapture). Both methods take the route's choices as an optional
 * last argument (`{ storeLength: route.cache.includeTruncated }`); without it, `options` (default: complete
 * answers only, no `length`).
 */
export interface RouteAnswerCapture extends AnswerCapture {
  json(format: ClientFormat, body: unknown, usage: Usage | undefined, route?: CaptureOptions): ChatAnswer | undefined;
  stream(format: ClientFormat, route?: CaptureOptions): StreamCapture;
}

export function answerCapture(options?: CaptureOptions): RouteAnswerCapture {
  return {
    json: (format, body, usage, route = options) =>
      format === 'anthropic' ? fromAnthropicBody(body, usage, route) : fromOpenAiBody(body, usage, route),
    stream: (format, route = options) => streamCapture(format, route),
  };
}

/** The default capture: complete answers only (no `length`) unless a call passes the route's choices. */
export const ANSWER_CAPTURE: RouteAnswerCapture = answerCapture();
