/**
 * The spans Tollgate records: plain objects with the few fields a request's spans need, appended to by
 * the request path and handed to a sink when they end. No context manager, no attribute copies: an
 * attribute is two array slots until the span is serialized for export (otlp-json.ts).
 */
import { newSpanId } from './ids.js';
import type { ParentContext } from './sampler.js';

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue | undefined>;

/** OTLP span kinds (opentelemetry/proto/trace/v1 Span.SpanKind). */
export const SpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** OTLP status codes. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** What the request path does with a span, recorded or not. */
export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  /** Exported when it ends (the sampler said yes). */
  readonly sampled: boolean;
  /** This span as the parent of a child span, or of the upstream's traceparent. */
  context(): ParentContext;
  isRecording(): boolean;
  setAttribute(key: string, value: AttributeValue | undefined): void;
  /** Marks the span failed (OTLP status ERROR) with a short reason. */
  setError(message: string): void;
  /** Ends the span at `time` (performance.now() milliseconds; default now). Later calls do nothing. */
  end(time?: number): void;
}

/** Receives each recorded span once, when it ends. */
export interface SpanSink {
  onEnd(span: RecordedSpan): void;
}

/**
 * Milliseconds since the epoch at performance.now() = 0, re-read at most once a second so spans follow the
 * wall clock (NTP steps) the way Date.now() does, while durations within a span stay monotonic.
 */
let anchor = Date.now() - performance.now();
let anchorAt = performance.now();
export function epochAnchor(): number {
  const now = performance.now();
  if (now - anchorAt > 1000) {
    anchor = Date.now() - now;
    anchorAt = now;
  }
  return anchor;
}

export class RecordedSpan implements Span {
  readonly sampled = true;
  /** Keys and values, alternating, in the order first set (a key set again keeps its place). */
  readonly attributes: (string | AttributeValue)[] = [];
  statusCode: number = StatusCode.UNSET;
  statusMessage: string | undefined;
  /** performance.now() milliseconds; -1 until ended. */
  endTime = -1;
  readonly spanId: string = newSpanId();
  /** Epoch milliseconds at performance.now() = 0 when the span started (see epochAnchor). */
  readonly anchor: number = epochAnchor();

  constructor(
    readonly traceId: string,
    readonly parent: ParentContext | undefined,
    readonly name: string,
    readonly kind: SpanKind,
    readonly startTime: number,
    attributes: Attributes,
    private readonly sink: SpanSink,
  ) {
    for (const k in attributes) {
      const v = attributes[k];
      if (v !== undefined) this.attributes.push(k, v);
    }
  }

  context(): ParentContext {
    return { traceId: this.traceId, spanId: this.spanId, sampled: true, remote: false };
  }

  isRecording(): boolean {
    return this.endTime < 0;
  }

  setAttribute(key: string, value: AttributeValue | undefined): void {
    if (value === undefined || this.endTime >= 0) return;
    const a = this.attributes;
    for (let i = 0; i < a.length; i += 2)
      if (a[i] === key) {
        a[i + 1] = value;
        return;
      }
    a.push(key, value);
  }

  setError(message: string): void {
    if (this.endTime >= 0) return;
    this.statusCode = StatusCode.ERROR;
    this.statusMessage = message;
  }

  end(time: number = performance.now()): void {
    if (this.endTime >= 0) return;
    this.endTime = Math.max(time, this.startTime);
    this.sink.onEnd(this);
  }
}

/** A span the sampler dropped: it still has ids, so the trace (with its not-sampled flag) carries on. */
export class UnsampledSpan implements Span {
  readonly sampled = false;
  readonly spanId: string = newSpanId();
  constructor(readonly traceId: string) {}
  context(): ParentContext {
    return { traceId: this.traceId, spanId: this.spanId, sampled: false, remote: false };
  }
  isRecording(): boolean {
    return false;
  }
  setAttribute(): void {}
  setError(): void {}
  end(): void {}
}
