/**
 * Chaos: Redis stalls (issue 17, item 5). A real redis-server is frozen with SIGSTOP while requests are
 * admitted, then thawed with SIGCONT. The store gives up on each call after its timeout and the service
 * fails open; when Redis wakes it still has those calls queued. Their admissions must not count: after
 * the stall the shared counter equals what was admitted through Redis, not that plus every abandoned try.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisStore } from '../../dataplane/src/accounting/quota/redis-store.js';
import { QuotaService, type QuotaTicket } from '../../dataplane/src/accounting/quota/service.js';
import { GatewayError } from '../../dataplane/src/errors.js';
import { outcome, quotaPolicy } from '../support/quota.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const HOUR = 3_600_000;
let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin.disconnect();
  await redis.dispose();
});

it('admissions abandoned during a 1.5 s SIGSTOP are never counted when Redis wakes', async () => {
  const store = new RedisStore({ url: redis.url, timeoutMs: 250 });
  expect(await store.ready(5000)).toBe(true);
  const svc = new QuotaService({ store });
  svc.applyPolicies([
    quotaPolicy({
      keys: ['ai/k1'],
      limits: [{ kind: 'requests', amount: 1000, window: { type: 'sliding', ms: HOUR } }],
    }),
  ]);
  const admit = () => outcome(svc.admit({ keyId: 'ai/k1', model: 'gpt-4o', reserveTokens: 0, reserveCostNano: 0 }));
  try {
    for (let i = 0; i < 20; i++) expect(((await admit()) as QuotaTicket).store).toBe('redis');

    redis.signal('SIGSTOP');
    const stalledAt = performance.now();
    let during: Array<QuotaTicket | GatewayError>;
    try {
      // Three waves, so that several script calls (not one batch) are left queued in the frozen server.
      during = [];
      for (let w = 0; w < 3; w++) during.push(...(await Promise.all(Array.from({ length: 20 }, admit))));
      // Frozen for at least 1.5 s in all, so the last calls' deadlines pass too before it wakes.
      while (performance.now() - stalledAt < 1500) during.push(await admit());
    } finally {
      redis.signal('SIGCONT');
    }
    // failureMode open: every request was let through, on the local fallback.
    expect(during.every((t) => !(t instanceof GatewayError) && t.store === 'memory')).toBe(true);
    // Redis answers in order: once this PING is answered, every call queued before it has run.
    expect(await admin.ping()).toBe('PONG');
    // Two admissions through Redis again; a refund of a late answer would ride along with the first.
    expect(((await admit()) as QuotaTicket).store).toBe('redis');
    expect(((await admit()) as QuotaTicket).store).toBe('redis');
    const [usage] = await svc.usage('ai/shared');
    expect(usage!.used).toBe(22);
  } finally {
    await svc.close();
  }
}, 30_000);
