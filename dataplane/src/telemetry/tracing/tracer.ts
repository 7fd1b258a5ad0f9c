/** Starts spans: a new trace, or a child of the client's traceparent or of another span; sampled or not. */
import { newTraceId } from './ids.js';
import type { ParentContext, Sampler } from './sampler.js';
import { type Attributes, RecordedSpan, type Span, type SpanKind, type SpanSink, UnsampledSpan } from './span.js';

export class Tracer {
  constructor(
    private readonly sampler: Sampler,
    private readonly sink: SpanSink,
  ) {}

  /** `startTime` is performance.now() milliseconds. */
  startSpan(
    name: string,
    kind: SpanKind,
    startTime: number,
    parent: ParentContext | undefined,
    attributes: Attributes,
  ): Span {
    const traceId = parent ? parent.traceId : newTraceId();
    if (!this.sampler(parent, traceId)) return new UnsampledSpan(traceId);
    return new RecordedSpan(traceId, parent, name, kind, startTime, attributes, this.sink);
  }
}
