/**
 * Admission credits (credits.ts, ADR 0034) against a real redis-server: replicas answer admissions from
 * credits far from a limit, never admit more than the limit together, count every credit in Redis before
 * handing it out, and give back what they did not use.
 */
import { Redis } from 'ioredis';
import type { GatewayConfig, QuotaPolicyConfig } from '../../contract/gateway-config.js';
import { createAccounting } from '../../dataplane/src/accounting/hooks.js';
import { RedisStore } from '../../dataplane/src/accounting/quota/redis-store.js';
import { QuotaService, type QuotaTicket } from '../../dataplane/src/accounting/quota/service.js';
import { GatewayError } from '../../dataplane/src/errors.js';
import type { RequestInfo } from '../../dataplane/src/pipeline/hooks.js';
import { outcome, quotaPolicy } from '../support/quota.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const HOUR = 3_600_000;

const policy = (limits: QuotaPolicyConfig['limits']) => quotaPolicy({ limits, failureMode: 'closed' });

const req = (reserveTokens = 0) => ({ keyId: 'ai/k1', model: 'gpt-4o', reserveTokens, reserveCostNano: 0 });

const requestsPerHour = (amount: number) =>
  policy([{ kind: 'requests', amount, window: { type: 'sliding', ms: HOUR } }]);

