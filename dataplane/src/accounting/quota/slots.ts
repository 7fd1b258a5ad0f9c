/**
 * Counter slots: the concrete counter one request touches for one limit at time `now`. Shared by the
 * in-process and the Redis stores so both enforce the same semantics; the clock is always an argument.
 *
 * A counter is a hash of bucket index → amount. Sliding window of W ms: buckets of W/60 ms; the counted
 * total is the sum of the buckets in [current - 60, current] (the oldest, partly elapsed bucket still
 * counts, so no W-long span ever exceeds the limit). Calendar month (UTC): one bucket in a counter whose
 * name carries the month (`2026-11`), reset at the first instant of the next month.
 */
import { monthOf, quotaCounterName } from '../../../../contract/shared-state.js';
import type { LimitRt } from './policy-index.js';

export interface Slot {
  readonly limit: LimitRt;
  /** Full counter name (without the store's prefix). */
  readonly key: string;
  /** Bucket this request adds to. */
  readonly field: number;
  /** Buckets below this no longer count (and are deleted). */
  readonly minField: number;
  /** What this request adds now: 1 request, reserved tokens, reserved nano-USD. */
  readonly add: number;
  /** requests and strict limits: allowed when used + add <= amount. tokens/cost (budgets): allowed while used < amount. */
  readonly budget: boolean;
  /** Time-to-live of the counter, refreshed on each write. */
  readonly ttlMs: number;
}

export interface SlotOutcome {
  /** Total in the window before this request's add. */
  used: number;
  /** When blocked: the bucket whose expiry frees enough room (-1: not blocked; -2: never, add > limit). */
  freeField: number;
}

export interface ReserveResult {
  allowed: boolean;
  outcomes: SlotOutcome[];
  /** The credits asked for with the admission were granted (credits.ts; the Redis store only). */
  credited?: boolean;
}

/** Re-exported for the quota module's callers; the month id is part of the key layout. */
export { monthOf };

export function makeSlot(limit: LimitRt, scopeId: string, add: number, now: number): Slot {
  const budget = limit.kind !== 'requests' && !limit.strict;
  if (limit.window.type === 'calendarMonth') {
    const month = monthOf(now);
    return {
      limit,
      key: quotaCounterName(limit.counterBase, scopeId, month.id),
      field: 0,
      minField: 0,
      add,
      budget,
      // Kept a day past the month end so late settlements still find their counter.
      ttlMs: month.endMs - now + 86_400_000,
    };
  }
  const field = Math.floor(now / limit.bucketMs);
  return {
    limit,
    key: quotaCounterName(limit.counterBase, scopeId),
    field,
    minField: field - limit.buckets,
    add,
    budget,
    ttlMs: (limit.buckets + 2) * limit.bucketMs,
  };
}

/** Milliseconds until a blocked slot has room again. */
export function retryAfterMs(slot: Slot, freeField: number, now: number): number {
  const l = slot.limit;
  if (l.window.type === 'calendarMonth') return monthOf(now).endMs - now;
  if (freeField < 0) return l.window.ms;
  // Bucket f stops counting once the current bucket reaches f + buckets + 1.
  return Math.max(1, (freeField + l.buckets + 1) * l.bucketMs - now);
}

/** Does a window total admit this slot's add? */
export function admits(slot: Slot, used: number): boolean {
  return slot.budget ? used < slot.limit.amount : used + slot.add <= slot.limit.amount;
}

/**
 * One counter: its buckets, their running total and the lowest bucket that may still be present. Buckets
 * below `lo` are gone; moving the window forward subtracts the buckets that left it (each bucket once), so
 * an admission costs O(1) instead of a sum over the window. The Redis script keeps the same three things
 * in one hash (fields `t`, `lo` and the bucket numbers).
 */
export interface Counter {
  total: number;
  lo: number;
  readonly buckets: Map<number, number>;
}

/** Drops the buckets below `minField` from the counter and its total. */
export function advance(c: Counter, minField: number): void {
  if (c.lo >= minField) return;
  if (minField - c.lo > c.buckets.size * 4 + 64) {
    // Long idle: cheaper to walk what is there than every bucket number in between.
    for (const [f, v] of c.buckets)
      if (f < minField) {
        c.buckets.delete(f);
        c.total -= v;
      }
  } else {
    for (let f = c.lo; f < minField; f++) {
      const v = c.buckets.get(f);
      if (v !== undefined) {
        c.buckets.delete(f);
        c.total -= v;
      }
    }
  }
  c.lo = minField;
}

/** The bucket whose expiry makes room for this slot (-2: none does, the add alone is over the limit). */
export function freeFieldOf(slot: Slot, c: Counter | undefined, used: number): number {
  if (c === undefined) return -2;
  const fields = [...c.buckets.keys()].sort((a, b) => a - b);
  let t = used;
  for (const f of fields) {
    t -= c.buckets.get(f)!;
    if (admits(slot, t)) return f;
  }
  return -2;
}

/**
 * The reference algorithm on plain maps (the in-process store); the Redis Lua script mirrors it.
 * All-or-nothing: either every slot is below its limit and all are incremented, or none is.
 */
export function reserveInMaps(counters: Map<string, Counter>, slots: readonly Slot[]): ReserveResult {
  const outcomes: SlotOutcome[] = [];
  let allowed = true;
  for (const slot of slots) {
    const c = counters.get(slot.key);
    let used = 0;
    if (c !== undefined) {
      advance(c, slot.minField);
      used = c.total;
    }
    if (admits(slot, used)) {
      outcomes.push({ used, freeField: -1 });
      continue;
    }
    allowed = false;
    outcomes.push({ used, freeField: freeFieldOf(slot, c, used) });
  }
  if (allowed) {
    for (const slot of slots) {
      if (slot.add === 0) continue;
      let c = counters.get(slot.key);
      if (c === undefined) {
        c = { total: 0, lo: slot.minField, buckets: new Map() };
        counters.set(slot.key, c);
      }
      // A replica whose clock lags may name a bucket already dropped: count it in the oldest live one.
      const field = Math.max(slot.field, c.lo);
      c.buckets.set(field, (c.buckets.get(field) ?? 0) + slot.add);
      c.total += slot.add;
    }
  }
  return { allowed, outcomes };
}

/** Adds `delta` to one bucket if it is still there, never below zero; keeps the total in step. */
export function settleInMaps(counters: Map<string, Counter>, key: string, field: number, delta: number): void {
  const c = counters.get(key);
  const v = c?.buckets.get(field);
  if (c === undefined || v === undefined) return;
  const next = Math.max(0, v + delta);
  c.buckets.set(field, next);
  c.total += next - v;
}

/** The window total without changing the counter (status reads). */
export function totalInMaps(counters: Map<string, Counter>, key: string, minField: number): number {
  const c = counters.get(key);
  if (c === undefined) return 0;
  if (c.lo >= minField) return c.total;
  let used = 0;
  for (const [f, v] of c.buckets) if (f >= minField) used += v;
  return used;
}
