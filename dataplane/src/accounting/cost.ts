/**
 * Usage × pricing → cost, exactly. Prices are USD per 1M tokens; they are converted once, when the config
 * loads, into integer micro-USD per 1M tokens, so `tokens × price` is an integer number of pico-USD
 * (1e-12 USD) and no float drift accumulates. Cost leaves this module as integer nano-USD (1e-9 USD), the
 * unit the quota counters and the cost metric add up.
 *
 * Canonical usage (dataplane/src/providers/types.ts, docs/translation.md): `inputTokens` is ALL input
 * tokens, cached reads and cache writes included (OpenAI `prompt_tokens`; Anthropic
 * `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`). So the uncached part is
 * `inputTokens - cachedInputTokens - cacheCreationTokens`, each part billed once at its own price.
 * Reasoning tokens are part of `outputTokens` and billed as output.
 */
import type { GatewayConfig, Pricing } from '../../../contract/gateway-config.js';
import type { Usage } from '../providers/types.js';

/** Integer micro-USD per 1M tokens for each token class. */
export interface PriceRt {
  input: number;
  output: number;
  cachedInput: number;
  cacheWrite: number;
}

export type PriceIndex = ReadonlyMap<string, ReadonlyMap<string, PriceRt>>;

/** USD per 1M tokens → integer micro-USD per 1M tokens (6 decimals of a dollar per 1M tokens are kept). */
export function toMicro(usdPerMillion: number): number {
  return Math.round(usdPerMillion * 1e6);
}

export function compilePricing(p: Pricing): PriceRt {
  const input = toMicro(p.input);
  return {
    input,
    output: toMicro(p.output),
    cachedInput: p.cachedInput === undefined ? input : toMicro(p.cachedInput),
    cacheWrite: p.cacheWrite === undefined ? input : toMicro(p.cacheWrite),
  };
}

/** providerId → upstream model name → price; built when a config loads. Unpriced models are absent. */
export function buildPriceIndex(config: Pick<GatewayConfig, 'providers'>): PriceIndex {
  const index = new Map<string, Map<string, PriceRt>>();
  for (const p of config.providers) {
    const models = new Map<string, PriceRt>();
    for (const m of p.models) if (m.pricing) models.set(m.name, compilePricing(m.pricing));
    index.set(p.id, models);
  }
  return index;
}

export function lookupPrice(index: PriceIndex, providerId: string, model: string): PriceRt | undefined {
  return index.get(providerId)?.get(model);
}

/** Cost of one response in pico-USD (1e-12), an exact integer for any realistic usage. */
export function costPico(usage: Usage, price: PriceRt): number {
  const cached = nonNeg(usage.cachedInputTokens);
  const written = nonNeg(usage.cacheCreationTokens);
  const uncached = Math.max(0, nonNeg(usage.inputTokens) - cached - written);
  return (
    uncached * price.input +
    cached * price.cachedInput +
    written * price.cacheWrite +
    nonNeg(usage.outputTokens) * price.output
  );
}

/** Cost in integer nano-USD, rounded up (a budget is never under-charged by rounding). */
export function costNano(usage: Usage, price: PriceRt): number {
  return Math.ceil(costPico(usage, price) / 1000);
}

/** nano-USD → USD, for logs, span attributes and the metric text. */
export function nanoToUsd(nano: number): number {
  return nano / 1e9;
}

export type CostResult = { priced: true; nano: number; usd: number } | { priced: false };

export function computeCost(index: PriceIndex, providerId: string, model: string, usage: Usage): CostResult {
  const price = lookupPrice(index, providerId, model);
  if (!price) return { priced: false };
  const nano = costNano(usage, price);
  return { priced: true, nano, usd: nanoToUsd(nano) };
}

function nonNeg(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}
