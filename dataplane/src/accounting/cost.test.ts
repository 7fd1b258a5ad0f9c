import { ZERO_USAGE } from '../providers/common/usage.js';
import type { Usage } from '../providers/types.js';
import { buildPriceIndex, compilePricing, computeCost, costNano, costPico } from './cost.js';

const u = (over: Partial<Usage>): Usage => ({ ...ZERO_USAGE, ...over });

describe('cost', () => {
  const mini = compilePricing({ input: 0.15, output: 0.6, cachedInput: 0.075 });

  test('input and output at their prices, exact in pico-USD', () => {
    // 1000 × 0.15 + 500 × 0.60 USD per 1M = 0.00015 + 0.0003 = 0.00045 USD
    expect(costPico(u({ inputTokens: 1000, outputTokens: 500 }), mini)).toBe(450_000_000);
    expect(costNano(u({ inputTokens: 1000, outputTokens: 500 }), mini)).toBe(450_000);
  });

  test('no float drift over many small requests', () => {
    let nano = 0;
    for (let i = 0; i < 100_000; i++) nano += costNano(u({ inputTokens: 3, outputTokens: 7 }), mini);
    // each: 3×0.15 + 7×0.60 = 4.65 micro-USD = 4650 nano; float sums of 0.00000465 would drift
    expect(nano).toBe(465_000_000);
  });

  test('cached input is billed once, at the cached price', () => {
    // 1000 input of which 800 cached: 200 × 0.15 + 800 × 0.075 = 30 + 60 = 90 micro-USD
    expect(costNano(u({ inputTokens: 1000, cachedInputTokens: 800 }), mini)).toBe(90_000);
  });

  test('cache writes billed at cacheWrite (Anthropic-style 1.25× input)', () => {
    const sonnet = compilePricing({ input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 });
    // input total 10_000 = 1000 uncached + 4000 read + 5000 written
    const usage = u({ inputTokens: 10_000, cachedInputTokens: 4000, cacheCreationTokens: 5000, outputTokens: 100 });
    // 1000×3 + 4000×0.3 + 5000×3.75 + 100×15 = 3000 + 1200 + 18750 + 1500 = 24450 micro-USD
    expect(costNano(usage, sonnet)).toBe(24_450_000);
  });

  test('cachedInput and cacheWrite default to the input price', () => {
    const p = compilePricing({ input: 2, output: 8 });
    expect(p.cachedInput).toBe(p.input);
    expect(p.cacheWrite).toBe(p.input);
    expect(costNano(u({ inputTokens: 100, cachedInputTokens: 100 }), p)).toBe(200_000);
  });

  test('inconsistent usage (cached > input) never goes negative', () => {
    expect(costNano(u({ inputTokens: 10, cachedInputTokens: 50 }), mini)).toBe(Math.ceil((50 * 75_000) / 1000));
  });

  test('a model with no price is unpriced, never $0', () => {
    const index = buildPriceIndex({
      providers: [
        {
          id: 'ai/openai',
          namespace: 'ai',
          name: 'openai',
          type: 'openai',
          baseUrl: 'https://api.openai.com/v1',
          models: [{ name: 'gpt-4o-mini', pricing: { input: 0.15, output: 0.6 } }, { name: 'free-form' }],
          connectTimeoutMs: 1000,
          requestTimeoutMs: 1000,
        },
      ],
    });
    expect(computeCost(index, 'ai/openai', 'free-form', u({ inputTokens: 5 }))).toEqual({ priced: false });
    expect(computeCost(index, 'ai/openai', 'unknown', u({ inputTokens: 5 }))).toEqual({ priced: false });
    expect(computeCost(index, 'ai/other', 'gpt-4o-mini', u({ inputTokens: 5 }))).toEqual({ priced: false });
    const c = computeCost(index, 'ai/openai', 'gpt-4o-mini', u({ inputTokens: 1_000_000 }));
    expect(c).toEqual({ priced: true, nano: 150_000_000, usd: 0.15 });
  });
});
