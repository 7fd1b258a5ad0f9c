import type { ParentContext } from './sampler.js';
import { epochAnchor, type RecordedSpan, SpanKind, type SpanSink, StatusCode } from './span.js';
import { Tracer } from './tracer.js';

function recorder(): { sink: SpanSink; ended: RecordedSpan[] } {
  const ended: RecordedSpan[] = [];
  return { sink: { onEnd: (s) => ended.push(s) }, ended };
}

const remote: ParentContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  sampled: true,
  remote: true,
};

describe('Tracer and spans', () => {
  test('a child of the client traceparent keeps its trace id; its child points at it', () => {
    const { sink, ended } = recorder();
    const tracer = new Tracer(() => true, sink);
    const server = tracer.startSpan('chat m', SpanKind.SERVER, 10, remote, { a: 'x' });
    const client = tracer.startSpan('chat m', SpanKind.CLIENT, 11, server.context(), {});
    expect(server.traceId).toBe(remote.traceId);
    expect(client.traceId).toBe(remote.traceId);
    expect(client.context()).toEqual({ traceId: remote.traceId, spanId: client.spanId, sampled: true, remote: false });
    client.end(12);
    server.end(13);
    expect(ended.map((s) => s.parent?.spanId)).toEqual([server.spanId, remote.spanId]);
    expect(ended[1]!.parent?.remote).toBe(true);
  });

  test('a root span starts a new trace', () => {
    const tracer = new Tracer(() => true, recorder().sink);
    const a = tracer.startSpan('x', SpanKind.SERVER, 0, undefined, {});
    const b = tracer.startSpan('x', SpanKind.SERVER, 0, undefined, {});
    expect(a.traceId).not.toBe(b.traceId);
  });

  test('end is once: the sink sees a span once, and nothing changes after it', () => {
    const { sink, ended } = recorder();
    const s = new Tracer(() => true, sink).startSpan('x', SpanKind.SERVER, 5, undefined, { a: 1 });
    expect(s.isRecording()).toBe(true);
    s.end(3); // before its start: clamped, as the SDK does
    s.end(9);
    s.setAttribute('a', 2);
    s.setError('late');
    expect(s.isRecording()).toBe(false);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.endTime).toBe(5);
    expect(ended[0]!.attributes).toEqual(['a', 1]);
    expect(ended[0]!.statusCode).toBe(StatusCode.UNSET);
  });

  test('a span the sampler drops records nothing but still carries the trace, not sampled', () => {
    const { sink, ended } = recorder();
    const s = new Tracer(() => false, sink).startSpan('x', SpanKind.SERVER, 0, remote, { a: 1 });
    s.setAttribute('b', 2);
    s.setError('e');
    s.end();
    expect(ended).toHaveLength(0);
    expect(s.isRecording()).toBe(false);
    expect(s.traceId).toBe(remote.traceId);
    expect(s.context()).toMatchObject({ sampled: false, remote: false });
    expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  test('the epoch anchor follows the wall clock', () => {
    expect(Math.abs(epochAnchor() + performance.now() - Date.now())).toBeLessThan(50);
  });
});
