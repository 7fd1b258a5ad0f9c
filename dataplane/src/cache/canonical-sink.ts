/**
 * The attempt loop's capture seam (proxy/types.ts AnswerSink) over the canonical answer (ADR 0073): what a cached
 * route's miss hands the call (RoutedRequest.capture) so that the answer the client got is captured in the client's
 * format and given to `store` (the cache stage's: it applies the route's includeTruncated and writes the entry).
 * Made only on a miss of a cached route: routes without a cache pay nothing (the call checks `capture` once per
 * answer and the relay once per event).
 */
import type { ClientFormat } from '../errors.js';
import type { Usage } from '../providers/types.js';
import type { AnswerSink, AnswerSource } from '../proxy/types.js';
import type { CaptureOptions } from './canonical.js';
import { answerCapture, type RouteAnswerCapture } from './canonical-stream.js';
import type { CanonicalAnswer, StreamCapture } from './types.js';

/** Takes a captured answer (undefined: not capturable, nothing to store) and who produced it. */
export type StoreAnswer = (answer: CanonicalAnswer | undefined, from: AnswerSource) => void;

/**
 * The capture the sink uses: answers cut by the token limit are captured too (stop `length`), since the store
 * step decides on them with the route's includeTruncated; everything not complete or not replayable is not.
 */
const CAPTURE: RouteAnswerCapture = answerCapture({ storeLength: true });

class CanonicalSink implements AnswerSink<StreamCapture> {
  constructor(
    private readonly format: ClientFormat,
    private readonly store: StoreAnswer,
    private readonly options: CaptureOptions | undefined,
  ) {}

  stream(): StreamCapture {
    return CAPTURE.stream(this.format, this.options);
  }

  answered(body: unknown, usage: Usage | undefined, _responseModel: string | undefined, from: AnswerSource): void {
    this.store(CAPTURE.json(this.format, body, usage, this.options), from);
  }

  streamed(
    events: StreamCapture,
    usage: Usage | undefined,
    responseModel: string | undefined,
    from: AnswerSource,
  ): void {
    this.store(events.end(usage, responseModel), from);
  }
}

/**
 * The sink of one miss in client format `format`. `options` default to capturing `length` answers (the store
 * decides); pass `{ storeLength: false }` to drop them at capture.
 */
export function canonicalSink(format: ClientFormat, store: StoreAnswer, options?: CaptureOptions): AnswerSink {
  return new CanonicalSink(format, store, options);
}
