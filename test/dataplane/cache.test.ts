/**
 * The exact response cache on a real redis-server (ADR 0070): two in-process gateways on the same Redis (two
 * replicas), the official OpenAI SDK as the client, the simulated provider upstream. Chat answers go through
 * the canonical form (cache/replay.ts ANSWER_CODEC, as in the real processes); embeddings are the cache frame's
 * own. A replayed OpenAI usage always carries the token detail objects (zeros where the original had none), as
 * the live translators write it: usage is compared on the original's fields.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import type { RouteConfig } from '../../contract/gateway-config.js';
import { createAccounting } from '../../dataplane/src/accounting/hooks.js';
import type { ResponseCache } from '../../dataplane/src/cache/cache.js';
import { createResponseCache } from '../../dataplane/src/cache/create.js';
import { ANSWER_CODEC } from '../../dataplane/src/cache/replay.js';
import { FakeUpstream, openAiCompletion, openAiStream } from '../support/fake-upstream.js';
import { apiKey, gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';
import { type RedisServer, startRedis } from '../support/redis.js';

type Cache = NonNullable<RouteConfig['cache']>;
const EXACT: Cache = { mode: 'exact', ttlMs: 60_000, scope: 'namespace', includeTruncated: false };

let redis: RedisServer;
let up: FakeUpstream;
let r: Redis;
const replicas: { gw: TestGateway; cache: ResponseCache; metrics: () => string }[] = [];

function config() {
  const withCache = (rc: RouteConfig, cache: Cache): RouteConfig => ({ ...rc, cache });
  const c = gatewayConfig({
    providers: [
      {
        ...provider({ name: 'up', baseUrl: up.openaiBaseUrl }),
        models: [{ name: 'gpt-4o', pricing: { input: 2.5, output: 10 } }],
      } as ReturnType<typeof provider>,
      provider({ name: 'up', namespace: 'other', baseUrl: up.openaiBaseUrl }),
    ],
    routes: [
      withCache(route({ name: 'chat', models: ['gpt-4o'], backends: [{ provider: 'up' }] }), EXACT),
      withCache(route({ name: 'short', models: ['short-ttl'], backends: [{ provider: 'up' }] }), {
        ...EXACT,
        ttlMs: 300,
      }),
      withCache(route({ name: 'mine', models: ['per-key'], backends: [{ provider: 'up' }] }), {
        ...EXACT,
        scope: 'perKey',
      }),
      withCache(route({ name: 'emb', models: ['emb'], backends: [{ provider: 'up' }] }), EXACT),
      route({ name: 'plain', models: ['plain'], backends: [{ provider: 'up' }] }),
      withCache(route({ name: 'chat', namespace: 'other', models: ['gpt-4o'], backends: [{ provider: 'up' }] }), EXACT),
    ],
    apiKeys: [
      apiKey('ai/k1', 'sk-k1'),
      apiKey('ai/k2', 'sk-k2'),
      apiKey('other/k3', 'sk-k3'),
      apiKey('ai/kq', 'sk-kq'),
    ],
    requireKeys: true,
  });
  // Key kq: 3 requests a minute and 12 tokens an hour; one answer of the simulated upstream uses all 12.
  c.quotaPolicies.push({
    id: 'ai/tight',
    namespace: 'ai',
    name: 'tight',
    models: [],
    scope: 'perKey',
    limits: [
      { kind: 'requests', amount: 3, window: { type: 'sliding', ms: 60_000 } },
      { kind: 'tokens', amount: 12, window: { type: 'sliding', ms: 3_600_000 } },
    ],
    failureMode: 'closed',
    keys: ['ai/kq'],
    matchesAnonymous: false,
  });
  return c;
}

async function replica() {
  const hooks = await createAccounting({ accessLog: false, env: {} });
  const cache = createResponseCache({
    redisUrl: redis.url,
    onError: (op) => hooks.cacheError(op),
    codec: ANSWER_CODEC,
  });
  const gw = await startGateway(config(), { hooks, cache });
  const entry = { gw, cache, metrics: () => hooks.metricsText() };
  replicas.push(entry);
  return entry;
}

const client = (gw: TestGateway, key = 'sk-k1', headers: Record<string, string> = {}) =>
  new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: key, maxRetries: 0, defaultHeaders: headers });

const ask = (model: string, text: string) => ({ model, messages: [{ role: 'user' as const, content: text }] });

async function chat(gw: TestGateway, model: string, text: string, key?: string, headers?: Record<string, string>) {
  const { data, response } = await client(gw, key, headers).chat.completions.create(ask(model, text)).withResponse();
  return { data, cache: response.headers.get('x-tollgate-cache'), age: response.headers.get('age') };
}

beforeAll(async () => {
  redis = await startRedis();
  up = await FakeUpstream.start('up');
  r = new Redis(redis.url);
});

afterAll(async () => {
  for (const x of replicas) {
    await x.gw.close();
    await x.cache.store.close();
  }
  r.disconnect();
  await up.close();
  await redis.dispose();
});

beforeEach(async () => {
  up.reset();
  await r.flushall();
});

describe('exact cache on Redis', () => {
  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;
  beforeAll(async () => {
    a = await replica();
    b = await replica();
  });

  it('a miss on one replica is a hit on the other, with the same answer and no upstream call', async () => {
    up.enqueue({ kind: 'json', body: openAiCompletion('forty-two') });
    const first = await chat(a.gw, 'gpt-4o', 'the answer?');
    expect(first.cache).toBe('miss');
    expect(first.age).toBeNull();
    await waitForKeys(1);
    const second = await chat(b.gw, 'gpt-4o', 'the answer?');
    expect(second.cache).toBe('hit');
    expect(Number(second.age)).toBeGreaterThanOrEqual(0);
    expect(second.data.choices[0]?.message.content).toBe('forty-two');
    expect(second.data.usage).toMatchObject(first.data.usage ?? {});
    expect(up.requests).toHaveLength(1);
    expect(b.metrics()).toContain('tollgate_cache_requests_total{route="ai/chat",result="hit"} 1');
    expect(a.metrics()).toContain('tollgate_cache_requests_total{route="ai/chat",result="miss"} 1');
    // 5 input and 7 output tokens at $2.5 / $10 per 1M: what the hit saved.
    expect(b.metrics()).toMatch(/tollgate_cache_saved_usd_total\{route="ai\/chat"\} 0\.0000825\b/);
  });

  it('a streamed hit has the content and usage of the streamed original', async () => {
    up.enqueue({ kind: 'sse', chunks: openAiStream('one two three') });
    const read = async (gw: TestGateway) => {
      const { data, response } = await client(gw)
        .chat.completions.create({ ...ask('gpt-4o', 'count'), stream: true, stream_options: { include_usage: true } })
        .withResponse();
      let text = '';
      let usage: unknown;
      for await (const c of data) {
        text += c.choices[0]?.delta.content ?? '';
        if (c.usage) usage = c.usage;
      }
      return { text, usage, cache: response.headers.get('x-tollgate-cache') };
    };
    const first = await read(a.gw);
    expect(first).toMatchObject({ text: 'one two three', cache: 'miss' });
    await waitForKeys(1);
    const second = await read(b.gw);
    expect(second).toMatchObject({ text: first.text, cache: 'hit' });
    expect(second.usage).toMatchObject(first.usage as object);
    expect(second.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
    expect(up.requests).toHaveLength(1);
  });

  it('another namespace never hits', async () => {
    up.enqueue({ kind: 'json', body: openAiCompletion('ai says') }, { kind: 'json', body: openAiCompletion('other') });
    expect((await chat(a.gw, 'gpt-4o', 'same prompt')).cache).toBe('miss');
    await waitForKeys(1);
    const there = await chat(b.gw, 'gpt-4o', 'same prompt', 'sk-k3');
    expect(there.cache).toBe('miss');
    expect(there.data.choices[0]?.message.content).toBe('other');
    expect(up.requests).toHaveLength(2);
  });

  it('scope perKey keeps each key to its own entries; namespace scope shares them', async () => {
    expect((await chat(a.gw, 'per-key', 'p', 'sk-k1')).cache).toBe('miss');
    await waitForKeys(1);
    expect((await chat(b.gw, 'per-key', 'p', 'sk-k1')).cache).toBe('hit');
    expect((await chat(b.gw, 'per-key', 'p', 'sk-k2')).cache).toBe('miss');
    expect((await chat(a.gw, 'gpt-4o', 'shared', 'sk-k1')).cache).toBe('miss');
    await waitForKeys(3);
    expect((await chat(b.gw, 'gpt-4o', 'shared', 'sk-k2')).cache).toBe('hit');
    expect(up.requests).toHaveLength(3);
  });

  it('cache-control: no-store neither reads nor stores; no-cache skips the read and stores', async () => {
    const noStore = await chat(a.gw, 'gpt-4o', 'q', undefined, { 'cache-control': 'no-store' });
    expect(noStore.cache).toBe('bypass');
    expect(await r.keys('tollgate:cache:*')).toEqual([]);
    expect((await chat(a.gw, 'gpt-4o', 'q')).cache).toBe('miss');
    await waitForKeys(1);
    // no-cache: the lookup is skipped (the provider is asked), the answer is stored for the next request.
    expect((await chat(b.gw, 'gpt-4o', 'q2', undefined, { 'cache-control': 'no-cache' })).cache).toBe('bypass');
    await waitForKeys(2);
    expect((await chat(b.gw, 'gpt-4o', 'q2')).cache).toBe('hit');
    expect(up.requests).toHaveLength(3);
  });

  it('an entry expires with the route ttl (Redis TTL)', async () => {
    expect((await chat(a.gw, 'short-ttl', 't')).cache).toBe('miss');
    const [key] = await waitForKeys(1);
    expect(await r.pttl(key!)).toBeLessThanOrEqual(300);
    while ((await r.exists(key!)) === 1) await new Promise((res) => setImmediate(res));
    expect((await chat(b.gw, 'short-ttl', 't')).cache).toBe('miss');
    expect(up.requests).toHaveLength(2);
  });

  it('answers cut by max tokens are not stored', async () => {
    const cut = openAiCompletion('half');
    cut.choices[0]!.finish_reason = 'length';
    up.enqueue({ kind: 'json', body: cut });
    expect((await chat(a.gw, 'gpt-4o', 'long')).cache).toBe('miss');
    expect((await chat(a.gw, 'gpt-4o', 'long')).cache).toBe('miss');
    expect(up.requests).toHaveLength(2);
  });

  it('a hit counts one request against request limits and no tokens against token limits', async () => {
    up.enqueue({ kind: 'json', body: openAiCompletion('cheap') });
    const kq = client(a.gw, 'sk-kq');
    const once = () => kq.chat.completions.create({ ...ask('gpt-4o', 'quota'), max_tokens: 7 }).withResponse();
    expect((await once()).response.headers.get('x-tollgate-cache')).toBe('miss');
    await waitForKeys(1);
    // The token budget is spent: a request that counted against it would get 429; hits count as requests only.
    expect((await once()).response.headers.get('x-tollgate-cache')).toBe('hit');
    expect((await once()).response.headers.get('x-tollgate-cache')).toBe('hit');
    const fourth = await once().catch((e: unknown) => e);
    expect(fourth).toBeInstanceOf(OpenAI.RateLimitError);
    expect(up.requests).toHaveLength(1);
  });

  it('a route without a cache has no x-tollgate-cache header and stores nothing', async () => {
    const res = await chat(a.gw, 'plain', 'x');
    expect(res.cache).toBeNull();
    expect(await r.keys('tollgate:cache:*')).toEqual([]);
  });

  it('embeddings are cached per input item: only the items not cached go upstream, merged in order', async () => {
    const vec = (s: string) => [s.charCodeAt(0), s.length];
    const reply = (inputs: string[]) => ({
      kind: 'json' as const,
      body: {
        object: 'list',
        model: 'emb',
        data: inputs.map((s, index) => ({ object: 'embedding', index, embedding: vec(s) })),
        usage: { prompt_tokens: inputs.length * 2, total_tokens: inputs.length * 2 },
      },
    });
    const embed = async (gw: TestGateway, input: string[]) => {
      const { data, response } = await client(gw)
        .embeddings.create({ model: 'emb', input, encoding_format: 'float' })
        .withResponse();
      return {
        vectors: data.data.map((d) => d.embedding),
        tokens: data.usage.prompt_tokens,
        cache: response.headers.get('x-tollgate-cache'),
      };
    };
    up.enqueue(reply(['a', 'bb']));
    expect(await embed(a.gw, ['a', 'bb'])).toEqual({ vectors: [vec('a'), vec('bb')], tokens: 4, cache: 'miss' });
    await waitForKeys(2);
    up.enqueue(reply(['ccc']));
    expect(await embed(b.gw, ['bb', 'ccc'])).toEqual({ vectors: [vec('bb'), vec('ccc')], tokens: 4, cache: 'miss' });
    expect(up.requests.map((q) => (q.body as { input: unknown }).input)).toEqual([['a', 'bb'], ['ccc']]);
    await waitForKeys(3);
    expect(await embed(a.gw, ['ccc', 'a'])).toEqual({ vectors: [vec('ccc'), vec('a')], tokens: 4, cache: 'hit' });
    expect(up.requests).toHaveLength(2);
  });

  it('a Redis that stalls (SIGSTOP) is a miss after the read timeout, counted, and the request is served', async () => {
    const before = errorsOf(b.metrics());
    redis.signal('SIGSTOP');
    try {
      up.enqueue({ kind: 'json', body: openAiCompletion('served anyway') });
      const res = await chat(b.gw, 'gpt-4o', 'while stalled');
      expect(res.cache).toBe('miss');
      expect(res.data.choices[0]?.message.content).toBe('served anyway');
      expect(errorsOf(b.metrics())).toBeGreaterThan(before);
    } finally {
      redis.signal('SIGCONT');
    }
  });

  it('with Redis stopped, requests still succeed uncached and the failures are counted', async () => {
    await redis.stop();
    try {
      up.enqueue({ kind: 'json', body: openAiCompletion('still here') });
      const res = await chat(a.gw, 'gpt-4o', 'during the outage');
      expect(res.cache).toBe('miss');
      expect(res.data.choices[0]?.message.content).toBe('still here');
      expect(a.metrics()).toMatch(/tollgate_cache_errors_total\{op="get"\} [1-9]/);
    } finally {
      await redis.start();
    }
  });
});

function errorsOf(metrics: string): number {
  const m = /tollgate_cache_errors_total\{op="get"\} (\d+)/.exec(metrics);
  return m === null ? 0 : Number(m[1]);
}

describe('exact cache in process (no Redis)', () => {
  it('a miss then a hit, each replica with its own LRU', async () => {
    const hooks = await createAccounting({ accessLog: false, env: {} });
    const cache = createResponseCache({ onError: (op) => hooks.cacheError(op), codec: ANSWER_CODEC, env: {} });
    const gw = await startGateway(config(), { hooks, cache });
    replicas.push({ gw, cache, metrics: () => hooks.metricsText() });
    up.enqueue({ kind: 'json', body: openAiCompletion('local') });
    expect((await chat(gw, 'gpt-4o', 'in process')).cache).toBe('miss');
    const hit = await chat(gw, 'gpt-4o', 'in process');
    expect(hit).toMatchObject({ cache: 'hit', age: '0' });
    expect(hit.data.choices[0]?.message.content).toBe('local');
    expect(up.requests).toHaveLength(1);
    expect(await r.keys('tollgate:cache:*')).toEqual([]);
  });
});

/** The cache keys in Redis once there are `n` of them (stores are fire and forget). */
async function waitForKeys(n: number): Promise<string[]> {
  for (;;) {
    const keys = await r.keys('tollgate:cache:*');
    if (keys.length >= n) return keys;
    await new Promise((res) => setImmediate(res));
  }
}
