/**
 * Spans to the OTLP/HTTP JSON encoding (ExportTraceServiceRequest, proto3 JSON mapping with hex ids as the
 * OTLP spec asks), written straight into one string: no intermediate OTLP objects per span. Pure; the
 * official @opentelemetry/otlp-transformer encoding of the same spans is the reference in its test.
 */
import type { RecordedSpan } from './span.js';

/** A resource or scope attribute list, encoded once. */
export type KeyValues = Readonly<Record<string, string>>;

/** Epoch nanoseconds (decimal string) of performance.now() time `t` given the span's epoch anchor. */
export function unixNanos(anchor: number, t: number): string {
  // Split before adding so no double ever holds nanoseconds since 1970 (2^53 ns is only 104 days).
  const ms = anchor + t;
  let sec = Math.trunc(ms / 1000);
  let nanos = Math.round((ms - sec * 1000) * 1e6);
  if (nanos >= 1e9) {
    sec += 1;
    nanos -= 1e9;
  } else if (nanos < 0) {
    sec -= 1;
    nanos += 1e9;
  }
  return nanos === 0 ? `${sec}000000000` : `${sec}${String(nanos).padStart(9, '0')}`;
}

function anyValue(v: string | number | boolean): string {
  switch (typeof v) {
    case 'string':
      return `{"stringValue":${JSON.stringify(v)}}`;
    case 'boolean':
      return v ? '{"boolValue":true}' : '{"boolValue":false}';
    default:
      if (Number.isInteger(v)) return `{"intValue":${v}}`;
      // proto3 JSON spells the non-finite doubles as strings.
      if (Number.isFinite(v)) return `{"doubleValue":${v}}`;
      return `{"doubleValue":"${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}"}`;
  }
}

export function encodeKeyValues(kv: KeyValues): string {
  const parts: string[] = [];
  for (const k of Object.keys(kv)) parts.push(`{"key":${JSON.stringify(k)},"value":${anyValue(kv[k]!)}}`);
  return `[${parts.join(',')}]`;
}

/** OTLP span flags: the W3C trace flags, plus whether the parent's remoteness is known and true. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

/**
 * The span limits of the SDK environment variables that apply to Tollgate's spans (they have no events or
 * links): OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT / OTEL_ATTRIBUTE_COUNT_LIMIT (default 128) and
 * OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT / OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT (default none).
 */
export interface SpanLimits {
  /** Attributes kept per span, the first set; the rest are counted in droppedAttributesCount. */
  attributeCount: number;
  /** String values are cut to this many UTF-16 code units (as the SDK does). */
  attributeValueLength: number;
}

export const DEFAULT_SPAN_LIMITS: SpanLimits = Object.freeze({
  attributeCount: 128,
  attributeValueLength: Number.POSITIVE_INFINITY,
});

function encodeSpan(s: RecordedSpan, limits: SpanLimits): string {
  const a = s.attributes;
  const kept = Math.min(a.length, limits.attributeCount * 2);
  const maxLen = limits.attributeValueLength;
  let attrs = '';
  for (let i = 0; i < kept; i += 2) {
    let v = a[i + 1]!;
    if (typeof v === 'string' && v.length > maxLen) v = v.slice(0, maxLen);
    attrs += `${i === 0 ? '' : ','}{"key":${JSON.stringify(a[i])},"value":${anyValue(v)}}`;
  }
  const p = s.parent;
  const status =
    s.statusMessage === undefined
      ? `{"code":${s.statusCode}}`
      : `{"code":${s.statusCode},"message":${JSON.stringify(s.statusMessage)}}`;
  return (
    `{"traceId":"${s.traceId}","spanId":"${s.spanId}",${p ? `"parentSpanId":"${p.spanId}",` : ''}` +
    `"name":${JSON.stringify(s.name)},"kind":${s.kind},` +
    `"startTimeUnixNano":"${unixNanos(s.anchor, s.startTime)}","endTimeUnixNano":"${unixNanos(s.anchor, s.endTime)}",` +
    `"attributes":[${attrs}],"droppedAttributesCount":${(a.length - kept) / 2},"events":[],"droppedEventsCount":0,` +
    `"status":${status},"links":[],"droppedLinksCount":0,` +
    `"flags":${1 | HAS_IS_REMOTE | (p?.remote ? IS_REMOTE : 0)}}`
  );
}

/**
 * A serializer for one resource and one instrumentation scope (the only ones Tollgate has): an export
 * body is `head`, the spans' `span()` joined by commas, and `tail` (tracing/batch.ts builds it span by
 * span; `encode` does it at once).
 */
export class OtlpJsonTraceEncoder {
  readonly head: string;
  readonly tail = ']}]}]}';

  constructor(
    resource: KeyValues,
    scopeName: string,
    scopeVersion?: string,
    private readonly limits: SpanLimits = DEFAULT_SPAN_LIMITS,
  ) {
    const scope =
      scopeVersion === undefined
        ? `{"name":${JSON.stringify(scopeName)}}`
        : `{"name":${JSON.stringify(scopeName)},"version":${JSON.stringify(scopeVersion)}}`;
    this.head = `{"resourceSpans":[{"resource":{"attributes":${encodeKeyValues(resource)},"droppedAttributesCount":0},"scopeSpans":[{"scope":${scope},"spans":[`;
  }

  span(s: RecordedSpan): string {
    return encodeSpan(s, this.limits);
  }

  encode(spans: readonly RecordedSpan[]): string {
    let body = this.head;
    for (let i = 0; i < spans.length; i++) body += (i === 0 ? '' : ',') + this.span(spans[i]!);
    return body + this.tail;
  }
}
