/**
 * Backend choice and retry timing. Pure apart from the random source and clock passed in.
 *
 * Choice: the lowest priority tier that has an eligible backend, weighted random within it. Eligible =
 * not ejected and not yet tried by this request. When every backend was tried, the tried-set is
 * forgotten and the choice starts over (still healthy ones first). When every backend of the route is
 * ejected ("panic"), ejection is ignored: trying a maybe-broken backend beats failing for sure.
 * Within the tier, `weighted` (the default) draws here; the other `spec.loadBalancing` strategies are
 * strategies.ts's pure functions over the eligible backends' stats (ADR 0060).
 */
import type { RouteConfig } from '../../../contract/gateway-config.js';
import {
  expectedInputTokens,
  expectedOutputTokens,
  leastBusy,
  leastLatency,
  lowestCost,
  type PickRequest,
} from './strategies.js';
import type { CompiledBackend, CompiledRoute } from './table.js';

/**
 * Picks the next backend; `tried` is a bit-mask of backend indexes this request already used, `skip` one of
 * backends to pass over whatever happens (out of provider capacity, ADR 0063; kept when the tried-set is
 * forgotten), `req` the request (lowest-cost prices its expected tokens).
 */
export function pickBackend(
  route: CompiledRoute,
  tried: number,
  now: number,
  random: () => number,
  skip = 0,
  req?: PickRequest,
): CompiledBackend | undefined {
  const all = route.backends;
  if (all.length === 0) return undefined;
  let panic = true;
  for (let i = 0; i < all.length; i++) {
    if (!all[i]!.health.isEjected(now)) {
      panic = false;
      break;
    }
  }
  const b = pickFrom(route, tried | skip, now, panic, random, req);
  if (b !== undefined || tried === 0) return b;
  return pickFrom(route, skip, now, panic, random, req);
}

/** `excluded`: bit-mask of backend indexes not to pick (tried or skipped). */
function pickFrom(
  route: CompiledRoute,
  excluded: number,
  now: number,
  panic: boolean,
  random: () => number,
  req: PickRequest | undefined,
): CompiledBackend | undefined {
  const tiers = route.tiers;
  for (let t = 0; t < tiers.length; t++) {
    const tier = tiers[t]!;
    if (route.loadBalancing !== 'weighted') {
      const b = pickByStrategy(route, tier, excluded, now, panic, random, req);
      if (b !== undefined) return b;
      continue;
    }
    let total = 0;
    let count = 0;
    for (let i = 0; i < tier.length; i++) {
      const b = tier[i]!;
      if ((excluded & (1 << b.index)) !== 0 || (!panic && b.health.isEjected(now))) continue;
      total += b.weight;
      count++;
    }
    if (count === 0) continue;
    // All eligible weights zero: choose uniformly among them.
    const uniform = total === 0;
    let r = random() * (uniform ? count : total);
    let last: CompiledBackend | undefined;
    for (let i = 0; i < tier.length; i++) {
      const b = tier[i]!;
      if ((excluded & (1 << b.index)) !== 0 || (!panic && b.health.isEjected(now))) continue;
      last = b;
      r -= uniform ? 1 : b.weight;
      if (r < 0) return b;
    }
    return last;
  }
  return undefined;
}

/** One tier by a strategy of strategies.ts; undefined: no backend of the tier is eligible. */
function pickByStrategy(
  route: CompiledRoute,
  tier: ReadonlyArray<CompiledBackend>,
  excluded: number,
  now: number,
  panic: boolean,
  random: () => number,
  req: PickRequest | undefined,
): CompiledBackend | undefined {
  let mask = 0;
  for (let i = 0; i < tier.length; i++) {
    const b = tier[i]!;
    if ((excluded & (1 << b.index)) === 0 && (panic || !b.health.isEjected(now))) mask |= 1 << i;
  }
  if (mask === 0) return undefined;
  let i: number;
  if (route.loadBalancing === 'least-latency') i = leastLatency(tier, mask, now, random);
  else if (route.loadBalancing === 'least-busy') i = leastBusy(tier, mask, random);
  else if (req === undefined) i = lowestCost(tier, mask, '', 0, 0, random);
  else
    i = lowestCost(
      tier,
      mask,
      req.model,
      expectedInputTokens(req.operation, req.body),
      expectedOutputTokens(req.operation, req.body),
      random,
    );
  return tier[i];
}

/**
 * Delay before retry number `retry` (1 = the first retry): exponential from base, capped at max, with full
 * jitter between base and the cap (`base * 2^(retry-1)`, at most max).
 */
export function backoffMs(retry: RouteConfig['retry'], n: number, random: () => number): number {
  const base = retry.backoffBaseMs;
  const cap = Math.min(retry.backoffMaxMs, base * 2 ** (n - 1));
  if (cap <= base) return Math.min(base, retry.backoffMaxMs);
  return base + random() * (cap - base);
}

/** Parses Retry-After (delta seconds or an HTTP date) into ms from `now`; undefined when absent or malformed. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}
