import { describe, expect, it } from '@jest/globals';
import type { Pricing } from '../../../contract/gateway-config.js';
import type { StatsView } from './stats.js';
import {
  candidates,
  DEFAULT_EXPECTED_OUTPUT_TOKENS,
  expectedInputTokens,
  expectedOutputTokens,
  leastBusy,
  leastLatency,
  lowestCost,
  type PricedCandidate,
  weightedPick,
} from './strategies.js';

interface Row {
  weight?: number;
  inFlight?: number;
  /** Latency average in ms; absent: no sample yet. */
  latency?: number;
  price?: Pricing;
  /** Upstream model; absent: the client's (priced from `catalogue`). */
  model?: string;
  catalogue?: Array<{ name: string; pricing?: Pricing }>;
}

function tier(rows: Row[]): PricedCandidate[] {
  return rows.map((r) => {
    const stats: StatsView = {
      inFlight: r.inFlight ?? 0,
      samples: r.latency === undefined ? 0 : 1,
      latencyMs: r.latency ?? 0,
      stampMs: 0,
    };
    return {
      weight: r.weight ?? 1,
      stats,
      model: r.model ?? (r.catalogue === undefined ? 'm' : undefined),
      pricing: r.price,
      provider: { models: r.catalogue ?? [] },
    };
  });
}

/** A random source that returns the given values in turn. */
function seq(...values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error('the strategy drew more random numbers than expected');
    return values[i++]!;
  };
}

describe('candidates and weightedPick', () => {
  it.each<[string, Row[], number, number]>([
    [
      'weight-0 backends are standbys when another has weight',
      [{ weight: 0 }, { weight: 2 }, { weight: 1 }],
      0b111,
      0b110,
    ],
    ['all weights 0: all of them', [{ weight: 0 }, { weight: 0 }], 0b11, 0b11],
    ['only the masked ones count', [{ weight: 1 }, { weight: 0 }, { weight: 1 }], 0b010, 0b010],
  ])('candidates: %s', (_n, rows, mask, want) => {
    expect(candidates(tier(rows), mask)).toBe(want);
  });

  it.each<[string, Row[], number, number, number]>([
    ['r below the first weight share', [{ weight: 3 }, { weight: 1 }], 0b11, 0.74, 0],
    ['r past it', [{ weight: 3 }, { weight: 1 }], 0b11, 0.76, 1],
    ['masked-out backends take no share', [{ weight: 3 }, { weight: 1 }, { weight: 4 }], 0b101, 0.4, 0],
    ['uniform when the weights are 0', [{ weight: 0 }, { weight: 0 }, { weight: 0 }], 0b111, 0.5, 1],
    ['empty mask', [{ weight: 1 }], 0, 0.5, -1],
  ])('weightedPick: %s', (_n, rows, mask, r, want) => {
    expect(weightedPick(tier(rows), mask, r)).toBe(want);
  });
});

describe('least-latency (power of two choices over peak-EWMA load)', () => {
  it.each<[string, Row[], number, number[], number]>([
    ['the faster of the two drawn wins', [{ latency: 100 }, { latency: 20 }], 0b11, [0.1, 0.5], 1],
    ['whichever is drawn first', [{ latency: 100 }, { latency: 20 }], 0b11, [0.9, 0.5], 1],
    [
      'in-flight tries weigh: 20 ms × 6 > 100 ms × 1',
      [{ latency: 100 }, { latency: 20, inFlight: 5 }],
      0b11,
      [0.1, 0.5],
      0,
    ],
    ['a newcomer with nothing in flight is probed', [{ latency: 5 }, {}], 0b11, [0.1, 0.5], 1],
    ['a newcomer whose first try is under way is not', [{ latency: 500 }, { inFlight: 1 }], 0b11, [0.9, 0.5], 0],
    ['a tie keeps the first drawn', [{ latency: 50 }, { latency: 50 }], 0b11, [0.9, 0.5], 1],
    ['one candidate: no second draw', [{ latency: 100 }, { latency: 1 }], 0b01, [0.5], 0],
    // Three backends: draws 0.9 → c (weights 1,1,1), then 0.1 of {a, b} → a; the slow one (b) is never compared.
    ['only the two drawn are compared', [{ latency: 30 }, { latency: 1 }, { latency: 60 }], 0b111, [0.9, 0.1], 0],
    [
      'weight-0 standbys are not drawn',
      [{ latency: 1, weight: 0 }, { latency: 90 }, { latency: 80 }],
      0b111,
      [0.1, 0.1],
      2,
    ],
    ['empty mask', [{ latency: 1 }], 0, [0.5], -1],
  ])('%s', (_n, rows, mask, draws, want) => {
    expect(leastLatency(tier(rows), mask, 0, seq(...draws))).toBe(want);
  });

  it('draws the two candidates by weight (90:10 → about 81% of pairs start with the heavy one)', () => {
    const t = tier([
      { weight: 9, latency: 10 },
      { weight: 1, latency: 10 },
    ]);
    let first = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const rs = [i / n, 0.5];
      let k = 0;
      // Equal loads: the first drawn wins, so the share of wins is the first draw's weight share.
      if (leastLatency(t, 0b11, 0, () => rs[k++]!) === 0) first++;
    }
    expect(first / n).toBeCloseTo(0.9, 2);
  });
});

