import type { QuotaPolicyConfig } from '../../contract/gateway-config.js';
import { buildUsage, formatPer, readUsage, scopesOf } from './quota-usage.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

function policy(over: Partial<QuotaPolicyConfig> = {}): QuotaPolicyConfig {
  return {
    id: 'ai/research',
    namespace: 'ai',
    name: 'research',
    models: [],
    scope: 'shared',
    limits: [
      { kind: 'requests', amount: 600, window: { type: 'sliding', ms: 60_000 } },
      { kind: 'tokens', amount: 2_000_000, window: { type: 'sliding', ms: 3_600_000 } },
      { kind: 'costUSD', amount: 500, window: { type: 'calendarMonth' } },
    ],
    failureMode: 'open',
    keys: ['ai/alice', 'ai/bob', 'ai/carol'],
    matchesAnonymous: false,
    ...over,
  };
}

describe('formatPer', () => {
  it('writes windows as the spec does', () => {
    expect(formatPer({ type: 'calendarMonth' })).toBe('month');
    expect(formatPer({ type: 'sliding', ms: 60_000 })).toBe('1m');
    expect(formatPer({ type: 'sliding', ms: 90_000 })).toBe('90s');
    expect(formatPer({ type: 'sliding', ms: 30 * 86_400_000 })).toBe('30d');
    expect(formatPer({ type: 'sliding', ms: 1500 })).toBe('1500ms');
  });
});

describe('buildUsage', () => {
  it('shared: one row per limit with used, remaining and the month reset', () => {
    const rows = buildUsage(policy(), new Map([['*', [12, 2_500_000, 1.23456789]]]), NOW);
    expect(rows).toEqual([
      { limit: 'requests per 1m', kind: 'requests', amount: 600, per: '1m', used: 12, remaining: 588, scope: 'shared' },
      {
        limit: 'tokens per 1h',
        kind: 'tokens',
        amount: 2_000_000,
        per: '1h',
        used: 2_500_000,
        remaining: 0, // overspent by in-flight settlement: never negative
        scope: 'shared',
      },
      {
        limit: 'costUSD per month',
        kind: 'costUSD',
        amount: 500,
        per: 'month',
        used: 1.234568,
        remaining: 498.765432,
        scope: 'shared',
        windowResetsAt: '2026-12-01T00:00:00.000Z',
      },
    ]);
  });

  it('shared with no counter yet: zero use', () => {
    const rows = buildUsage(policy(), new Map(), NOW);
    expect(rows.map((r) => [r.used, r.remaining])).toEqual([
      [0, 600],
      [0, 2_000_000],
      [0, 500],
    ]);
  });

  it('perKey: the heaviest keys per limit (ties by name), named by Secret, at most topKeys', () => {
    const p = policy({ scope: 'perKey', limits: [policy().limits[0]!] });
    const totals = new Map([
      ['ai/alice', [3]],
      ['ai/bob', [7]],
      ['ai/carol', [3]],
      ['ai/dave', [0]],
    ]);
    const rows = buildUsage(p, totals, NOW, 2);
    expect(rows.map((r) => [r.key, r.used, r.remaining, r.scope])).toEqual([
      ['bob', 7, 593, 'perKey'],
      ['alice', 3, 597, 'perKey'],
    ]);
  });

  it('perKey with no use yet: one row without a key', () => {
    const p = policy({ scope: 'perKey', limits: [policy().limits[0]!] });
    expect(buildUsage(p, new Map([['ai/alice', [0]]]), NOW)).toEqual([
      { limit: 'requests per 1m', kind: 'requests', amount: 600, per: '1m', used: 0, remaining: 600, scope: 'perKey' },
    ]);
  });
});

describe('readUsage', () => {
  it('reads the shared counter once, or every selected key for perKey', async () => {
    expect(scopesOf(policy())).toEqual(['*']);
    expect(scopesOf(policy({ scope: 'perKey' }))).toEqual(['ai/alice', 'ai/bob', 'ai/carol']);
    const reads: string[] = [];
    const out = await readUsage(
      [policy({ scope: 'perKey' }), policy({ id: 'ai/other', name: 'other' }), policy({ id: 'ai/none', limits: [] })],
      async (id, scope) => {
        reads.push(`${id}@${scope}`);
        return scope === 'ai/bob' ? [5, 100, 0.5] : [0, 0, 0];
      },
      NOW,
      5,
      2,
    );
    expect(reads.sort()).toEqual(['ai/other@*', 'ai/research@ai/alice', 'ai/research@ai/bob', 'ai/research@ai/carol']);
    expect([...out.keys()]).toEqual(['ai/research', 'ai/other']);
    expect(out.get('ai/research')?.lastUpdated).toBe(new Date(NOW).toISOString());
    expect(out.get('ai/research')?.usage.map((r) => r.key)).toEqual(['bob', 'bob', 'bob']);
  });

  it('rejects when the store does (the controller keeps the last reading)', async () => {
    await expect(readUsage([policy()], async () => Promise.reject(new Error('ECONNREFUSED')), NOW)).rejects.toThrow(
      'ECONNREFUSED',
    );
  });
});
