/**
 * Counter slots: the concrete counter one request touches for one limit at time `now`. Shared by the
 * in-process and the Redis stores so both enforce the same semantics; the clock is always an argument.
 *
 * A counter is a hash of bucket index → amount. Sliding window of W ms: buckets of W/60 ms; the counted
 * total is the sum of the buckets in [current - 60, current] (the oldest, partly elapsed bucket still
 * counts, so no W-long span ever exceeds the limit). Calendar month (UTC): one bucket in a counter whose
 * name carries the month (`2026-11`), reset at the first instant of the next month.
 */
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
  /** requests: allowed when used + add <= amount. tokens/cost (budgets): allowed while used < amount. */
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
}

/** UTC calendar month id and its end (first ms of the next month). */
export function monthOf(now: number): { id: string; endMs: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return { id: `${y}-${String(m + 1).padStart(2, '0')}`, endMs: Date.UTC(y, m + 1, 1) };
}

export function makeSlot(limit: LimitRt, scopeId: string, add: number, now: number): Slot {
  const budget = limit.kind !== 'requests';
  if (limit.window.type === 'calendarMonth') {
    const month = monthOf(now);
    return {
      limit,
      key: `${limit.counterBase}|${scopeId}|${month.id}`,
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
    key: `${limit.counterBase}|${scopeId}`,
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
 * The reference algorithm on plain maps (the in-process store); the Redis Lua script mirrors it.
 * All-or-nothing: either every slot is below its limit and all are incremented, or none is.
 */
export function reserveInMaps(counters: Map<string, Map<number, number>>, slots: readonly Slot[]): ReserveResult {
  const outcomes: SlotOutcome[] = [];
  let allowed = true;
  for (const slot of slots) {
    const h = counters.get(slot.key);
    let used = 0;
    if (h) {
      for (const [f, v] of h) {
        if (f < slot.minField) h.delete(f);
        else used += v;
      }
    }
    if (admits(slot, used)) {
      outcomes.push({ used, freeField: -1 });
      continue;
    }
    allowed = false;
    let freeField = -2;
    if (h) {
      const fields = [...h.keys()].sort((a, b) => a - b);
      let t = used;
      for (const f of fields) {
        t -= h.get(f)!;
        if (admits(slot, t)) {
          freeField = f;
          break;
        }
      }
    }
    outcomes.push({ used, freeField });
  }
  if (allowed) {
    for (const slot of slots) {
      if (slot.add === 0) continue;
      let h = counters.get(slot.key);
      if (!h) {
        h = new Map();
        counters.set(slot.key, h);
      }
      h.set(slot.field, (h.get(slot.field) ?? 0) + slot.add);
    }
  }
  return { allowed, outcomes };
}
