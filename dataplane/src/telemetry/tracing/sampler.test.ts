import { newSpanId, newTraceId } from './ids.js';
import { type ParentContext, parentBased, samplerFromEnv, traceIdRatio } from './sampler.js';

const parent = (sampled: boolean): ParentContext => ({
  traceId: newTraceId(),
  spanId: newSpanId(),
  sampled,
  remote: true,
});

describe('samplerFromEnv', () => {
  test('default: parentbased_always_on (roots sampled, children follow the parent)', () => {
    const s = samplerFromEnv({});
    expect(s.description).toBe('parentbased_always_on');
    expect(s.warning).toBeUndefined();
    expect(s.sampler(undefined, newTraceId())).toBe(true);
    expect(s.sampler(parent(false), newTraceId())).toBe(false);
    expect(s.sampler(parent(true), newTraceId())).toBe(true);
  });

  test('always_on and always_off ignore the parent', () => {
    const on = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' }).sampler;
    const off = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'ALWAYS_OFF' }).sampler;
    expect(on(parent(false), newTraceId())).toBe(true);
    expect(off(parent(true), newTraceId())).toBe(false);
    expect(off(undefined, newTraceId())).toBe(false);
  });

  test('traceidratio samples about the share asked for, the same way for the same trace id', () => {
    const s = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    expect(s.description).toBe('traceidratio(0.25)');
    let yes = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const id = newTraceId();
      const d = s.sampler(undefined, id);
      expect(s.sampler(parent(!d), id)).toBe(d); // the parent does not matter, the id does
      if (d) yes++;
    }
    // Binomial(20000, 0.25): sd ≈ 61; ±1000 is 16 sd.
    expect(Math.abs(yes - n / 4)).toBeLessThan(1000);
  });

  test('parentbased_traceidratio: roots by ratio, children by parent', () => {
    const s = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });
    expect(s.sampler(undefined, newTraceId())).toBe(false);
    expect(s.sampler(parent(true), newTraceId())).toBe(true);
    const off = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }).sampler;
    expect(off(undefined, newTraceId())).toBe(false);
    expect(off(parent(true), newTraceId())).toBe(true);
  });

  test('a ratio decided by the XOR of the id words against ratio × (2^32 − 1)', () => {
    const half = traceIdRatio(0.5);
    // words 00000001 ^ 00000000 ^ 00000000 ^ 00000000 = 1: far below the bound.
    expect(half(undefined, `00000001${'0'.repeat(24)}`)).toBe(true);
    // ffffffff: above.
    expect(half(undefined, `ffffffff${'0'.repeat(24)}`)).toBe(false);
    // 7fffffff ^ 00000000... = 0x7fffffff = floor(0.5 × 0xffffffff): not below.
    expect(half(undefined, `7fffffff${'0'.repeat(24)}`)).toBe(false);
    expect(traceIdRatio(1)(undefined, 'f'.repeat(32))).toBe(true);
    expect(parentBased(traceIdRatio(0))(undefined, `00000001${'0'.repeat(24)}`)).toBe(false);
  });

  test('unknown samplers and bad ratios fall back with a warning, never throw', () => {
    const unknown = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'jaeger_remote' });
    expect(unknown.description).toBe('parentbased_always_on');
    expect(unknown.warning).toMatch(/jaeger_remote is not supported/);
    const bad = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' });
    expect(bad.description).toBe('traceidratio(1)');
    expect(bad.warning).toMatch(/OTEL_TRACES_SAMPLER_ARG=1.5/);
  });
});

describe('ids', () => {
  test('lowercase hex of 16 and 8 bytes, not zero, distinct across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      expect(t).not.toBe('0'.repeat(32));
      seen.add(t);
      seen.add(s);
    }
    expect(seen.size).toBe(4000);
  });
});