describe('least-busy', () => {
  it.each<[string, Row[], number, number[], number]>([
    ['fewest in flight', [{ inFlight: 3 }, { inFlight: 1 }, { inFlight: 2 }], 0b111, [0.5], 1],
    [
      'ties drawn by weight',
      [{ inFlight: 1, weight: 1 }, { inFlight: 1, weight: 3 }, { inFlight: 4 }],
      0b111,
      [0.2],
      0,
    ],
    [
      'ties drawn by weight (other draw)',
      [{ inFlight: 1, weight: 1 }, { inFlight: 1, weight: 3 }, { inFlight: 4 }],
      0b111,
      [0.3],
      1,
    ],
    ['only eligible backends count', [{ inFlight: 0 }, { inFlight: 7 }], 0b10, [0.5], 1],
    [
      'a standby (weight 0) is not used while a weighted one is eligible',
      [{ inFlight: 0, weight: 0 }, { inFlight: 5 }],
      0b11,
      [0.5],
      1,
    ],
    ['empty mask', [{}], 0, [], -1],
  ])('%s', (_n, rows, mask, draws, want) => {
    expect(leastBusy(tier(rows), mask, seq(...draws))).toBe(want);
  });
});

describe('lowest-cost', () => {
  const cheapIn = { input: 0.1, output: 10 };
  const cheapOut = { input: 5, output: 1 };
  it.each<[string, Row[], number, [number, number], number[], number]>([
    // 1,000 in + 100 out: cheapIn 0.1k + 1k = 1,100; cheapOut 5k + 100 = 5,100.
    [
      'short answers favour the cheap input price',
      [{ price: cheapOut }, { price: cheapIn }],
      0b11,
      [1000, 100],
      [0.5],
      1,
    ],
    // 100 in + 1,000 out: cheapIn 10 + 10k; cheapOut 500 + 1k.
    [
      'long answers favour the cheap output price',
      [{ price: cheapOut }, { price: cheapIn }],
      0b11,
      [100, 1000],
      [0.5],
      0,
    ],
    [
      'no capacity left = not in the mask: the next cheapest',
      [{ price: cheapIn }, { price: cheapOut }],
      0b10,
      [1000, 100],
      [0.5],
      1,
    ],
    [
      'unpriced backends come after priced ones',
      [{}, { price: { input: 100, output: 100 } }],
      0b11,
      [10, 10],
      [0.5],
      1,
    ],
    ['all unpriced: drawn by weight', [{ weight: 1 }, { weight: 3 }], 0b11, [10, 10], [0.2], 0],
    ['equal prices: drawn by weight', [{ price: cheapIn }, { price: cheapIn, weight: 3 }], 0b11, [10, 10], [0.3], 1],
    [
      "the client's model is priced from the provider's catalogue",
      [
        { catalogue: [{ name: 'm', pricing: { input: 9, output: 9 } }] },
        { catalogue: [{ name: 'm', pricing: cheapIn }] },
      ],
      0b11,
      [1000, 100],
      [0.5],
      1,
    ],
    [
      'a catalogue without the model is unpriced',
      [{ catalogue: [{ name: 'other', pricing: cheapIn }] }, { price: cheapOut }],
      0b11,
      [10, 10],
      [0.5],
      1,
    ],
    ['empty mask', [{ price: cheapIn }], 0, [1, 1], [], -1],
  ])('%s', (_n, rows, mask, [input, output], draws, want) => {
    expect(lowestCost(tier(rows), mask, 'm', input, output, seq(...draws))).toBe(want);
  });
});

describe('expected tokens of a request (lowest-cost)', () => {
  it.each<[string, 'chat' | 'embeddings', Record<string, unknown>, number, number]>([
    [
      'chat text / 3, max_tokens',
      'chat',
      { messages: [{ role: 'user', content: 'x'.repeat(30) }], max_tokens: 50 },
      10,
      50,
    ],
    [
      'parts, system and several messages',
      'chat',
      {
        system: [{ type: 'text', text: 'abc' }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'abcdef' }] },
          { role: 'assistant', content: 'abc' },
        ],
        max_completion_tokens: 7,
      },
      4,
      7,
    ],
    ['no max_tokens: the default', 'chat', { messages: [] }, 0, DEFAULT_EXPECTED_OUTPUT_TOKENS],
    ['embeddings: input only', 'embeddings', { input: ['abc', 'def'] }, 2, 0],
    [
      'non-text content is not counted',
      'chat',
      { messages: [{ role: 'user', content: 42 }] },
      0,
      DEFAULT_EXPECTED_OUTPUT_TOKENS,
    ],
  ])('%s', (_n, op, body, input, output) => {
    expect(expectedInputTokens(op, body)).toBe(input);
    expect(expectedOutputTokens(op, body)).toBe(output);
  });
});
