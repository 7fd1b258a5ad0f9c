import type { QuotaPolicyConfig } from '../../../../contract/gateway-config.js';
import { rng } from '../../../../test/support/rng.js';
import { compilePolicy, type LimitRt } from './policy-index.js';
import { type Counter, makeSlot, monthOf, reserveInMaps, settleInMaps, totalInMaps } from './slots.js';

function limit(kind: 'requests' | 'tokens', amount: number, ms: number): LimitRt {
  const p: QuotaPolicyConfig = {
    id: 'ai/p',
    namespace: 'ai',
    name: 'p',
    models: [],
    scope: 'shared',
    limits: [{ kind, amount, window: { type: 'sliding', ms } }],
    failureMode: 'open',
    keys: [],
    matchesAnonymous: false,
  };
  return compilePolicy(p).limits[0]!;
}

/** The window total by definition: the sum of the buckets in [minField, ∞). */
function bruteTotal(c: Counter | undefined, minField: number): number {
  let t = 0;
  if (c) for (const [f, v] of c.buckets) if (f >= minField) t += v;
  return t;
}

describe('counter slots: running totals', () => {
  test('the running total always equals the sum of the live buckets (random admissions, settles, clock jumps)', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rand = rng(seed);
      const l = limit('tokens', 50_000, 60_000);
      const counters = new Map<string, Counter>();
      let now = Date.UTC(2026, 11, 2, 0, 0, 0);
      const open: { field: number; reserved: number }[] = [];
      for (let step = 0; step < 1500; step++) {
        const r = rand();
        // Mostly small steps, sometimes a bucket or a whole window (or far more: the long-idle path).
        now += r < 0.7 ? Math.floor(rand() * 300) : r < 0.97 ? Math.floor(rand() * 5000) : Math.floor(rand() * 600_000);
        const slot = makeSlot(l, '*', 1 + Math.floor(rand() * 900), now);
        const c = counters.get(slot.key);
        const expected = bruteTotal(c, slot.minField);
        const res = reserveInMaps(counters, [slot]);
        expect(res.outcomes[0]!.used).toBe(expected);
        expect(res.allowed).toBe(expected < l.amount);
        if (res.allowed) open.push({ field: slot.field, reserved: slot.add });
        // Settle an earlier request with a real usage below or above its reservation.
        if (open.length > 0 && rand() < 0.6) {
          const o = open.splice(Math.floor(rand() * open.length), 1)[0]!;
          settleInMaps(counters, slot.key, o.field, Math.floor(rand() * 1200) - o.reserved);
        }
        const after = counters.get(slot.key)!;
        expect(after.total).toBe(bruteTotal(after, after.lo));
        let bad = 0;
        for (const [f, v] of after.buckets) if (v < 0 || f < after.lo) bad++;
        expect(bad).toBe(0);
        expect(totalInMaps(counters, slot.key, slot.minField)).toBe(bruteTotal(after, slot.minField));
      }
    }
  });

  test('a bucket leaves the total exactly when it leaves the window', () => {
    const l = limit('requests', 3, 60_000); // 60 buckets of 1 s
    const counters = new Map<string, Counter>();
    const t0 = Date.UTC(2026, 11, 2, 0, 0, 0);
    for (let i = 0; i < 3; i++) expect(reserveInMaps(counters, [makeSlot(l, '*', 1, t0)]).allowed).toBe(true);
    const full = reserveInMaps(counters, [makeSlot(l, '*', 1, t0 + 60_999)]);
    expect(full.allowed).toBe(false);
    expect(full.outcomes[0]!.freeField).toBe(Math.floor(t0 / 1000));
    // Bucket t0 counts through the 61st bucket after it and is gone at the start of the next.
    expect(reserveInMaps(counters, [makeSlot(l, '*', 1, t0 + 61_000)]).allowed).toBe(true);
    expect(counters.get(makeSlot(l, '*', 0, t0).key)!.total).toBe(1);
  });

  test('settling a bucket that already left the window changes nothing; never below zero', () => {
    const l = limit('tokens', 1000, 60_000);
    const counters = new Map<string, Counter>();
    const t0 = Date.UTC(2026, 11, 2, 0, 0, 0);
    const s = makeSlot(l, '*', 500, t0);
    reserveInMaps(counters, [s]);
    settleInMaps(counters, s.key, s.field, -900);
    expect(counters.get(s.key)!.total).toBe(0);
    reserveInMaps(counters, [makeSlot(l, '*', 10, t0 + 120_000)]);
    settleInMaps(counters, s.key, s.field, 400);
    expect(counters.get(s.key)!.total).toBe(10);
  });

  test('monthOf caches the month but still turns over at the UTC boundary', () => {
    expect(monthOf(Date.UTC(2026, 11, 31, 23, 59, 59, 999))).toMatchObject({ id: '2026-12' });
    expect(monthOf(Date.UTC(2027, 0, 1))).toMatchObject({ id: '2027-01', endMs: Date.UTC(2027, 1, 1) });
    expect(monthOf(Date.UTC(2026, 11, 15))).toMatchObject({ id: '2026-12', endMs: Date.UTC(2027, 0, 1) });
  });
});
