/**
 * The load-balancing strategies of `spec.loadBalancing` other than `weighted` (which stays in select.ts, on the
 * default path): pure functions over one tier's backends, a mask of the ones eligible this time (bit i = the
 * tier's i-th backend: not tried, not ejected, not skipped) and a snapshot of their stats, apart from the
 * random source passed in. Each returns the chosen position in the tier, or -1 when the mask is empty.
 * docs/routing.md "Choosing a backend", ADR 0060.
 *
 * Weight keeps its meaning in every strategy: a backend of weight 0 is a standby, used only when every
 * eligible backend of the tier has weight 0 (then all count as equal), and weight breaks ties (least-busy,
 * lowest-cost) or draws the two candidates (least-latency), so an idle route splits as `weighted` would.
 */
import type { Pricing } from '../../../contract/gateway-config.js';
import { requestedMaxTokens } from '../accounting/estimate.js';
import type { Operation } from '../providers/types.js';
import { latencyLoad, type StatsView } from './stats.js';

/** What a strategy reads of a backend. */
export interface Candidate {
  readonly weight: number;
  readonly stats: StatsView;
}

/** What lowest-cost also reads: the backend's declared price, by upstream model. */
export interface PricedCandidate extends Candidate {
  /** The price of the backend's fixed upstream model; undefined: not fixed (the client's model) or not priced. */
  readonly pricing: Pricing | undefined;
  /** Undefined: the client's model is sent upstream (its price is looked up in the provider's catalogue). */
  readonly model: string | undefined;
  readonly provider: { readonly models: ReadonlyArray<{ readonly name: string; readonly pricing?: Pricing }> };
}

/** The request as lowest-cost sees it (the attempt loop's RoutedRequest is one). */
export interface PickRequest {
  readonly model: string;
  readonly operation: Operation;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The candidates among `mask`: those of weight > 0, or all of them when every one has weight 0. */
export function candidates(tier: ReadonlyArray<Candidate>, mask: number): number {
  let positive = 0;
  for (let i = 0; i < tier.length; i++) if ((mask & (1 << i)) !== 0 && tier[i]!.weight > 0) positive |= 1 << i;
  return positive === 0 ? mask : positive;
}

/** Weighted random choice within `mask` (all weights 0: uniform); `r` in [0, 1). */
export function weightedPick(tier: ReadonlyArray<Candidate>, mask: number, r: number): number {
  let total = 0;
  let count = 0;
  for (let i = 0; i < tier.length; i++)
    if ((mask & (1 << i)) !== 0) {
      total += tier[i]!.weight;
      count++;
    }
  if (count === 0) return -1;
  const uniform = total === 0;
  let left = r * (uniform ? count : total);
  let last = -1;
  for (let i = 0; i < tier.length; i++) {
    if ((mask & (1 << i)) === 0) continue;
    last = i;
    left -= uniform ? 1 : tier[i]!.weight;
    if (left < 0) return i;
  }
  return last;
}

/**
 * least-latency: power of two choices over peak-EWMA load (stats.ts latencyLoad). Two distinct candidates are
 * drawn by weight and the one with the lower load wins (a tie: the first drawn). The draw, not a scan for the
 * minimum, is what lets a backend that looked slow be tried again once its average has decayed.
 */
export function leastLatency(tier: ReadonlyArray<Candidate>, mask: number, now: number, random: () => number): number {
  const m = candidates(tier, mask);
  const a = weightedPick(tier, m, random());
  if (a < 0) return -1;
  const rest = m & ~(1 << a);
  if (rest === 0) return a;
  const b = weightedPick(tier, rest, random());
  return latencyLoad(tier[b]!.stats, now) < latencyLoad(tier[a]!.stats, now) ? b : a;
}

/** least-busy: the fewest tries in flight on this replica; ties drawn by weight. */
export function leastBusy(tier: ReadonlyArray<Candidate>, mask: number, random: () => number): number {
  const m = candidates(tier, mask);
  let best = Number.POSITIVE_INFINITY;
  let tied = 0;
  for (let i = 0; i < tier.length; i++) {
    if ((m & (1 << i)) === 0) continue;
    const n = tier[i]!.stats.inFlight;
    if (n < best) {
      best = n;
      tied = 1 << i;
    } else if (n === best) tied |= 1 << i;
  }
  return tied === 0 ? -1 : weightedPick(tier, tied, random());
}

/** Output tokens expected of a request that sets no max_tokens (for comparing prices only). */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 1024;

/**
 * lowest-cost: the cheapest declared price for the request's expected tokens (`inputTokens` and `outputTokens`,
 * USD per 1M tokens as in the catalogue). Backends without a declared price come after every priced one; ties
 * are drawn by weight. "Capacity left" is the mask: a backend without it is not in it (the caller's skip set).
 */
export function lowestCost(
  tier: ReadonlyArray<PricedCandidate>,
  mask: number,
  model: string,
  inputTokens: number,
  outputTokens: number,
  random: () => number,
): number {
  const m = candidates(tier, mask);
  let best = Number.POSITIVE_INFINITY;
  let tied = 0;
  for (let i = 0; i < tier.length; i++) {
    if ((m & (1 << i)) === 0) continue;
    const p = priceOf(tier[i]!, model);
    const cost = p === undefined ? Number.POSITIVE_INFINITY : inputTokens * p.input + outputTokens * p.output;
    if (cost < best || tied === 0) {
      best = cost;
      tied = 1 << i;
    } else if (cost === best) tied |= 1 << i;
  }
  return tied === 0 ? -1 : weightedPick(tier, tied, random());
}

/** The declared price of what the backend would be sent for `model` (the client's model unless fixed). */
export function priceOf(c: PricedCandidate, model: string): Pricing | undefined {
  if (c.model !== undefined) return c.pricing;
  const models = c.provider.models;
  for (let i = 0; i < models.length; i++) if (models[i]!.name === model) return models[i]!.pricing;
  return undefined;
}

/** Input tokens expected of a request: its text's length / 3, as the quota reservation estimates (no copy). */
export function expectedInputTokens(operation: Operation, body: Readonly<Record<string, unknown>>): number {
  const chars =
    operation === 'embeddings' ? textLength(body.input) : textLength(body.system) + textLength(body.messages);
  return Math.ceil(chars / 3);
}

export function expectedOutputTokens(operation: Operation, body: Readonly<Record<string, unknown>>): number {
  if (operation === 'embeddings') return 0;
  return requestedMaxTokens(body as Record<string, unknown>) ?? DEFAULT_EXPECTED_OUTPUT_TOKENS;
}

/** Characters of text in a content value: strings, arrays of them or of parts (`text`, `content`). */
function textLength(v: unknown, depth = 0): number {
  if (typeof v === 'string') return v.length;
  if (depth > 4 || v === null || typeof v !== 'object') return 0;
  if (Array.isArray(v)) {
    let n = 0;
    for (let i = 0; i < v.length; i++) n += textLength(v[i], depth + 1);
    return n;
  }
  const o = v as Record<string, unknown>;
  return textLength(o.content, depth + 1) + textLength(o.text, depth + 1);
}
