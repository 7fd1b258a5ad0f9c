import {
  ANONYMOUS_SCOPE,
  CAPACITY_KEY_PREFIX,
  capacityCounterOwner,
  monthOf,
  QUOTA_KEY_PREFIX,
  quotaCounterAt,
  quotaCounterBase,
  quotaCounterName,
  SHARED_SCOPE,
  slidingBuckets,
  windowTotal,
} from './shared-state.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0, 500);

describe('shared-state key layout', () => {
  test('counter names: prefix, policy, kind, window, scope and month', () => {
    expect(QUOTA_KEY_PREFIX).toBe('tollgate:quota:v2:');
    const sliding = quotaCounterBase('ai/team', 'tokens', { type: 'sliding', ms: 3_600_000 });
    expect(sliding).toBe('ai/team|tokens|3600000ms');
    expect(quotaCounterName(sliding, SHARED_SCOPE)).toBe('ai/team|tokens|3600000ms|*');
    const month = quotaCounterBase('ai/team', 'costUSD', { type: 'calendarMonth' });
    expect(quotaCounterName(month, 'ai/alice', '2026-11')).toBe('ai/team|costUSD|month|ai/alice|2026-11');
    expect(ANONYMOUS_SCOPE).toBe('~anonymous');
  });

  test('capacity counters: own prefix, the provider id as the Cluster hash tag for provider and model limits', () => {
    expect(CAPACITY_KEY_PREFIX).toBe('tollgate:capacity:v1:');
    const provider = quotaCounterBase(capacityCounterOwner('ai/openai'), 'tokens', { type: 'sliding', ms: 60_000 });
    const model = quotaCounterBase(capacityCounterOwner('ai/openai', 'gpt-4o'), 'requests', { type: 'calendarMonth' });
    expect(CAPACITY_KEY_PREFIX + quotaCounterName(provider, SHARED_SCOPE)).toBe(
      'tollgate:capacity:v1:{ai/openai}|tokens|60000ms|*',
    );
    expect(quotaCounterName(model, SHARED_SCOPE, '2026-12')).toBe('{ai/openai}#gpt-4o|requests|month|*|2026-12');
    // Redis Cluster hashes the text between the first { and the next }: the same slot for both.
    const tag = (k: string) => k.slice(k.indexOf('{') + 1, k.indexOf('}'));
    expect(tag(provider)).toBe(tag(model));
  });

  test('sliding windows: 60 buckets of ceil(W/60) ms, at least 1 ms', () => {
    expect(slidingBuckets(60_000)).toEqual({ bucketMs: 1000, buckets: 60 });
    expect(slidingBuckets(90_000)).toEqual({ bucketMs: 1500, buckets: 60 });
    expect(slidingBuckets(1000)).toEqual({ bucketMs: 17, buckets: 59 });
    expect(slidingBuckets(10)).toEqual({ bucketMs: 1, buckets: 10 });
  });

  test('where a reader looks: the key and the lowest bucket that counts', () => {
    const base = quotaCounterBase('ai/team', 'requests', { type: 'sliding', ms: 60_000 });
    expect(quotaCounterAt(base, { type: 'sliding', ms: 60_000 }, SHARED_SCOPE, NOW)).toEqual({
      key: 'tollgate:quota:v2:ai/team|requests|60000ms|*',
      minField: Math.floor(NOW / 1000) - 60,
    });
    const mbase = quotaCounterBase('ai/team', 'costUSD', { type: 'calendarMonth' });
    expect(quotaCounterAt(mbase, { type: 'calendarMonth' }, SHARED_SCOPE, NOW, 'p:')).toEqual({
      key: 'p:ai/team|costUSD|month|*|2026-11',
      minField: 0,
    });
    expect(monthOf(NOW)).toMatchObject({ id: '2026-11', endMs: Date.UTC(2026, 11, 1) });
  });

  test('window total: absent is 0; the running total while no stale bucket is left; else the live buckets', () => {
    expect(windowTotal({}, 100)).toBe(0);
    const hash = { '98': '5', '100': '2', '101': '3', t: '10', lo: '98' };
    expect(windowTotal(hash, 98)).toBe(10);
    expect(windowTotal(hash, 97)).toBe(10);
    // Bucket 98 left the window but the writer has not dropped it yet: only 100 and 101 count.
    expect(windowTotal(hash, 99)).toBe(5);
    expect(windowTotal(hash, 102)).toBe(0);
    // No `lo` yet: the total stands.
    expect(windowTotal({ '7': '4', t: '4' }, 7)).toBe(4);
  });
});
