import type { QuotaWindow } from '../../../../contract/gateway-config.js';
import { CREDIT_SHARE, CreditBook } from './credits.js';
import { compilePolicy } from './policy-index.js';
import { makeSlot, type Slot } from './slots.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const HOUR: QuotaWindow = { type: 'sliding', ms: 3_600_000 };

function limitsOf(limits: { kind: 'requests' | 'tokens' | 'costUSD'; amount: number; window: QuotaWindow }[]) {
  return compilePolicy({
    id: 'ai/p',
    namespace: 'ai',
    name: 'p',
    models: [],
    scope: 'shared',
    limits,
    failureMode: 'open',
    keys: [],
    matchesAnonymous: false,
  }).limits;
}

const [reqLimit, tokLimit] = limitsOf([
  { kind: 'requests', amount: 1_024_000, window: HOUR },
  { kind: 'tokens', amount: 1_024_000_000, window: HOUR },
]);

function slots(now: number, tokens = 500): Slot[] {
  return [makeSlot(reqLimit!, '*', 1, now), makeSlot(tokLimit!, '*', tokens, now)];
}

/** Grants what `wants` asked for, as if Redis had counted `used` before. */
function grantAsked(book: CreditBook, s: Slot[], now: number, used = [0, 0]): number[] {
  const amounts = book.wants(s, now)!;
  expect(amounts).toBeDefined();
  expect(
    book.grant(
      s,
      amounts,
      used.map((u) => ({ used: u, freeField: -1 })),
      now,
    ),
  ).toEqual([]);
  return amounts;
}

describe('CreditBook', () => {
  test('asks k=8 requests’ worth of each slot, one ask at a time per counter', () => {
    const book = new CreditBook();
    const s = slots(T0);
    expect(book.wants(s, T0)).toEqual([8, 8 * 500]);
    expect(book.wants(s, T0)).toBeUndefined(); // already asked
    book.answered(s);
    expect(book.wants(s, T0)).toEqual([8, 4000]);
  });

  test('no credits for small limits, short windows or two limits on one counter', () => {
    const book = new CreditBook();
    const [small] = limitsOf([{ kind: 'requests', amount: CREDIT_SHARE - 1, window: HOUR }]);
    expect(book.wants([makeSlot(small!, '*', 1, T0)], T0)).toBeUndefined();
    const [short] = limitsOf([{ kind: 'requests', amount: 1e9, window: { type: 'sliding', ms: 10_000 } }]);
    expect(book.wants([makeSlot(short!, '*', 1, T0)], T0)).toBeUndefined();
    const [a, b] = limitsOf([
      { kind: 'requests', amount: 1e9, window: HOUR },
      { kind: 'requests', amount: 2e9, window: HOUR },
    ]);
    expect(book.wants([makeSlot(a!, '*', 1, T0), makeSlot(b!, '*', 1, T0)], T0)).toBeUndefined();
    // A reservation larger than 1/1024 of the limit: no credit either.
    expect(book.wants(slots(T0, 1_000_001), T0)).toBeUndefined();
    // The calendar month has no buckets: credits are fine.
    const [month] = limitsOf([{ kind: 'costUSD', amount: 1000, window: { type: 'calendarMonth' } }]);
    expect(book.wants([makeSlot(month!, '*', 5_000, T0)], T0)).toEqual([40_000]);
  });

  test('take is all or nothing, in the bucket of the credit, while it lives', () => {
    const book = new CreditBook({ lifetimeMs: 1000 });
    const s = slots(T0);
    grantAsked(book, s, T0, [10, 5000]);
    const r = book.take(s, T0 + 1);
    expect(r?.allowed).toBe(true);
    // Headers' estimate: what Redis had plus this request's add, plus what was taken since.
    expect(r?.outcomes.map((o) => o.used)).toEqual([11, 5500]);
    expect(book.take(s, T0 + 2)?.outcomes.map((o) => o.used)).toEqual([12, 6000]);
    // Not enough tokens left for a larger request: nothing taken from the requests credit either.
    expect(book.take(slots(T0 + 3, 3001), T0 + 3)).toBeUndefined();
    expect(book.take(s, T0 + 4)?.outcomes.map((o) => o.used)).toEqual([13, 6500]);
    expect(book.take(s, T0 + 1000)).toBeUndefined(); // ended
  });

  test('a credit running low asks for a refill twice as large; one ending mostly unused halves it', () => {
    const book = new CreditBook();
    const s = slots(T0);
    grantAsked(book, s, T0);
    for (let i = 0; i < 4; i++) book.take(s, T0);
    expect(book.refillFor(s, T0)).toBeUndefined(); // half left
    book.take(s, T0);
    const more = book.refillFor(s, T0);
    expect(more).toEqual([16, 16 * 500]);
    expect(book.refillFor(s, T0)).toBeUndefined(); // on its way
    // A refill is an admission of nothing (add 0) with a credit.
    book.grant(
      s.map((x) => ({ ...x, add: 0 })),
      more!,
      [
        { used: 20, freeField: -1 },
        { used: 10_000, freeField: -1 },
      ],
      T0,
    );
    // Merged: 3 left + 16; the estimate restarts from what Redis said, minus what this replica held.
    expect(book.take(s, T0)?.outcomes.map((o) => o.used)).toEqual([17, 10_000 - 1500]);
    // Ends with 18 of 24 unused: given back, and the next ask is halved (16 → 8).
    const back = book.expire(T0 + 1000);
    expect(back.map((b) => b.delta)).toEqual([-18, -18 * 500]);
    expect(book.size).toBe(0);
    expect(book.wants(s, T0 + 1000)).toEqual([8, 4000]);
  });

  test('settlements in a live credit’s bucket stay in the replica; others go to Redis', () => {
    const book = new CreditBook();
    const s = slots(T0);
    grantAsked(book, s, T0);
    book.take(s, T0);
    const key = s[1]!.key;
    const field = s[1]!.field;
    expect(book.absorb([{ key, field, delta: -400 }], T0)).toEqual([]); // 500 reserved, 100 used
    expect(book.absorb([{ key, field, delta: 3_000 }], T0)).toEqual([]); // more than reserved, drawn
    const big = { key, field, delta: 10_000 };
    expect(book.absorb([big], T0)).toEqual([big]); // more than the credit has
    const other = { key, field: field - 1, delta: -5 };
    expect(book.absorb([other], T0)).toEqual([other]); // another bucket
    // 4000 - 500 + 400 - 3000 left unused.
    expect(book.drain().find((d) => d.key === key)?.delta).toBe(-900);
  });

  test('a grant for a newer bucket gives the old credit back', () => {
    const book = new CreditBook();
    grantAsked(book, slots(T0), T0);
    const later = T0 + 3_600_000 / 60; // next bucket
    const s = slots(later);
    const amounts = book.wants(s, later)!;
    const released = book.grant(
      s,
      amounts,
      s.map(() => ({ used: 0, freeField: -1 })),
      later,
    );
    expect(released.map((r) => r.delta)).toEqual([-8, -4000]);
  });
});
