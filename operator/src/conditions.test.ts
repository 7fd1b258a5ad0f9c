import { mergeStatus, newlyFalse, statusEqual } from './conditions.js';

const t0 = new Date('2025-01-01T00:00:00Z');
const t1 = new Date('2025-01-01T00:05:00Z');
const accepted = { type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: 'ok' };
const programmed = { type: 'Programmed', status: 'False' as const, reason: 'Pending', message: 'waiting' };

describe('mergeStatus', () => {
  it('stamps observedGeneration and orders conditions Accepted, ResolvedRefs, Programmed', () => {
    const s = mergeStatus(
      undefined,
      [programmed, { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: '' }, accepted],
      3,
      t0,
    );
    expect(s.observedGeneration).toBe(3);
    expect(s.conditions.map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs', 'Programmed']);
    expect(s.conditions.every((c) => c.observedGeneration === 3 && c.lastTransitionTime === t0.toISOString())).toBe(
      true,
    );
  });

  it('keeps lastTransitionTime while a status stays the same, and moves it when it flips', () => {
    const first = mergeStatus(undefined, [accepted, programmed], 1, t0);
    const same = mergeStatus(first, [accepted, { ...programmed, message: 'still waiting' }], 1, t1);
    expect(same.conditions[1]?.lastTransitionTime).toBe(t0.toISOString());
    const flipped = mergeStatus(first, [accepted, { ...programmed, status: 'True', reason: 'Programmed' }], 1, t1);
    expect(flipped.conditions[0]?.lastTransitionTime).toBe(t0.toISOString());
    expect(flipped.conditions[1]?.lastTransitionTime).toBe(t1.toISOString());
  });

  it('is idempotent: merging the same desired state again yields an equal status', () => {
    const a = mergeStatus(undefined, [accepted, programmed], 2, t0);
    const b = mergeStatus(a, [accepted, programmed], 2, t1);
    expect(statusEqual(a, b)).toBe(true);
    expect(statusEqual(a, mergeStatus(a, [accepted, programmed], 3, t1))).toBe(false);
    expect(statusEqual(undefined, a)).toBe(false);
  });
});

describe('newlyFalse', () => {
  it('reports a condition that turned False or changed its reason, once', () => {
    const ok = mergeStatus(undefined, [accepted], 1, t0);
    const bad = mergeStatus(ok, [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: 'bad' }], 2, t1);
    expect(newlyFalse(ok, bad, 'Accepted')?.reason).toBe('Invalid');
    expect(newlyFalse(bad, bad, 'Accepted')).toBeUndefined();
    expect(newlyFalse(bad, ok, 'Accepted')).toBeUndefined();
  });
});
