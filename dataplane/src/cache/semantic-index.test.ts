import { expect, test } from '@jest/globals';
import { ENTRY_OVERHEAD_BYTES, MemoryIndex } from './semantic-index.js';
import { normalise } from './semantic-prompt.js';

const v = (...n: number[]) => normalise(Float32Array.from(n));

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('nearest: the most similar entry of the fingerprint, with its cosine', () => {
  const idx = new MemoryIndex();
  idx.add('fp', v(1, 0, 0), 'k-x', 60_000);
  idx.add('fp', v(0, 1, 0), 'k-y', 60_000);
  idx.add('other', v(1, 0.1, 0), 'k-other', 60_000);
  const m = idx.nearestNow('fp', v(1, 0.1, 0));
  expect(m?.entryKey).toBe('k-x');
  expect(m?.similarity).toBeCloseTo(1 / Math.sqrt(1.01), 5);
  expect(idx.nearestNow('nothing-here', v(1, 0, 0))).toBeUndefined();
});

test('an entry expires after its ttl and is dropped when a lookup meets it', () => {
  const c = clock();
  const idx = new MemoryIndex({ now: c.now });
  idx.add('fp', v(1, 0), 'k', 1000);
  c.advance(999);
  expect(idx.nearestNow('fp', v(1, 0))?.entryKey).toBe('k');
  c.advance(1);
  expect(idx.nearestNow('fp', v(1, 0))).toBeUndefined();
  expect(idx.size).toBe(0);
  expect(idx.bytes).toBe(0);
});

test('the entry cap evicts the oldest entry first, across fingerprints', () => {
  const idx = new MemoryIndex({ maxEntries: 3 });
  idx.add('a', v(1, 0), 'k1', 60_000);
  idx.add('b', v(1, 0), 'k2', 60_000);
  idx.add('a', v(0, 1), 'k3', 60_000);
  idx.add('b', v(0, 1), 'k4', 60_000);
  expect(idx.size).toBe(3);
  expect(idx.nearestNow('a', v(1, 0))?.entryKey).toBe('k3'); // k1 went, k3 is all that is left of a
  expect(idx.nearestNow('b', v(1, 0))?.entryKey).toBe('k2');
});

test('the memory bound counts vector bytes and overhead; an entry larger than the bound is not kept', () => {
  const dims = 256;
  const one = dims * 4 + ENTRY_OVERHEAD_BYTES + 2 * 2; // key "kN" is 2 chars
  const idx = new MemoryIndex({ maxBytes: one * 2 });
  for (let i = 0; i < 5; i++) idx.add('fp', normalise(new Float32Array(dims).fill(i + 1)), `k${i}`, 60_000);
  expect(idx.size).toBe(2);
  expect(idx.bytes).toBe(one * 2);
  const tiny = new MemoryIndex({ maxBytes: 100 });
  tiny.add('fp', v(1, 0), 'k', 60_000);
  expect(tiny.size).toBe(0);
});

test('adding the same key again replaces its vector (no duplicate)', () => {
  const idx = new MemoryIndex();
  idx.add('fp', v(1, 0), 'k', 60_000);
  idx.add('fp', v(0, 1), 'k', 60_000);
  expect(idx.size).toBe(1);
  expect(idx.nearestNow('fp', v(0, 1))?.similarity).toBeCloseTo(1, 6);
});

test('the stored vector is a copy: the caller may reuse its array', () => {
  const idx = new MemoryIndex();
  const a = v(1, 0);
  idx.add('fp', a, 'k', 60_000);
  a[0] = 0;
  a[1] = 1;
  expect(idx.nearestNow('fp', v(1, 0))?.similarity).toBeCloseTo(1, 6);
});
