/**
 * Exactness of the Redis quota store: several engine instances (each its own ioredis connection, as
 * separate replicas would be) admitting concurrently against one real redis-server.
 */
import { type AddressInfo, createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { QuotaPolicyConfig } from '../../contract/gateway-config.js';
import { MemoryStore } from '../../dataplane/src/accounting/quota/memory-store.js';
import { compilePolicy } from '../../dataplane/src/accounting/quota/policy-index.js';
import { RedisStore } from '../../dataplane/src/accounting/quota/redis-store.js';
import { QuotaService, type QuotaTicket } from '../../dataplane/src/accounting/quota/service.js';
import { makeSlot, type ReserveResult, type Slot } from '../../dataplane/src/accounting/quota/slots.js';
import { GatewayError } from '../../dataplane/src/errors.js';
import { outcome, quotaPolicy } from '../support/quota.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { rng } from '../support/rng.js';

const HOUR = 3_600_000;

const policy = (over: Partial<QuotaPolicyConfig>) => quotaPolicy({ keys: ['ai/k1', 'ai/k2', 'ai/k3'], ...over });

const req = (i: number, reserveTokens = 0, reserveCostNano = 0) => ({
  keyId: `ai/k${(i % 3) + 1}`,
  model: 'gpt-4o',
  reserveTokens,
  reserveCostNano,
});

describe('Redis quota store (real redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  const services: QuotaService[] = [];
  const closers: { close(): Promise<void> }[] = [];
  let clock = Date.UTC(2026, 10, 23, 12, 0, 0);

  async function replicas(n: number, policies: QuotaPolicyConfig[], timeoutMs = 500): Promise<QuotaService[]> {
    const out: QuotaService[] = [];
    for (let i = 0; i < n; i++) {
      const store = new RedisStore({ url: redis.url, timeoutMs });
      expect(await store.ready(5000)).toBe(true);
      const s = new QuotaService({ store, now: () => clock });
      s.applyPolicies(policies);
      out.push(s);
      services.push(s);
    }
    return out;
  }

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    for (const s of services) await s.close();
    for (const c of closers) await c.close();
    admin.disconnect();
    await redis.dispose();
  });
  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 23, 12, 0, 0);
    if (redis) {
      await redis.start(); // a previous test may have stopped it
      await admin.flushall().catch(() => {});
    }
  });

  test('shared N requests per window: exactly N allowed across 5 replicas, 400 concurrent admissions', async () => {
    const N = 137;
    const reps = await replicas(5, [
      policy({ limits: [{ kind: 'requests', amount: N, window: { type: 'sliding', ms: HOUR } }] }),
    ]);
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => outcome(reps[i % 5]!.admit(req(i)))));
    const allowed = results.filter((r) => !(r instanceof GatewayError)) as QuotaTicket[];
    const denied = results.filter((r) => r instanceof GatewayError) as GatewayError[];
    expect(allowed).toHaveLength(N);
    expect(allowed.every((t) => t.store === 'redis')).toBe(true);
    expect(denied).toHaveLength(400 - N);
    expect(denied.every((e) => e.code === 'quota_exceeded' && e.status === 429)).toBe(true);
    expect(denied[0]!.headers?.['x-ratelimit-remaining-requests']).toBe('0');
    expect(Number(denied[0]!.headers?.['retry-after'])).toBeGreaterThan(0);
    // Counters expire: every key has a TTL.
    const keys = await admin.keys('tollgate:quota:*');
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(await admin.pttl(k)).toBeGreaterThan(0);
  });

  test('cost budget: overspent by at most one in-flight request across 4 replicas', async () => {
    // $0.05 budget; each request reserves its upper bound $0.003 and really costs $0.002..$0.003.
    const budgetNano = 50_000_000;
    const reserve = 3_000_000;
    const reps = await replicas(4, [
      policy({ limits: [{ kind: 'costUSD', amount: 0.05, window: { type: 'calendarMonth' } }] }),
    ]);
    let spent = 0;
    let admitted = 0;
    let rounds = 0;
    // Waves of 12 concurrent requests until the budget refuses everything.
    for (;;) {
      rounds++;
      const wave = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const t = await outcome(reps[i % 4]!.admit(req(i, 0, reserve)));
          if (t instanceof GatewayError) return 0;
          const real = 2_000_000 + ((i * 7919) % 1_000_001);
          await new Promise((r) => setTimeout(r, i % 3));
          await t.settle({ tokens: 0, costNano: real });
          return real;
        }),
      );
      const ok = wave.filter((x) => x > 0);
      admitted += ok.length;
      spent += ok.reduce((a, b) => a + b, 0);
      if (ok.length === 0) break;
    }
    const [usage] = await reps[0]!.usage('ai/shared');
    expect(usage!.used * 1e9).toBeCloseTo(spent, 0);
    expect(spent).toBeGreaterThanOrEqual(budgetNano);
    expect(spent - budgetNano).toBeLessThanOrEqual(reserve);
    expect(admitted).toBeGreaterThan(10);
    expect(rounds).toBeGreaterThan(1);
    process.stdout.write(
      `cost budget: $0.05, spent $${(spent / 1e9).toFixed(6)} over ${admitted} requests (overspend $${((spent - budgetNano) / 1e9).toFixed(6)}, bound $0.003)\n`,
    );
  });

  test('tokens reserved before the call and settled after it, exactly, across replicas', async () => {
    const reps = await replicas(3, [
      policy({ limits: [{ kind: 'tokens', amount: 10_000, window: { type: 'sliding', ms: HOUR } }] }),
    ]);
    const tickets = (await Promise.all(
      Array.from({ length: 30 }, (_, i) => outcome(reps[i % 3]!.admit(req(i, 500)))),
    )) as (QuotaTicket | GatewayError)[];
    const ok = tickets.filter((t) => !(t instanceof GatewayError)) as QuotaTicket[];
    expect(ok).toHaveLength(20); // admitted while reserved < 10_000: 20 × 500
    expect((await reps[0]!.usage('ai/shared'))[0]!.used).toBe(10_000);
    await Promise.all(ok.map((t) => t.settle({ tokens: 120, costNano: 0 })));
    expect((await reps[1]!.usage('ai/shared'))[0]!.used).toBe(20 * 120);
  });

  test('monthly window rolls over at the calendar boundary (injected clock into the scripts)', async () => {
    clock = Date.UTC(2026, 11, 31, 23, 59, 59, 900);
    const reps = await replicas(2, [
      policy({ scope: 'perKey', limits: [{ kind: 'requests', amount: 5, window: { type: 'calendarMonth' } }] }),
    ]);
    const first = await Promise.all(Array.from({ length: 12 }, () => outcome(reps[0]!.admit(req(0)))));
    expect(first.filter((r) => !(r instanceof GatewayError))).toHaveLength(5);
    const denied = first.find((r) => r instanceof GatewayError) as GatewayError;
    expect(denied.headers?.['retry-after']).toBe('1');
    clock = Date.UTC(2027, 0, 1, 0, 0, 0, 0);
    const second = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome(reps[i % 2]!.admit(req(0)))));
    expect(second.filter((r) => !(r instanceof GatewayError))).toHaveLength(5);
    // The December counter expires a day after the month ends.
    const keys = await admin.keys('tollgate:quota:*2026-12');
    expect(keys).toHaveLength(1);
    const ttl = await admin.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(86_400_000 + 1000);
  });

  test('EVALSHA falls back to EVAL after the script cache is flushed', async () => {
    const [svc] = await replicas(1, [
      policy({ limits: [{ kind: 'requests', amount: 2, window: { type: 'sliding', ms: HOUR } }] }),
    ]);
    expect(await outcome(svc!.admit(req(0)))).not.toBeInstanceOf(GatewayError);
    await admin.script('FLUSH');
    expect(await outcome(svc!.admit(req(0)))).not.toBeInstanceOf(GatewayError);
    expect(await outcome(svc!.admit(req(0)))).toBeInstanceOf(GatewayError);
  });

  test('Redis down: failureMode open falls back to local limits, closed answers 503; recovers when back', async () => {
    const limits = [{ kind: 'requests' as const, amount: 3, window: { type: 'sliding' as const, ms: HOUR } }];
    const [open] = await replicas(1, [policy({ limits })], 200);
    const [closed] = await replicas(1, [policy({ id: 'ai/closed', limits, failureMode: 'closed' })], 200);
    expect(await outcome(open!.admit(req(0)))).not.toBeInstanceOf(GatewayError);
    await redis.stop();
    const t0 = Date.now();
    const openResults = [];
    for (let i = 0; i < 6; i++) openResults.push(await outcome(open!.admit(req(i))));
    const okOpen = openResults.filter((r) => !(r instanceof GatewayError)) as QuotaTicket[];
    expect(okOpen).toHaveLength(3); // the local approximation enforces the same limit in this replica
    expect(okOpen.every((t) => t.store === 'memory')).toBe(true);
    const c = await outcome(closed!.admit(req(0)));
    expect(c).toBeInstanceOf(GatewayError);
    expect((c as GatewayError).code).toBe('quota_store_unavailable');
    expect((c as GatewayError).status).toBe(503);
    // Fails fast rather than hanging requests (generous bound: the machine is shared).
    expect(Date.now() - t0).toBeLessThan(5000);
    await redis.start();
    let back: QuotaTicket | GatewayError | undefined;
    for (let i = 0; i < 50; i++) {
      back = await outcome(closed!.admit(req(0)));
      if (!(back instanceof GatewayError)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(back).not.toBeInstanceOf(GatewayError);
    expect((back as QuotaTicket).store).toBe('redis');
  });

  test('a Redis that stops answering: calls fail after the timeout (closed: 503, open: local limits)', async () => {
    // Connects and answers the handshake, then never answers a script call.
    const hung = createServer((sock) => {
      sock.on('error', () => {});
      sock.on('data', (chunk) => {
        for (const m of chunk.toString('latin1').matchAll(/\*\d+\r\n\$\d+\r\n([A-Za-z]+)/g)) {
          const cmd = m[1]!.toUpperCase();
          if (cmd === 'EVALSHA' || cmd === 'EVAL') continue;
          sock.write(cmd === 'INFO' ? '$11\r\nloading:0\r\n\r\n' : '+OK\r\n');
        }
      });
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const url = `redis://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const limits = [{ kind: 'requests' as const, amount: 5, window: { type: 'sliding' as const, ms: HOUR } }];
    const results: (QuotaTicket | GatewayError)[] = [];
    for (const failureMode of ['closed', 'open'] as const) {
      const store = new RedisStore({ url, timeoutMs: 150 });
      expect(await store.ready(5000)).toBe(true);
      const svc = new QuotaService({ store, now: () => clock });
      services.push(svc);
      svc.applyPolicies([policy({ limits, failureMode })]);
      results.push(await outcome(svc.admit(req(0))));
    }
    expect((results[0] as GatewayError).code).toBe('quota_store_unavailable');
    expect((results[1] as QuotaTicket).store).toBe('memory');
    closers.push({ close: () => new Promise<void>((r) => hung.close(() => r())) });
    for (const s of services.splice(-2)) s.close().catch(() => {});
  });

  test('the Lua script and the in-process reference agree on every admission, settlement and total', async () => {
    // Random traffic on two limits at once (requests per 1m, tokens per 10m), several counters, clock
    // steps from milliseconds to far past the window; each event-loop turn's operations go out as one
    // batch, so this also checks that a batch behaves as the same operations one by one.
    const [reqLimit, tokLimit] = compilePolicy(
      policy({
        limits: [
          { kind: 'requests', amount: 40, window: { type: 'sliding', ms: 60_000 } },
          { kind: 'tokens', amount: 20_000, window: { type: 'sliding', ms: 600_000 } },
        ],
      }),
    ).limits;
    const store = new RedisStore({ url: redis.url, timeoutMs: 2000 });
    expect(await store.ready(5000)).toBe(true);
    const mem = new MemoryStore(() => clock, 3_600_000);
    closers.push(store, mem);
    const rand = rng(7);
    let now = Date.UTC(2026, 11, 2, 0, 0, 0);
    clock = now;
    let admitted: Slot[][] = [];
    let agreed = 0;
    let refusals = 0;
    const callsBefore = store.calls;
    for (let turn = 0; turn < 120; turn++) {
      const r = rand();
      now +=
        r < 0.6 ? Math.floor(rand() * 800) : r < 0.95 ? Math.floor(rand() * 20_000) : Math.floor(rand() * 4_000_000);
      clock = now;
      const redisOps: Promise<ReserveResult | undefined>[] = [];
      const memResults: (ReserveResult | undefined)[] = [];
      const reserved: Slot[][] = [];
      // Settle some earlier admissions (real usage above or below the reservation) ...
      const still: Slot[][] = [];
      for (const slots of admitted) {
        if (rand() < 0.5) {
          still.push(slots);
          continue;
        }
        const t = slots[1]!;
        // Now and then more than the bucket holds (clamped at zero on both sides).
        const delta = rand() < 0.1 ? -t.add - 5000 : Math.floor(rand() * 1500) - t.add;
        const items = [{ key: t.key, field: t.field, delta }];
        redisOps.push(store.settle(items).then(() => undefined));
        memResults.push(undefined);
        mem.settleSync(items);
      }
      admitted = still;
      // ... and admit a few new ones on three counters, in the same turn.
      const n = 1 + Math.floor(rand() * 6);
      for (let i = 0; i < n; i++) {
        const scope = `k${Math.floor(rand() * 3)}`;
        const slots = [
          makeSlot(reqLimit!, scope, 1, now),
          makeSlot(tokLimit!, scope, 1 + Math.floor(rand() * 2000), now),
        ];
        reserved.push(slots);
        redisOps.push(store.reserve(slots));
        memResults.push(mem.reserveSync(slots));
      }
      const got = await Promise.all(redisOps);
      expect(got).toEqual(memResults);
      for (let i = 0; i < reserved.length; i++) {
        const res = got[got.length - reserved.length + i]!;
        if (res.allowed) admitted.push(reserved[i]!);
        else refusals++;
      }
      for (const k of ['k0', 'k1', 'k2']) {
        const slots = [makeSlot(reqLimit!, k, 0, now), makeSlot(tokLimit!, k, 0, now)];
        expect(await store.read(slots)).toEqual(await mem.read(slots));
      }
      agreed += got.length;
    }
    expect(agreed).toBeGreaterThan(300);
    expect(refusals).toBeGreaterThan(10); // the limits were reached, so refusals (and freeField) were compared too
    expect(store.calls - callsBefore).toBeLessThanOrEqual(120); // one script call per turn (reads are not counted)
  });

  test('the script and the reference agree on the rare writes: two limits on one counter, a lagging clock', async () => {
    // Two `requests per 6s` limits of one policy share a counter (what the script read for the first is
    // stale for the second); every third admission comes from a replica whose clock is 7 s behind, so its
    // bucket is below the counter's lowest and counts in the oldest live one.
    const [reqA, reqB, tok] = compilePolicy(
      policy({
        limits: [
          { kind: 'requests', amount: 30, window: { type: 'sliding', ms: 6_000 } },
          { kind: 'requests', amount: 24, window: { type: 'sliding', ms: 6_000 } },
          { kind: 'tokens', amount: 9_000, window: { type: 'sliding', ms: 6_000 } },
        ],
      }),
    ).limits;
    const store = new RedisStore({ url: redis.url, timeoutMs: 2000, keyPrefix: 'tollgate:quota:rare:' });
    expect(await store.ready(5000)).toBe(true);
    const mem = new MemoryStore(() => clock, 3_600_000);
    closers.push(store, mem);
    let now = Date.UTC(2026, 11, 3, 0, 0, 0);
    let refusals = 0;
    let previous: Slot | undefined;
    for (let i = 0; i < 90; i++) {
      now += 40 + ((i * 37) % 300);
      clock = now;
      const at = i % 3 === 2 ? now - 7_000 : now;
      const slots = [makeSlot(reqA!, 'k', 1, at), makeSlot(reqB!, 'k', 1, at), makeSlot(tok!, 'k', 150 + i, at)];
      const got = await store.reserve(slots);
      expect(got).toEqual(mem.reserveSync(slots));
      if (!got.allowed) refusals++;
      if (previous && i % 2 === 0) {
        const items = [{ key: previous.key, field: previous.field, delta: (i % 4) * 40 - 100 }];
        await store.settle(items);
        mem.settleSync(items);
      }
      if (got.allowed) previous = slots[2];
      const reads = [makeSlot(reqA!, 'k', 0, now), makeSlot(tok!, 'k', 0, now)];
      expect(await store.read(reads)).toEqual(await mem.read(reads));
    }
    expect(refusals).toBeGreaterThan(5);
  });

  test('one event-loop turn of admissions is one script call, still exact', async () => {
    const N = 25;
    const [svc] = await replicas(1, [
      policy({ limits: [{ kind: 'requests', amount: N, window: { type: 'sliding', ms: HOUR } }] }),
    ]);
    const store = (svc as unknown as { shared: RedisStore }).shared;
    const before = store.calls;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => outcome(svc!.admit(req(i)))));
    expect(results.filter((r) => !(r instanceof GatewayError))).toHaveLength(N);
    expect(store.calls - before).toBe(1);
  });

  test('an admission at an idle moment is sent at once, not at the end of the event-loop turn', async () => {
    const [svc] = await replicas(1, [
      policy({ limits: [{ kind: 'requests', amount: 10, window: { type: 'sliding', ms: HOUR } }] }),
    ]);
    const store = (svc as unknown as { shared: RedisStore }).shared;
    const before = store.calls;
    let callsAtTurnEnd = -1;
    setImmediate(() => {
      callsAtTurnEnd = store.calls;
    });
    const admitted = outcome(svc!.admit(req(0)));
    expect(await admitted).not.toBeInstanceOf(GatewayError);
    expect(callsAtTurnEnd).toBe(before + 1);
  });

  test('replicas admitting over many turns (batches interleaving in Redis): exactly N', async () => {
    const N = 60;
    const reps = await replicas(4, [
      policy({
        limits: [
          { kind: 'requests', amount: N, window: { type: 'sliding', ms: HOUR } },
          { kind: 'tokens', amount: 1_000_000, window: { type: 'sliding', ms: HOUR } },
        ],
      }),
    ]);
    const results = await Promise.all(
      Array.from({ length: 240 }, async (_, i) => {
        for (let d = i % 7; d > 0; d--) await new Promise((r) => setImmediate(r));
        const t = await outcome(reps[i % 4]!.admit(req(i, 100)));
        if (!(t instanceof GatewayError)) await t.settle({ tokens: 40, costNano: 0 });
        return t;
      }),
    );
    expect(results.filter((r) => !(r instanceof GatewayError))).toHaveLength(N);
    const usage = await reps[0]!.usage('ai/shared');
    expect(usage.map((u) => u.used)).toEqual([N, N * 40]);
  });

  test('closing flushes settlements still waiting behind a call under way', async () => {
    const limits = [{ kind: 'tokens' as const, amount: 1_000_000, window: { type: 'sliding' as const, ms: HOUR } }];
    const [svc] = await replicas(1, [policy({ limits })]);
    const first = (await outcome(svc!.admit(req(0, 500)))) as QuotaTicket;
    const second = outcome(svc!.admit(req(1, 500))); // goes out at the end of this turn ...
    await new Promise((r) => setImmediate(r)); // ... and is under way now
    const settled = first.settle({ tokens: 100, costNano: 0 }); // waits behind it
    await svc!.close();
    expect(await second).not.toBeInstanceOf(GatewayError);
    await settled;
    const [reader] = await replicas(1, [policy({ limits })]);
    expect((await reader!.usage('ai/shared'))[0]!.used).toBe(500 + 100);
  });

  test('a counter in use never expires under a bucket that still counts (TTL set when a bucket is created)', async () => {
    // A 600 ms window (10 ms buckets, TTL 620 ms of real Redis time), admissions every ~70 ms for ~1.5 s:
    // the key lives far longer than one TTL, so only TTLs renewed as buckets are created keep it.
    let t = Date.now();
    const store = new RedisStore({ url: redis.url, timeoutMs: 2000 });
    expect(await store.ready(5000)).toBe(true);
    const svc = new QuotaService({ store, now: () => t });
    services.push(svc);
    svc.applyPolicies([
      policy({ limits: [{ kind: 'requests', amount: 1_000_000, window: { type: 'sliding', ms: 600 } }] }),
    ]);
    const times: number[] = [];
    for (let i = 0; i < 22; i++) {
      t = Date.now();
      times.push(t);
      expect(await outcome(svc.admit(req(i)))).not.toBeInstanceOf(GatewayError);
      await new Promise((r) => setTimeout(r, 70));
    }
    t = Date.now();
    const minField = Math.floor(t / 10) - 60;
    const expected = times.filter((x) => Math.floor(x / 10) >= minField).length;
    expect(expected).toBeGreaterThan(3);
    expect((await svc.usage('ai/shared'))[0]!.used).toBe(expected);
    const keys = await admin.keys('tollgate:quota:*');
    for (const k of keys) {
      const ttl = await admin.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(620);
    }
  });
});
