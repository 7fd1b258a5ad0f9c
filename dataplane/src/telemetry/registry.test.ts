import { createGatewayMetrics } from './metrics.js';
import { Registry } from './registry.js';
import { formatTraceparent, parseTraceparent } from './trace-context.js';

describe('metrics registry', () => {
  test('counters and histograms render as Prometheus text, label values escaped', () => {
    const r = new Registry();
    const c = r.counter('x_total', 'help text', ['a', 'b']);
    c.labels('1', 'q"uote\\').inc();
    c.labels('1', 'q"uote\\').inc(2);
    const h = r.histogram('h_seconds', 'h', ['a'], [0.1, 1]);
    h.labels('z').observe(0.05);
    h.labels('z').observe(0.5);
    h.labels('z').observe(5);
    expect(r.render()).toBe(
      [
        '# HELP x_total help text',
        '# TYPE x_total counter',
        'x_total{a="1",b="q\\"uote\\\\"} 3',
        '# HELP h_seconds h',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{a="z",le="0.1"} 1',
        'h_seconds_bucket{a="z",le="1"} 2',
        'h_seconds_bucket{a="z",le="+Inf"} 3',
        'h_seconds_sum{a="z"} 5.55',
        'h_seconds_count{a="z"} 3',
        '',
      ].join('\n'),
    );
  });

  test('snapshot (OTLP export) reads the same children: per-bucket counts with +Inf, scaled counters divided', () => {
    const m = createGatewayMetrics();
    m.cost.labels('ai/r', 'p/m', 't').inc(2_500_000_000);
    const h = m.ttft.labels('ai/r', 'p/m');
    h.observe(0.001);
    h.observe(0.3);
    h.observe(99);
    const snap = m.registry.snapshot();
    const cost = snap.find((x) => x.name === 'tollgate_cost_usd_total')!;
    expect(cost.series).toEqual([{ attributes: { route: 'ai/r', backend: 'p/m', key_team: 't' }, value: 2.5 }]);
    const ttft = snap.find((x) => x.name === 'tollgate_time_to_first_token_seconds')!;
    expect(ttft.kind).toBe('histogram');
    const s = ttft.series[0]!;
    expect(s.value).toBe(3);
    expect(s.sum).toBeCloseTo(99.301);
    expect(s.counts).toHaveLength(ttft.buckets!.length + 1);
    expect(s.counts![0]).toBe(1); // 0.001 <= 0.005
    expect(s.counts![ttft.buckets!.indexOf(0.5)]).toBe(1); // 0.3 in (0.25, 0.5]
    expect(s.counts![ttft.buckets!.length]).toBe(1); // 99 > 30: the +Inf bucket
    expect(snap.find((x) => x.name === 'tollgate_requests_total')!.series).toEqual([]);
  });

  test('bound children are reused (no per-request allocation)', () => {
    const r = new Registry();
    const c = r.counter('y_total', 'h', ['a']);
    expect(c.labels('v')).toBe(c.labels('v'));
  });

  test('cost counter sums integer nano-USD and shows USD without drift', () => {
    const m = createGatewayMetrics();
    const child = m.cost.labels('ai/r', 'p/m', 'team');
    for (let i = 0; i < 1000; i++) child.inc(4650); // $0.00000465 each
    expect(m.registry.render()).toContain(
      'tollgate_cost_usd_total{route="ai/r",backend="p/m",key_team="team"} 0.00465\n',
    );
  });

  test('every contract metric is declared', () => {
    const text = createGatewayMetrics().registry.render();
    for (const name of [
      'gen_ai_client_token_usage',
      'gen_ai_client_operation_duration_seconds',
      'tollgate_requests_total',
      'tollgate_upstream_attempts_total',
      'tollgate_cost_usd_total',
      'tollgate_quota_rejections_total',
      'tollgate_time_to_first_token_seconds',
      'tollgate_unpriced_requests_total',
    ])
      expect(text).toContain(`# TYPE ${name} `);
  });
});

describe('traceparent', () => {
  test('parses valid and rejects malformed values', () => {
    const ctx = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(ctx).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
      remote: true,
    });
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')?.sampled).toBe(false);
    expect(formatTraceparent(ctx!)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(parseTraceparent(undefined)).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra')).toBeUndefined();
  });
});
