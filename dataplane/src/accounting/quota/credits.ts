/**
 * Admission credits (docs/adr/0034): headroom a replica draws on without a round trip to Redis while a
 * limit is far from full. Pure bookkeeping, no I/O; the clock is an argument.
 *
 * A credit is an amount the Redis script has already added to one counter's bucket on this replica's
 * behalf, granted only while the counter stays at most half full with it (`CREDIT_FILL`). The replica hands
 * it out to its own requests: an admission whose every slot finds enough credit in the current bucket is
 * answered here, synchronously. Since every unit handed out was counted in Redis before, the replicas
 * together never admit more than a limit allows. What a credit costs is the other direction: units granted
 * and not yet used are counted too, so they cannot serve another replica until returned. That is bounded:
 *
 * - a credit is at most 1/`CREDIT_SHARE` (1/1024) of the limit, a replica asks for one at a time per
 *   counter, and it is granted only while the counter, credit included, stays at most half full; past that
 *   every admission goes to Redis one by one, as without credits, so a limit that gets close to full is
 *   enforced request by request. Units can sit unused only where a burst takes a counter from under half
 *   to full before the credits are used or returned: at most one credit per replica, 1/1024 of the limit.
 * - a credit lives at most `lifetimeMs` (1 s) and never past its bucket, then its unused part is returned
 *   (a settlement of minus the remainder on that bucket), so units counted in a bucket were admitted in it:
 *   the sliding window sees the same buckets as with admissions one by one.
 *
 * Limits too small for a credit of one request's worth never get one (so limits under 1,024 requests
 * behave exactly as before), nor do sliding windows shorter than `MIN_BUCKET_MS` × 60 (a credit ends with
 * its bucket), nor requests whose limits share one counter.
 *
 * Size: a credit is `k` requests' worth of the asking request's add (tokens and cost: its reservation).
 * `k` starts at 8, doubles when a credit runs low before its end (a refill is asked for in the background)
 * and halves when a credit ends mostly unused, between 2 and 256.
 */
import type { ReserveResult, Slot, SlotOutcome } from './slots.js';
import type { SettleItem } from './store.js';

/** A credit is at most this fraction of its limit. */
export const CREDIT_SHARE = 1024;
/** A credit is granted only while the counter, with the request and the credit, is at most this full. */
export const CREDIT_FILL = 0.5;

/** Sliding windows with shorter buckets (under 30 s) get no credits. */
export const MIN_BUCKET_MS = 500;

const K_START = 8;
const K_MIN = 2;
const K_MAX = 256;
/** A size hint not used for this long is forgotten (bounded memory with many keys). */
const K_FORGET_MS = 60_000;

interface Credit {
  readonly key: string;
  /** The bucket the credit was added to; it serves admissions of that bucket only. */
  readonly field: number;
  /** Amount granted in total (the refills merged in included). */
  granted: number;
  /** What is left to hand out. */
  remaining: number;
  expiresAt: number;
  /** Window total as of the last grant, without the credit left then: the base of the headers' estimate. */
  base: number;
  /** Handed out since the last grant. */
  taken: number;
}

interface SizeHint {
  k: number;
  touched: number;
}

export interface CreditOptions {
  /** Longest life of a credit; default 1000 ms. */
  lifetimeMs?: number;
}

export class CreditBook {
  private readonly credits = new Map<string, Credit>();
  private readonly sizes = new Map<string, SizeHint>();
  /** Counters with a credit asked for and not answered yet (one ask at a time per counter). */
  private readonly asking = new Set<string>();
  private readonly lifetimeMs: number;

  constructor(options: CreditOptions = {}) {
    this.lifetimeMs = options.lifetimeMs ?? 1000;
  }

  /** Live credits (tests and metrics read it). */
  get size(): number {
    return this.credits.size;
  }

