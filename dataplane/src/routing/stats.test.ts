import { describe, expect, it } from '@jest/globals';
import { BackendStats, decayedLatency, LATENCY_TAU_MS, latencyLoad, type StatsView } from './stats.js';

const view = (over: Partial<StatsView>): StatsView => ({ inFlight: 0, samples: 1, latencyMs: 0, stampMs: 0, ...over });

describe('peak-EWMA latency (BackendStats.observe)', () => {
  // Each row: samples [ms, at] in order, then the average right after the last one.
  it.each<[string, Array<[number, number]>, number]>([
    ['the first sample is the average', [[120, 0]], 120],
    [
      'a sample above the average replaces it at once (peak rule)',
      [
        [100, 0],
        [400, 10],
      ],
      400,
    ],
    [
      'a sample below the decayed average moves it by 1 - e^(-Δt/τ)',
      [
        [100, 0],
        [20, LATENCY_TAU_MS],
      ],
      100 * Math.exp(-1) + 20 * (1 - Math.exp(-1)),
    ],
    [
      'a lower sample right after weighs almost nothing',
      [
        [100, 0],
        [10, 1],
      ],
      100 * Math.exp(-1 / LATENCY_TAU_MS) + 10 * (1 - Math.exp(-1 / LATENCY_TAU_MS)),
    ],
    [
      'a sample above the decayed (not the stored) average is a peak',
      [
        [100, 0],
        [50, LATENCY_TAU_MS],
      ],
      50,
    ],
    [
      'after a long quiet spell the average has decayed, so a sample above the decayed value is a peak',
      [
        [400, 0],
        [100, 5 * LATENCY_TAU_MS],
      ],
      100,
    ],
  ])('%s', (_name, samples, want) => {
    const s = new BackendStats();
    for (const [ms, at] of samples) s.observe(ms, at);
    expect(s.latencyMs).toBeCloseTo(want, 9);
    expect(s.samples).toBe(samples.length);
    expect(s.stampMs).toBe(samples[samples.length - 1]![1]);
  });

  it('a failure only ever raises the average', () => {
    const s = new BackendStats();
    s.observeFailure(5, 0);
    expect(s.latencyMs).toBe(5); // nothing known yet: any duration is above 0
    s.observe(100, 1);
    s.observeFailure(3, 2); // a fast 500: ignored
    expect(s.latencyMs).toBe(100);
    expect(s.samples).toBe(2);
    s.observeFailure(30_000, 3); // a timeout: the backend is that slow now
    expect(s.latencyMs).toBe(30_000);
  });
});

describe('latencyLoad (what least-latency compares)', () => {
  it.each<[string, StatsView, number, number]>([
    ['no sample, nothing in flight: the best (probed at once)', view({ samples: 0 }), 0, 0],
    ['no sample, tries in flight: worse than any measured backend', view({ samples: 0, inFlight: 2 }), 0, 1e15 + 2],
    ['measured: the latency times (in flight + 1)', view({ latencyMs: 50, inFlight: 3 }), 0, 200],
    ['the average decays toward 0 while no sample comes', view({ latencyMs: 50 }), LATENCY_TAU_MS, 50 * Math.exp(-1)],
    ['a clock behind the stamp does not inflate it', view({ latencyMs: 50, stampMs: 100 }), 0, 50],
  ])('%s', (_name, s, now, want) => {
    expect(latencyLoad(s, now)).toBeCloseTo(want, 9);
  });

  it('decayedLatency is 0 without a sample', () => {
    expect(decayedLatency(view({ samples: 0, latencyMs: 99 }), 0)).toBe(0);
  });
});
