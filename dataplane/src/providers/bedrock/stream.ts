/**
 * What both Bedrock stream translators share: reading converse-stream events (already decoded from the
 * event-stream framing), exceptions and decode errors, the stop reason and the usage from `metadata`. The
 * client-format writing is left to the subclasses (they write through common/'s OpenAiChunkWriter and
 * AnthropicStreamWriter). Pure.
 *
 * Converse-specific, so kept here rather than in common/: text blocks have no start event (the first delta opens
 * one), and `messageStop` is followed by `metadata` (usage), so the closing events are written when the upstream
 * closes, not at messageStop.
 */
import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import { badResponse, isRecord, num, parseUpstreamJson, str } from '../common/json.js';
import { BaseStream } from '../common/stream.js';
import { bedrockStreamError } from './errors.js';
import { DECODE_ERROR } from './eventstream.js';
import { usageFromBedrock } from './shared.js';

/** True for event names Bedrock uses for exceptions (and the event-stream `error` message). */
export function isStreamException(name: string | undefined): boolean {
  return name !== undefined && (name === 'error' || name.endsWith('Exception'));
}

export function toolDeltaWithoutStart(): GatewayError {
  return badResponse('upstream Bedrock toolUse delta for a block that never started');
}

export abstract class BedrockStream extends BaseStream {
  // `done`: true once messageStop arrived (metadata with usage may still follow).
  private started = false;
  private stopReason: string | undefined;
  private closed = false;

  /** The client-format error event. */
  protected abstract errorEvent(err: GatewayError): SseEvent;
  /** The first client event(s): OpenAI's role chunk, Anthropic's message_start. */
  protected abstract opening(out: SseEvent[]): void;
  /** A tool call starts at Converse content block `block`. */
  protected abstract toolStart(out: SseEvent[], block: number, id: string, name: string): void;
  /** A text delta of content block `block` (possibly empty). */
  protected abstract text(out: SseEvent[], block: number, text: string): void;
  /** A piece of a tool call's input JSON (possibly empty); throws toolDeltaWithoutStart() for an unknown block. */
  protected abstract toolInput(out: SseEvent[], block: number, input: string): void;
  /** Content block `block` ended. */
  protected blockStop(_out: SseEvent[], _block: number): void {}
  /** The closing events, once the upstream closed after messageStop. */
  protected abstract closing(out: SseEvent[], stopReason: string | undefined): void;

  private start(out: SseEvent[]): void {
    if (this.started) return;
    this.started = true;
    this.opening(out);
  }

  event(ev: SseEvent): SseEvent[] {
    if (this.error !== undefined || this.closed) return [];
    if (ev.event === DECODE_ERROR) throw badResponse(ev.data);
    if (isStreamException(ev.event)) {
      const err = bedrockStreamError(ev.event ?? 'error', ev.data);
      this.error = err;
      this.done = true;
      return [this.errorEvent(err)];
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
        this.toolStart(out, num(d.contentBlockIndex), tu.toolUseId, tu.name);
        break;
      }
      case 'contentBlockDelta': {
        const delta = d.delta;
        if (!isRecord(delta)) throw badResponse('upstream Bedrock contentBlockDelta has no delta');
        this.start(out);
        if (typeof delta.text === 'string') this.text(out, num(d.contentBlockIndex), delta.text);
        else if (isRecord(delta.toolUse)) this.toolInput(out, num(d.contentBlockIndex), str(delta.toolUse.input) ?? '');
        // reasoningContent and citation deltas: dropped.
        break;
      }
      case 'contentBlockStop':
        this.blockStop(out, num(d.contentBlockIndex));
        break;
      case 'messageStop':
        this.stopReason = str(d.stopReason);
        this.done = true;
        break;
      case 'metadata': {
        const u = usageFromBedrock(d.usage);
        if (u) this.u = u;
        break;
      }
      // unknown events: nothing to say.
    }
    return out;
  }

  override end(): SseEvent[] {
    if (!this.done || this.error !== undefined || this.closed) return [];
    this.closed = true;
    const out: SseEvent[] = [];
    this.start(out);
    this.closing(out, this.stopReason);
    return out;
  }
}