/** admitNow, with a refusal thrown at once (in-process path) turned into its error. */
function admitNow(svc: QuotaService, r = req()): QuotaTicket | Promise<QuotaTicket> | GatewayError {
  try {
    return svc.admitNow(r)!;
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
}

describe('admission credits (real redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  const services: QuotaService[] = [];
  let clock = Date.UTC(2026, 10, 23, 12, 0, 0);

  async function replicas(
    n: number,
    policies: QuotaPolicyConfig[],
  ): Promise<{ svc: QuotaService; store: RedisStore }[]> {
    const out: { svc: QuotaService; store: RedisStore }[] = [];
    for (let i = 0; i < n; i++) {
      const store = new RedisStore({ url: redis.url, timeoutMs: 2000 });
      expect(await store.ready(5000)).toBe(true);
      const svc = new QuotaService({ store, now: () => clock });
      svc.applyPolicies(policies);
      out.push({ svc, store });
      services.push(svc);
    }
    return out;
  }

  /** The window total Redis holds for the policy's first limit (credits included). */
  async function redisTotal(svc: QuotaService): Promise<number> {
    return (await svc.usage('ai/shared'))[0]!.used;
  }

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.dispose();
  });
  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 23, 12, 0, 0);
    await admin.flushall();
  });
  // A replica left running would give its credits back into the next test's counters (same names).
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
  });

  test('far from the limit: after one round trip, admissions are answered at once, counted in Redis first', async () => {
    const [{ svc, store }] = (await replicas(1, [requestsPerHour(1_024_000)])) as [
      { svc: QuotaService; store: RedisStore },
    ];
    const first = admitNow(svc);
    expect(first).toBeInstanceOf(Promise); // no credit yet: Redis answers, and grants one
    expect(await outcome(first)).not.toBeInstanceOf(GatewayError);
    const calls = store.calls;
    const total = await redisTotal(svc);
    expect(total).toBe(1 + 8); // the request and a credit of 8 (k starts at 8), counted before use
    const second = admitNow(svc);
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as QuotaTicket).store).toBe('redis');
    expect((second as QuotaTicket).headers['x-ratelimit-remaining-requests']).toBe(String(1_024_000 - 2));
    expect(store.calls).toBe(calls); // no script call for it
    expect(svc.creditsHeld).toBe(1);
  });

  test('replicas under sustained traffic: exactly N across 3 replicas, credits used then given back', async () => {
    const N = 8192; // credits of up to N/1024 = 8 while the counter is under half full
    const reps = await replicas(3, [requestsPerHour(N)]);
    let ok = 0;
    let refused = 0;
    let atOnce = 0;
    for (let wave = 0; wave < 100 && refused < 300; wave++) {
      const answers = Array.from({ length: 120 }, (_, i) => admitNow(reps[i % 3]!.svc));
      atOnce += answers.filter((a) => !(a instanceof Promise)).length;
      for (const a of await Promise.all(answers.map(outcome))) {
        if (a instanceof GatewayError) {
          expect(a.code).toBe('quota_exceeded');
          refused++;
        } else ok++;
      }
    }
    expect(ok).toBe(N);
    expect(atOnce).toBeGreaterThan(500); // credits were in play
    for (const r of reps) r.svc.expireCredits();
    clock += 2000; // every credit has ended
    for (const r of reps) r.svc.expireCredits();
    await new Promise((r) => setTimeout(r, 50));
    expect(await redisTotal(reps[0]!.svc)).toBe(N);
  });

  test('a burst from under half to full: never over N; what credits held back is admitted once they end', async () => {
    const N = 8192;
    const reps = await replicas(4, [requestsPerHour(N)]);
    // One simultaneous burst of 3N: each replica's first admission asks for a credit that its other
    // admissions (already on their way) cannot use.
    const burst = await Promise.all(Array.from({ length: 3 * N }, (_, i) => outcome(admitNow(reps[i % 4]!.svc))));
    const ok = burst.filter((a) => !(a instanceof GatewayError)).length;
    expect(ok).toBeLessThanOrEqual(N);
    expect(ok).toBeGreaterThanOrEqual(N - 4 * (N / 1024)); // at most one credit per replica held back
    expect(await redisTotal(reps[0]!.svc)).toBe(N); // full: the credits count
    clock += 1000; // credits end after 1 s and are given back
    for (const r of reps) r.svc.expireCredits();
    await new Promise((r) => setTimeout(r, 50));
    expect(await redisTotal(reps[0]!.svc)).toBe(ok);
    const later = await Promise.all(Array.from({ length: 100 }, (_, i) => outcome(admitNow(reps[i % 4]!.svc))));
    expect(later.filter((a) => !(a instanceof GatewayError))).toHaveLength(N - ok);
    expect(await redisTotal(reps[0]!.svc)).toBe(N);
  });

  test('past half full no credit is granted: every admission goes to Redis', async () => {
    const N = 4096;
    const [{ svc }] = (await replicas(1, [requestsPerHour(N)])) as [{ svc: QuotaService; store: RedisStore }];
    const [{ svc: other }] = (await replicas(1, [requestsPerHour(N)])) as [{ svc: QuotaService; store: RedisStore }];
    // Another replica fills the counter to 60% (its credits then given back).
    for (let i = 0; i < 0.6 * N; i += 100)
      await Promise.all(Array.from({ length: 100 }, () => outcome(admitNow(other))));
    clock += 1000;
    other.expireCredits();
    await new Promise((r) => setTimeout(r, 50));
    const before = await redisTotal(svc);
    expect(before).toBeGreaterThan(N / 2);
    for (let i = 0; i < 20; i++) {
      const a = admitNow(svc);
      expect(a).toBeInstanceOf(Promise);
      expect(await outcome(a)).not.toBeInstanceOf(GatewayError);
    }
    expect(svc.creditsHeld).toBe(0);
    expect(await redisTotal(svc)).toBe(before + 20);
  });

  test('tokens: settlements go to the credit, Redis ends with the real usage exactly', async () => {
    const [{ svc, store }] = (await replicas(1, [
      policy([{ kind: 'tokens', amount: 100_000_000, window: { type: 'sliding', ms: HOUR } }]),
    ])) as [{ svc: QuotaService; store: RedisStore }];
    let real = 0;
    let atOnce = 0;
    const callsAtStart = store.calls;
    for (let i = 0; i < 200; i++) {
      const a = admitNow(svc, req(500));
      if (!(a instanceof Promise)) atOnce++;
      const t = (await outcome(a)) as QuotaTicket;
      const used = 37 + (i % 50);
      real += used;
      await t.settle({ tokens: used, costNano: 0 });
    }
    expect(atOnce).toBeGreaterThan(190);
    expect(store.calls - callsAtStart).toBeLessThan(10); // admissions and settlements stayed in the replica
    clock += 1000;
    svc.expireCredits();
    await new Promise((r) => setTimeout(r, 50));
    expect(await redisTotal(svc)).toBe(real);
  });

  test('a credit ends with its bucket: the next bucket asks Redis again and the unused part is given back', async () => {
    const [{ svc }] = (await replicas(1, [
      policy([{ kind: 'requests', amount: 1_000_000, window: { type: 'sliding', ms: 60_000 } }]),
    ])) as [{ svc: QuotaService; store: RedisStore }];
    clock = Date.UTC(2026, 10, 23, 12, 0, 0) + 100; // 1 s buckets
    await outcome(admitNow(svc));
    expect(admitNow(svc)).not.toBeInstanceOf(Promise);
    clock += 1000; // next bucket
    const a = admitNow(svc);
    expect(a).toBeInstanceOf(Promise);
    await outcome(a);
    svc.expireCredits();
    await new Promise((r) => setTimeout(r, 50));
    // 3 admissions, the old bucket's 7 unused units given back, the new credit of 8 still held.
    expect(await redisTotal(svc)).toBe(3 + 8);
  });

  test('a config change and closing give every credit back', async () => {
    const [{ svc }] = (await replicas(1, [requestsPerHour(1_024_000)])) as [{ svc: QuotaService; store: RedisStore }];
    await outcome(admitNow(svc));
    admitNow(svc);
    expect(await redisTotal(svc)).toBe(9);
    svc.applyPolicies([requestsPerHour(1_024_000)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(await redisTotal(svc)).toBe(2);
    await outcome(admitNow(svc));
    expect(await redisTotal(svc)).toBe(3 + 8);
    const [{ svc: reader }] = (await replicas(1, [requestsPerHour(1_024_000)])) as [
      { svc: QuotaService; store: RedisStore },
    ];
    await svc.close();
    expect(await redisTotal(reader)).toBe(3);
  });

  test('TOLLGATE_QUOTA_CREDITS=off: the gateway hooks send every admission to Redis', async () => {
    const config = {
      providers: [{ id: 'ai/oa', name: 'oa', type: 'openai', models: [{ name: 'gpt-4o' }] }],
      routes: [],
      quotaPolicies: [requestsPerHour(1_024_000)],
    } as unknown as GatewayConfig;
    const request = (body: Record<string, unknown>) =>
      ({
        clientFormat: 'openai',
        operation: 'chat',
        stream: false,
        model: 'gpt-4o',
        route: { id: 'ai/chat', models: [], backends: [{ provider: 'ai/oa' }] },
        key: { id: 'ai/k1', namespace: 'ai', labels: {} },
        body,
        startedAt: performance.now(),
      }) as unknown as RequestInfo;
    for (const [env, sync] of [
      [{}, true],
      [{ TOLLGATE_QUOTA_CREDITS: 'off' }, false],
    ] as const) {
      await admin.flushall();
      const hooks = await createAccounting({ redisUrl: redis.url, accessLog: false, env });
      hooks.applyConfig(config);
      const answers = [];
      for (let i = 0; i < 5; i++) {
        const a = hooks.admission.admit(request({ model: 'gpt-4o', messages: [] }));
        answers.push(!(a instanceof Promise));
        await a;
      }
      // With credits, the first admission goes to Redis and the next ones are answered at once.
      expect(answers).toEqual(sync ? [false, true, true, true, true] : [false, false, false, false, false]);
      await hooks.close();
    }
  });

  test('small limits and short windows never use credits (exact one by one)', async () => {
    const [{ svc }] = (await replicas(1, [
      policy([
        { kind: 'requests', amount: 1000, window: { type: 'sliding', ms: HOUR } },
        { kind: 'tokens', amount: 1_000_000_000, window: { type: 'sliding', ms: 10_000 } },
      ]),
    ])) as [{ svc: QuotaService; store: RedisStore }];
    for (let i = 0; i < 5; i++) {
      const a = admitNow(svc, req(10));
      expect(a).toBeInstanceOf(Promise);
      expect(await outcome(a)).not.toBeInstanceOf(GatewayError);
    }
    expect(svc.creditsHeld).toBe(0);
  });
});
