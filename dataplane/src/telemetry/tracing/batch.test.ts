import { type BatchSettings, type EncodedBatch, type ExportFn, SpanBatcher } from './batch.js';
import { OtlpJsonTraceEncoder } from './otlp-json.js';
import { RecordedSpan, SpanKind, type SpanSink } from './span.js';

const encoder = new OtlpJsonTraceEncoder({ 'service.name': 'test' }, 'tollgate');

/** The span names in an export body, parsed back from its JSON. */
function names(batch: EncodedBatch): string[] {
  const body = JSON.parse(batch.body.toString('utf8')) as {
    resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[];
  };
  const spans = body.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name);
  expect(spans).toHaveLength(batch.count);
  return spans;
}

const settings = (over: Partial<BatchSettings> = {}): BatchSettings => ({
  delayMs: 60_000,
  maxQueueSize: 100,
  maxExportBatchSize: 10,
  exportTimeoutMs: 30_000,
  ...over,
});

/** An exporter whose batches are answered when the test says so. */
function manualExporter() {
  const calls: { spans: string[]; done: (ok: boolean, error?: Error) => void }[] = [];
  const send: ExportFn = (batch, done) => calls.push({ spans: names(batch), done });
  return { send, calls };
}

let n = 0;
function endSpan(sink: SpanSink): RecordedSpan {
  const s = new RecordedSpan('a'.repeat(32), undefined, `s${n++}`, SpanKind.SERVER, 0, {}, sink);
  s.end(1);
  return s;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SpanBatcher', () => {
  test('a full batch is exported at once, one export at a time, the rest after it', async () => {
    const ex = manualExporter();
    const b = new SpanBatcher(encoder, ex.send, settings());
    for (let i = 0; i < 25; i++) endSpan(b);
    expect(ex.calls).toHaveLength(1);
    expect(ex.calls[0]!.spans).toHaveLength(10);
    ex.calls[0]!.done(true);
    await tick();
    expect(ex.calls).toHaveLength(2); // 15 queued ≥ a batch: next one right away
    expect(ex.calls[1]!.spans).toHaveLength(10);
    ex.calls[1]!.done(true);
    await tick();
    expect(ex.calls).toHaveLength(2); // 5 left wait for the delay (60 s here) or a flush
    const flushed = b.flush();
    await tick();
    expect(ex.calls[2]!.spans).toHaveLength(5);
    ex.calls[2]!.done(true);
    await flushed;
    expect(b.stats).toEqual({ exported: 25, dropped: 0, failed: 0 });
    const exported = ex.calls.flatMap((c) => c.spans);
    expect(new Set(exported).size).toBe(25);
  });

  test('a partial batch goes out after the schedule delay', async () => {
    const ex = manualExporter();
    const b = new SpanBatcher(encoder, ex.send, settings({ delayMs: 20 }));
    endSpan(b);
    endSpan(b);
    expect(ex.calls).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(ex.calls).toHaveLength(1);
    expect(ex.calls[0]!.spans).toHaveLength(2);
  });

  test('a full queue drops spans (counted and reported), never blocks or grows', async () => {
    const ex = manualExporter();
    const dropped: number[] = [];
    const b = new SpanBatcher(encoder, ex.send, settings({ maxQueueSize: 30 }), { dropped: (c) => dropped.push(c) });
    for (let i = 0; i < 50; i++) endSpan(b); // 10 in the running export, 30 queued, 10 dropped
    expect(b.stats.dropped).toBe(10);
    ex.calls[0]!.done(true);
    await tick();
    expect(dropped).toEqual([10]); // reported with the next export
  });

  test('failed, thrown and timed-out exports lose only their batch and are reported', async () => {
    const failures: number[] = [];
    let mode: 'fail' | 'throw' | 'hang' = 'fail';
    const send: ExportFn = (_spans, done) => {
      if (mode === 'fail') done(false, new Error('503'));
      else if (mode === 'throw') throw new Error('boom');
    };
    const b = new SpanBatcher(encoder, send, settings({ exportTimeoutMs: 30 }), { failed: (c) => failures.push(c) });
    for (let i = 0; i < 10; i++) endSpan(b);
    await b.flush();
    mode = 'throw';
    for (let i = 0; i < 10; i++) endSpan(b);
    await b.flush();
    mode = 'hang';
    for (let i = 0; i < 10; i++) endSpan(b);
    await b.flush(); // resolves by the export timeout
    expect(failures).toEqual([10, 10, 10]);
    expect(b.stats).toEqual({ exported: 0, dropped: 0, failed: 30 });
  });

  test('shutdown flushes what is queued, then takes no more', async () => {
    const got: number[] = [];
    const b = new SpanBatcher(
      encoder,
      (batch, done) => {
        got.push(names(batch).length);
        done(true);
      },
      settings(),
    );
    for (let i = 0; i < 13; i++) endSpan(b);
    await b.shutdown();
    endSpan(b);
    await b.flush();
    expect(got).toEqual([10, 3]);
  });

  test('each body is byte for byte the encoding of its spans, multi-byte text and oversized spans included', async () => {
    const bodies: EncodedBatch[] = [];
    const b = new SpanBatcher(
      encoder,
      (batch, done) => {
        bodies.push(batch);
        done(true);
      },
      settings({ maxExportBatchSize: 4, maxQueueSize: 1000 }),
    );
    const ended: RecordedSpan[] = [];
    const values = ['ascii', 'ümlaut ✓ 模型 😀', 'x'.repeat(200_000), '\u2028 "quoted" \\ back', '\ud800 lone'];
    for (let i = 0; i < 11; i++) {
      const s = new RecordedSpan(
        'b'.repeat(32),
        undefined,
        `span ${i} ✓`,
        SpanKind.CLIENT,
        i,
        {
          v: values[i % values.length],
          n: i,
          ok: i % 2 === 0,
        },
        b,
      );
      s.end(i + 1);
      ended.push(s);
    }
    await b.flush();
    expect(bodies.map((x) => x.count)).toEqual([4, 4, 3]);
    for (let i = 0; i < bodies.length; i++) {
      const expected = Buffer.from(encoder.encode(ended.slice(i * 4, i * 4 + 4)), 'utf8');
      expect(bodies[i]!.body.equals(expected)).toBe(true);
      JSON.parse(bodies[i]!.body.toString('utf8'));
    }
  });
});
