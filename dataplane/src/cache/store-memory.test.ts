import { describe, expect, test } from '@jest/globals';
import { MemoryStore } from './store-memory.js';
import type { CacheEntry } from './types.js';

const entry = (text: string): CacheEntry => ({
  storedAt: 0,
  provider: 'ai/p',
  upstreamModel: 'm',
  answer: { v: 1, operation: 'embeddings', embedding: text, inputTokens: 1, responseModel: undefined },
});
const bytes = (e: CacheEntry) => JSON.stringify(e).length * 2;

describe('MemoryStore', () => {
  test('an entry is read back as a fresh object until its ttl, then it is gone (injected clock)', async () => {
    let now = 1000;
    const s = new MemoryStore({ maxBytes: 1 << 20, maxEntryBytes: 1 << 20, now: () => now });
    s.set('k', entry('a'), 50);
    const first = await s.get('k');
    expect(first).toEqual(entry('a'));
    expect(await s.get('k')).not.toBe(first);
    now += 49;
    expect(await s.get('k')).toBeDefined();
    now += 1;
    expect(await s.get('k')).toBeUndefined();
    expect(s.size).toBe(0);
  });

  test('the byte bound evicts the least recently used entry', async () => {
    const one = bytes(entry('a'));
    const s = new MemoryStore({ maxBytes: one * 2, maxEntryBytes: one * 2 });
    s.set('a', entry('a'), 60_000);
    s.set('b', entry('b'), 60_000);
    await s.get('a'); // a is now the most recently used
    s.set('c', entry('c'), 60_000);
    expect(await s.getMany(['a', 'b', 'c'])).toEqual([entry('a'), undefined, entry('c')]);
    expect(s.size).toBe(one * 2);
  });

  test('entries over the entry cap are not stored; replacing a key keeps the byte count right', async () => {
    const s = new MemoryStore({ maxBytes: 1 << 20, maxEntryBytes: bytes(entry('a')) });
    s.set('big', entry('a much longer embedding text'), 60_000);
    expect(await s.get('big')).toBeUndefined();
    s.set('k', entry('a'), 60_000);
    s.set('k', entry('b'), 60_000);
    expect(s.size).toBe(bytes(entry('b')));
    expect(await s.get('k')).toEqual(entry('b'));
  });
});