  /**
   * All-or-nothing: when every slot finds a live credit of its bucket with room for its add, takes the adds
   * and returns the admission (headers from the estimate); otherwise takes nothing and returns undefined.
   */
  take(slots: readonly Slot[], now: number): ReserveResult | undefined {
    const n = slots.length;
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const c = this.credits.get(s.key);
      if (c === undefined || c.field !== s.field || now >= c.expiresAt || c.remaining < s.add) return undefined;
    }
    const outcomes: SlotOutcome[] = [];
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const c = this.credits.get(s.key)!;
      outcomes.push({ used: c.base + c.taken, freeField: -1 });
      c.remaining -= s.add;
      c.taken += s.add;
    }
    return { allowed: true, outcomes };
  }

  /**
   * The credit to ask for with an admission of these slots (one amount per slot), or undefined when this
   * request cannot use credits (a limit too small, a short window, two slots on one counter) or one is
   * already asked for. When amounts are returned, the ask is on its way until `grant` or `answered`.
   */
  wants(slots: readonly Slot[], now: number): number[] | undefined {
    for (const s of slots) if (this.asking.has(s.key)) return undefined;
    const amounts = this.sizeFor(slots, now);
    if (amounts !== undefined) for (const s of slots) this.asking.add(s.key);
    return amounts;
  }

  /** An ask came back without a grant (refused, the counter too full, or Redis failed). */
  answered(slots: readonly Slot[]): void {
    for (const s of slots) this.asking.delete(s.key);
  }

  private sizeFor(slots: readonly Slot[], now: number): number[] | undefined {
    const out: number[] = [];
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      const cap = Math.floor(s.limit.amount / CREDIT_SHARE);
      const unit = Math.max(1, s.add);
      if (cap < unit) return undefined;
      if (s.limit.bucketMs > 0 && s.limit.bucketMs < MIN_BUCKET_MS) return undefined;
      for (let j = 0; j < i; j++) if (slots[j]!.key === s.key) return undefined;
      const hint = this.sizes.get(s.key);
      const k = hint?.k ?? K_START;
      if (hint !== undefined) hint.touched = now;
      out.push(Math.min(cap, k * unit));
    }
    return out;
  }

  /**
   * After a script call that asked for `amounts`: records the grant (merged into a live credit of the same
   * bucket; a credit of an older bucket is returned in `released`). `adds`: what the call added for the
   * request itself (0 for a refill). Returns the units to give back to Redis now, if any.
   */
  grant(
    slots: readonly Slot[],
    amounts: readonly number[],
    outcomes: readonly SlotOutcome[],
    now: number,
  ): SettleItem[] {
    const released: SettleItem[] = [];
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      this.asking.delete(s.key);
      const amount = amounts[i]!;
      let expiresAt = now + this.lifetimeMs;
      const bucketEnd = s.limit.bucketMs > 0 ? (s.field + 1) * s.limit.bucketMs : Number.POSITIVE_INFINITY;
      if (bucketEnd < expiresAt) expiresAt = bucketEnd;
      let c = this.credits.get(s.key);
      if (c !== undefined && (c.field !== s.field || now >= c.expiresAt)) {
        if (c.remaining > 0) released.push({ key: c.key, field: c.field, delta: -c.remaining });
        this.credits.delete(s.key);
        c = undefined;
      }
      // Redis' total counts what this replica still holds; the headers should not.
      const held = c?.remaining ?? 0;
      const base = outcomes[i]!.used + s.add - held;
      if (c === undefined) {
        c = {
          key: s.key,
          field: s.field,
          granted: amount,
          remaining: amount,
          expiresAt,
          base,
          taken: 0,
        };
        this.credits.set(s.key, c);
      } else {
        c.granted += amount;
        c.remaining += amount;
        c.expiresAt = expiresAt;
        c.base = base;
        c.taken = 0;
      }
    }
    return released;
  }

  /**
   * After a take: when these slots' credits ran below half, the next credit should be larger and a refill
   * is due. Returns its amounts (the ask is then on its way, as with `wants`), or undefined.
   */
  refillFor(slots: readonly Slot[], now: number): number[] | undefined {
    let low = false;
    for (const s of slots) {
      const c = this.credits.get(s.key);
      if (c === undefined || this.asking.has(s.key)) return undefined;
      if (c.remaining * 2 < c.granted) low = true;
    }
    if (!low) return undefined;
    for (const s of slots) {
      const hint = this.sizes.get(s.key);
      if (hint === undefined) this.sizes.set(s.key, { k: Math.min(K_MAX, K_START * 2), touched: now });
      else hint.k = Math.min(K_MAX, hint.k * 2);
    }
    return this.wants(slots, now);
  }

  /**
   * Settlements of buckets this replica holds a live credit in are applied to the credit instead of Redis:
   * a reservation larger than the real usage returns its excess to the credit, a smaller one draws the
   * difference from it when it can. Either way the bucket's count in Redis (credit included) stays what it
   * would be; what is still unused goes back when the credit ends. Returns what Redis must still get.
   */
  absorb(items: readonly SettleItem[], now: number): SettleItem[] {
    const rest: SettleItem[] = [];
    for (const it of items) {
      const c = this.credits.get(it.key);
      if (c === undefined || c.field !== it.field || now >= c.expiresAt || c.remaining < it.delta) {
        rest.push(it);
        continue;
      }
      c.remaining -= it.delta;
      c.taken += it.delta;
    }
    return rest;
  }

  /** Removes the credits that ended and returns their unused parts (to settle in Redis). */
  expire(now: number): SettleItem[] {
    const out: SettleItem[] = [];
    for (const [key, c] of this.credits) {
      if (now < c.expiresAt) continue;
      this.credits.delete(key);
      if (c.remaining > 0) out.push({ key, field: c.field, delta: -c.remaining });
      if (c.remaining * 2 > c.granted) {
        const hint = this.sizes.get(key);
        if (hint !== undefined) hint.k = Math.max(K_MIN, Math.floor(hint.k / 2));
      }
    }
    for (const [key, hint] of this.sizes) if (now - hint.touched > K_FORGET_MS) this.sizes.delete(key);
    return out;
  }

  /** Removes every credit and returns the unused parts (config change, shutdown). */
  drain(): SettleItem[] {
    const out: SettleItem[] = [];
    for (const c of this.credits.values())
      if (c.remaining > 0) out.push({ key: c.key, field: c.field, delta: -c.remaining });
    this.credits.clear();
    this.asking.clear();
    return out;
  }
}
