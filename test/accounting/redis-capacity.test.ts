/**
 * Provider capacity shared by two `tollgate run` processes on one real redis-server (ADR 0063): a provider token
 * limit is never exceeded across both, and every request beyond it is answered by the fallback tier (no 429
 * while the fallback has capacity). Both official SDKs over real HTTP. Needs `npm run build` (bin/tollgate
 * runs dist/).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import type { ProviderConfig } from '../../contract/gateway-config.js';
import { CAPACITY_KEY_PREFIX, capacityCounterOwner, windowTotal } from '../../contract/shared-state.js';
import { CapacityService } from '../../dataplane/src/accounting/capacity/service.js';
import { RedisStore } from '../../dataplane/src/accounting/quota/redis-store.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { startTollgateRun, type TollgateRun } from '../support/tollgate-process.js';

jest.setTimeout(90_000);

/** Tokens per hour the primary's account allows; each answer of the fake upstream uses 12 (5 in, 7 out). */
const LIMIT = 600;
const PER_ANSWER = 12;
const REQUESTS = 90;

function config(primary: string, fallback: string): string {
  return `apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: primary, namespace: ai }
spec:
  type: openai-compatible
  endpoint: "${primary}"
  limits: [{ tokens: ${LIMIT}, per: 1h }]
---
apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: fallback, namespace: ai }
spec: { type: openai-compatible, endpoint: "${fallback}" }
---
apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: chat, namespace: ai }
spec:
  models: ["gpt-4o"]
  backends: [{ provider: primary, priority: 0 }, { provider: fallback, priority: 1 }]
`;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('provider capacity across two gateway processes (real redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let primary: FakeUpstream;
  let fallback: FakeUpstream;
  let dir: string;
  const runs: TollgateRun[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    primary = await FakeUpstream.start('primary');
    fallback = await FakeUpstream.start('fallback');
    dir = mkdtempSync(join(tmpdir(), 'tollgate-capacity-'));
    writeFileSync(join(dir, 'gateway.yaml'), config(primary.openaiBaseUrl, fallback.openaiBaseUrl));
    for (let i = 0; i < 2; i++) runs.push(await startTollgateRun(dir, ['--redis', redis.url]));
  });
  afterAll(async () => {
    for (const r of runs) {
      if (r.child.exitCode === null) r.child.kill('SIGTERM');
      await r.exited;
    }
    admin?.disconnect();
    await redis?.dispose();
    await primary?.close();
    await fallback?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the token limit holds across both; every request beyond it is served by the fallback', async () => {
    const clients = runs.flatMap((r) => [
      new OpenAI({ baseURL: `http://127.0.0.1:${r.port}/v1`, apiKey: 'unused', maxRetries: 0 }),
      new Anthropic({ baseURL: `http://127.0.0.1:${r.port}`, apiKey: 'unused', maxRetries: 0 }),
    ]);
    const one = async (i: number): Promise<string | null> => {
      const c = clients[i % clients.length]!;
      const messages = [{ role: 'user' as const, content: `question ${i}` }];
      if (c instanceof OpenAI) {
        const r = await c.chat.completions.create({ model: 'gpt-4o', max_tokens: 40, messages }).withResponse();
        return r.response.headers.get('x-tollgate-backend');
      }
      const r = await c.messages.create({ model: 'gpt-4o', max_tokens: 40, messages }).withResponse();
      return r.response.headers.get('x-tollgate-backend');
    };
    const served: (string | null)[] = [];
    // Waves of 10 concurrent requests, spread over both processes and both SDKs.
    for (let w = 0; w < REQUESTS; w += 10)
      served.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => one(w + j)))));
    // No 429 reached a client (an error would have thrown), every answer came from one of the two tiers.
    const toPrimary = served.filter((b) => b === 'primary/gpt-4o').length;
    const toFallback = served.filter((b) => b === 'fallback/gpt-4o').length;
    expect(toPrimary + toFallback).toBe(REQUESTS);
    expect(primary.requests).toHaveLength(toPrimary);
    expect(fallback.requests).toHaveLength(toFallback);
    // The primary served what its limit allows and never more: both processes counted in one place.
    expect(toPrimary * PER_ANSWER).toBeLessThanOrEqual(LIMIT);
    expect(toPrimary).toBeGreaterThan(LIMIT / PER_ANSWER / 2);
    expect(toFallback).toBeGreaterThanOrEqual(REQUESTS - LIMIT / PER_ANSWER);
    // The shared counter (hash-tagged by provider) settles to the real tokens the primary used.
    const key = `${CAPACITY_KEY_PREFIX}${capacityCounterOwner('ai/primary')}|tokens|3600000ms|*`;
    expect(key).toBe('tollgate:capacity:v1:{ai/primary}|tokens|3600000ms|*');
    const total = await until('settled counter', async () => {
      const t = windowTotal(await admin.hgetall(key), 0);
      return t === toPrimary * PER_ANSWER ? t : undefined;
    });
    expect(total).toBeLessThanOrEqual(LIMIT);
    // Both processes skipped the primary at some point, and said so in their access logs.
    for (const r of runs) expect(r.stdout()).toContain('"skipped":"primary/gpt-4o:capacity"');
  });

  test('Redis unreachable: capacity counts in process (failure mode open), the limit still holds per replica', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const s = new CapacityService({
      store: new RedisStore({ url: `redis://127.0.0.1:${port}`, timeoutMs: 200, keyPrefix: CAPACITY_KEY_PREFIX }),
    });
    const p = {
      id: 'ai/p',
      namespace: 'ai',
      name: 'p',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:1/v1',
      models: [],
      connectTimeoutMs: 1000,
      requestTimeoutMs: 1000,
      limits: [{ kind: 'requests', amount: 2, window: { type: 'sliding', ms: 60_000 } }],
    } as ProviderConfig;
    s.apply([p]);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await s.admit(p, 'gpt-4o', 10, Date.now()));
    expect(answers.map((a) => ('reason' in a ? a.reason : 'admitted'))).toEqual(['admitted', 'admitted', 'capacity']);
    await s.close();
  });
});
