/**
 * The shared-state contract on a real redis-server: the data plane's quota engine (QuotaService over a
 * RedisStore) writes counters, the operator's reader (plain ioredis, contract/shared-state.ts's layout)
 * reads them, and both must agree on every total through random traffic and clock steps. The key names
 * themselves are pinned: a change to them is a breaking change for running deployments (ADR 0049).
 */
import { Redis } from 'ioredis';
import type { QuotaPolicyConfig } from '../../contract/gateway-config.js';
import { QUOTA_KEY_PREFIX } from '../../contract/shared-state.js';
import { RedisStore } from '../../dataplane/src/accounting/quota/redis-store.js';
import { QuotaService, type QuotaTicket } from '../../dataplane/src/accounting/quota/service.js';
import { GatewayError } from '../../dataplane/src/errors.js';
import { readScopeTotals, scopesOf } from '../../operator/src/quota-usage.js';
import { outcome, quotaPolicy } from '../support/quota.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { rng } from '../support/rng.js';

const MIN = 60_000;
const HOUR = 3_600_000;

const policies: QuotaPolicyConfig[] = [
  quotaPolicy({
    id: 'ai/team',
    name: 'team',
    keys: ['ai/k1', 'ai/k2'],
    limits: [
      { kind: 'requests', amount: 40, window: { type: 'sliding', ms: MIN } },
      { kind: 'tokens', amount: 5000, window: { type: 'sliding', ms: HOUR } },
      { kind: 'costUSD', amount: 0.02, window: { type: 'calendarMonth' } },
    ],
  }),
  quotaPolicy({
    id: 'ai/each',
    name: 'each',
    scope: 'perKey',
    keys: ['ai/k1', 'ai/k2'],
    limits: [{ kind: 'requests', amount: 15, window: { type: 'sliding', ms: 10_000 } }],
  }),
];

describe('shared-state contract: the operator reads what the data plane writes (real redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let svc: QuotaService;
  let clock = Date.UTC(2026, 11, 31, 23, 50, 0);

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    const store = new RedisStore({ url: redis.url, timeoutMs: 2000 });
    expect(await store.ready(5000)).toBe(true);
    // Credits off: every admission goes to Redis (with credits the totals still agree, but fewer writes).
    svc = new QuotaService({ store, now: () => clock, credits: false });
    svc.applyPolicies(policies);
  });
  afterAll(async () => {
    await svc?.close();
    admin?.disconnect();
    await redis?.dispose();
  });

  test('key names are the documented layout', async () => {
    await outcome(svc.admit({ keyId: 'ai/k1', model: 'm', reserveTokens: 10, reserveCostNano: 1000 }));
    const keys = (await admin.keys(`${QUOTA_KEY_PREFIX}*`)).sort();
    expect(keys).toEqual([
      'tollgate:quota:v2:ai/each|requests|10000ms|ai/k1',
      'tollgate:quota:v2:ai/team|costUSD|month|*|2026-12',
      'tollgate:quota:v2:ai/team|requests|60000ms|*',
      'tollgate:quota:v2:ai/team|tokens|3600000ms|*',
    ]);
    const hash = await admin.hgetall('tollgate:quota:v2:ai/team|requests|60000ms|*');
    // Bucket width 1 s for a 1 m window; the bucket is floor(now / width), `t` the total, `lo` the low mark.
    expect(hash).toEqual({
      [String(Math.floor(clock / 1000))]: '1',
      t: '1',
      lo: String(Math.floor(clock / 1000) - 60),
    });
  });

  test('random admissions, settlements and clock steps: both reads agree on every counter', async () => {
    const r = rng(0x5eed);
    const tickets: QuotaTicket[] = [];
    let nonZero = 0;
    for (let step = 0; step < 150; step++) {
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) {
        const keyId = r() < 0.5 ? 'ai/k1' : 'ai/k2';
        const got = await outcome(
          svc.admit({
            keyId,
            model: 'm',
            reserveTokens: Math.floor(r() * 200),
            reserveCostNano: Math.floor(r() * 2e6),
          }),
        );
        if (!(got instanceof GatewayError)) tickets.push(got);
      }
      if (tickets.length > 0 && r() < 0.6) {
        const t = tickets.splice(Math.floor(r() * tickets.length), 1)[0]!;
        await t.settle({ tokens: Math.floor(r() * 300), costNano: Math.floor(r() * 3e6) });
      }
      // Steps from milliseconds to over an hour (the month turns over on the way).
      const jump = r();
      clock += jump < 0.6 ? Math.floor(r() * 2000) : jump < 0.9 ? Math.floor(r() * 40_000) : Math.floor(r() * 2 * HOUR);
      for (const p of policies) {
        for (const scope of scopesOf(p)) {
          const dataPlane = (await svc.usage(p.id, scope)).map((u) => u.used);
          const operator = await readScopeTotals(admin, p, scope, clock);
          expect(operator).toEqual(dataPlane);
          if (operator.some((v) => v > 0)) nonZero++;
        }
      }
    }
    // The comparison saw live counters, not only empty ones.
    expect(nonZero).toBeGreaterThan(100);
  });
});
