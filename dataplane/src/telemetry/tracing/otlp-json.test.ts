import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { rng } from '../../../../test/support/rng.js';
import { encodeKeyValues, OtlpJsonTraceEncoder, unixNanos } from './otlp-json.js';
import type { ParentContext } from './sampler.js';
import { type AttributeValue, RecordedSpan, type SpanKind, type SpanSink } from './span.js';

const noSink: SpanSink = { onEnd() {} };

/** The official SDK's ReadableSpan view of one of our spans (what its JSON serializer reads). */
function asReadable(s: RecordedSpan, resource: object, scope: object) {
  const hr = (t: number): [number, number] => {
    const n = unixNanos(s.anchor, t);
    return [Number(n.slice(0, -9)), Number(n.slice(-9))];
  };
  const attributes: Record<string, AttributeValue> = {};
  for (let i = 0; i < s.attributes.length; i += 2) attributes[s.attributes[i] as string] = s.attributes[i + 1]!;
  return {
    name: s.name,
    kind: s.kind - 1, // the API's enum starts at INTERNAL = 0, OTLP's at UNSPECIFIED = 0
    spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: 1 }),
    parentSpanContext: s.parent
      ? { traceId: s.parent.traceId, spanId: s.parent.spanId, traceFlags: 1, isRemote: s.parent.remote }
      : undefined,
    startTime: hr(s.startTime),
    endTime: hr(s.endTime),
    duration: [0, 0],
    status: s.statusMessage === undefined ? { code: s.statusCode } : { code: s.statusCode, message: s.statusMessage },
    attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

const STRINGS = [
  '',
  'chat gpt-4o',
  'quote " and \\ backslash',
  'line\nbreak\ttab\u0001ctl',
  'ünïcødé ✓ 🚀',
  '\u2028\u2029',
];

function randomValue(r: () => number): AttributeValue {
  const k = Math.floor(r() * 6);
  if (k === 0) return STRINGS[Math.floor(r() * STRINGS.length)]!;
  if (k === 1) return Math.floor(r() * 1e9) - 5e8;
  if (k === 2) return (r() - 0.5) * 1e6;
  if (k === 3) return r() * 1e-6;
  if (k === 4) return r() < 0.5;
  return `v${Math.floor(r() * 1e6)}`;
}

function randomSpan(r: () => number): RecordedSpan {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  const p = r();
  const parent: ParentContext | undefined =
    p < 0.33 ? undefined : { traceId: hex(32), spanId: hex(16), sampled: true, remote: p < 0.66 };
  const attrs: Record<string, AttributeValue> = {};
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) attrs[r() < 0.2 ? STRINGS[i % STRINGS.length]! : `k.${i}`] = randomValue(r);
  const start = r() * 1e7;
  const s = new RecordedSpan(
    parent?.traceId ?? hex(32),
    parent,
    STRINGS[Math.floor(r() * STRINGS.length)]!,
    (1 + Math.floor(r() * 3)) as SpanKind,
    start,
    attrs,
    noSink,
  );
  for (let i = 0; i < 3; i++) if (r() < 0.3) s.setAttribute(`k.${i}`, randomValue(r)); // overwrite or add
  if (r() < 0.3) s.setError(STRINGS[Math.floor(r() * STRINGS.length)]!);
  s.end(start + r() * 5000);
  return s;
}

