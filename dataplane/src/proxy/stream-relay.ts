/**
 * The stream relay of one streaming try: upstream bytes → decoded events → translated client events, one
 * chunk at a time (no buffering). It only produces text and faults; the call writes the text through
 * pipeline/respond.ts and decides what a fault means (retry before the first byte, error event after it).
 * docs/routing.md "Streams" (ADR 0040).
 */
import { GatewayError } from '../errors.js';
import type { StreamDecoder, StreamTranslator } from '../providers/types.js';
import { formatSse, type SseEvent } from '../sse/sse.js';
import { asGatewayError, type FailureKind, httpFailure } from './classify.js';

/** A stream try that failed; `pending` is translated text of this chunk not yet written (sent before the error event). */
export class StreamFault {
  constructor(
    readonly kind: FailureKind,
    readonly error: GatewayError,
    readonly pending: string,
  ) {}
}

/** One per streaming try (a 2xx answer to a streaming request); every field is set when it is made. */
export class StreamRelay {
  /** Reading the upstream is paused until the client drains what was written. */
  paused = false;

  constructor(
    readonly translator: StreamTranslator,
    readonly decoder: StreamDecoder,
  ) {}

  /**
   * A chunk of the upstream body: the client text it makes (maybe ''), or a fault. `started`: the client already
   * got the first byte (an upstream error event is then relayed as an event, not a failed try).
   */
  push(chunk: Uint8Array, started: boolean): string | StreamFault {
    // A decoder may throw on garbage (StreamDecoder's contract); inside a socket listener that would be an
    // uncaught exception, so it fails this stream instead.
    let events: SseEvent[];
    try {
      events = this.decoder.push(chunk);
    } catch (err) {
      return new StreamFault('bad_response', decodeError(err), '');
    }
    return this.translate(events, started);
  }

  /** The upstream body ended: the text of a last event the framing allows without a terminator, or a fault. */
  flush(started: boolean): string | StreamFault {
    // Bytes of an unfinished event at the end: the stream was cut mid-event, not a valid last event.
    if (this.decoder.pending) return truncated();
    let last: SseEvent[];
    try {
      last = this.decoder.end();
    } catch (err) {
      return new StreamFault('bad_response', decodeError(err), '');
    }
    return this.translate(last, started);
  }

  /** After flush: the client's closing events, or a fault when the provider's final event never came. */
  close(): string | StreamFault {
    const st = this.translator;
    if (!st.done) return truncated();
    let tail = '';
    try {
      const outs = st.end();
      for (let j = 0; j < outs.length; j++) tail += formatSse(outs[j] as SseEvent);
    } catch (err) {
      return new StreamFault('bad_response', asGatewayError(err), '');
    }
    return tail;
  }

  private translate(events: SseEvent[], started: boolean): string | StreamFault {
    const st = this.translator;
    let out = '';
    for (let i = 0; i < events.length; i++) {
      let outs: ReturnType<StreamTranslator['event']>;
      try {
        outs = st.event(events[i] as SseEvent);
      } catch (err) {
        const error =
          err instanceof GatewayError
            ? err
            : new GatewayError('upstream_bad_response', 'provider sent an invalid stream event', { cause: err });
        return new StreamFault('bad_response', error, out);
      }
      for (let j = 0; j < outs.length; j++) out += formatSse(outs[j] as SseEvent);
      const upstreamErr = st.error;
      // An error event before anything reached the client: a failed try like any other (retried by its meaning).
      if (upstreamErr !== undefined && !started)
        return new StreamFault(httpFailure(upstreamErr.status, upstreamErr.status), upstreamErr, '');
    }
    return out;
  }
}

/** The provider's final event never came (the stream was truncated, maybe in the middle of an event). */
function truncated(): StreamFault {
  return new StreamFault(
    'bad_response',
    new GatewayError('upstream_bad_response', 'provider stream ended before its final event'),
    '',
  );
}

/** A stream decoder's failure: the provider's bytes could not be framed into events. */
function decodeError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('upstream_bad_response', 'provider sent a stream that could not be decoded', { cause: err });
}