describe('OTLP JSON encoding of spans', () => {
  test('equals what the official @opentelemetry/otlp-transformer JSON serializer makes of the same spans', () => {
    const resource = { 'service.name': 'tollgate', 'k8s.pod.name': 'tg-1', odd: 'q"\\\n' };
    const encoder = new OtlpJsonTraceEncoder(resource, 'tollgate');
    const r = rng(20261202);
    for (let round = 0; round < 200; round++) {
      const spans = Array.from({ length: 1 + Math.floor(r() * 8) }, () => randomSpan(r));
      const ours: unknown = JSON.parse(encoder.encode(spans));
      // One resource and one scope object, as the SDK has: its serializer groups spans by identity.
      const sdkResource = { attributes: resource };
      const sdkScope = { name: 'tollgate' };
      const official = JsonTraceSerializer.serializeRequest(
        spans.map((s) => asReadable(s, sdkResource, sdkScope)) as unknown as Parameters<
          typeof JsonTraceSerializer.serializeRequest
        >[0],
      );
      expect(ours).toEqual(JSON.parse(Buffer.from(official!).toString('utf8')));
    }
  });

  test('a later value of an attribute replaces the earlier one; undefined values are left out', () => {
    const s = new RecordedSpan('a'.repeat(32), undefined, 'x', 2, 0, { a: 1, b: undefined, c: 'c' }, noSink);
    s.setAttribute('a', 2);
    s.setAttribute('d', undefined);
    s.end(1);
    const body = JSON.parse(new OtlpJsonTraceEncoder({}, 'tollgate').encode([s]));
    expect(body.resourceSpans[0].scopeSpans[0].spans[0].attributes).toEqual([
      { key: 'a', value: { intValue: 2 } },
      { key: 'c', value: { stringValue: 'c' } },
    ]);
  });

  test('span limits: the first attributes kept, the rest counted as dropped; long strings cut', () => {
    const s = new RecordedSpan('a'.repeat(32), undefined, 'x', 2, 0, { a: 'héllo wörld', b: 7, c: 'c' }, noSink);
    s.setAttribute('d', true);
    s.setAttribute('a', 'abcdefgh'); // a key set again keeps its place
    s.end(1);
    const limited = new OtlpJsonTraceEncoder({}, 'tollgate', undefined, { attributeCount: 2, attributeValueLength: 5 });
    const span = JSON.parse(limited.encode([s])).resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.attributes).toEqual([
      { key: 'a', value: { stringValue: 'abcde' } },
      { key: 'b', value: { intValue: 7 } },
    ]);
    expect(span.droppedAttributesCount).toBe(2);
    const none = new OtlpJsonTraceEncoder({}, 'tollgate', undefined, { attributeCount: 0, attributeValueLength: 0 });
    const empty = JSON.parse(none.encode([s])).resourceSpans[0].scopeSpans[0].spans[0];
    expect(empty.attributes).toEqual([]);
    expect(empty.droppedAttributesCount).toBe(4);
  });

  test('non-finite numbers stay valid JSON (proto3 spells them as strings)', () => {
    const s = new RecordedSpan('a'.repeat(32), undefined, 'x', 2, 0, { n: Number.NaN, i: -Infinity }, noSink);
    s.end(1);
    const body = JSON.parse(new OtlpJsonTraceEncoder({}, 'tollgate').encode([s]));
    expect(body.resourceSpans[0].scopeSpans[0].spans[0].attributes).toEqual([
      { key: 'n', value: { doubleValue: 'NaN' } },
      { key: 'i', value: { doubleValue: '-Infinity' } },
    ]);
  });

  test('resource attributes', () => {
    expect(JSON.parse(encodeKeyValues({ 'service.name': 'gw', region: 'eu' }))).toEqual([
      { key: 'service.name', value: { stringValue: 'gw' } },
      { key: 'region', value: { stringValue: 'eu' } },
    ]);
  });
});

describe('unixNanos', () => {
  test('is the exact decimal nanoseconds of anchor + t, with carries and sub-microsecond parts', () => {
    const exact = (anchor: number, t: number) => {
      // BigInt reference: both in integer picoseconds... via the same double sum, split exactly.
      const ms = anchor + t;
      const whole = Math.floor(ms);
      return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))).toString();
    };
    const r = rng(7);
    for (let i = 0; i < 10_000; i++) {
      const anchor = 1.7e12 + Math.floor(r() * 1e11) + (r() < 0.5 ? 0.5 : 0);
      const t = r() * 1e9;
      expect(unixNanos(anchor, t)).toBe(exact(anchor, t));
    }
    expect(unixNanos(1_796_000_000_000, 0)).toBe('1796000000000000000');
    expect(unixNanos(1_796_000_000_999, 0.9999999)).toBe('1796000001000000000');
    expect(unixNanos(1_796_000_000_000, 1.5)).toBe('1796000000001500000');
  });
});
