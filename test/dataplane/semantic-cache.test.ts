import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import type { GatewayConfig, RouteConfig } from '../../contract/gateway-config.js';
import { CACHE_KEY_PREFIX, SEMANTIC_KEY_PREFIX } from '../../contract/shared-state.js';
import { AccountingHooks } from '../../dataplane/src/accounting/hooks.js';
import type { ResponseCache } from '../../dataplane/src/cache/cache.js';
import { openResponseCache } from '../../dataplane/src/cache/create.js';
import { createLogger } from '../../dataplane/src/log.js';
import type { AccessRecord } from '../../dataplane/src/telemetry/access-log.js';
import { EMBEDDING_DIMS, EmbeddingsUpstream } from '../support/embeddings-upstream.js';
import { FakeUpstream, openAiCompletion } from '../support/fake-upstream.js';
import { apiKey, gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';
import type { RedisServer } from '../support/redis.js';
import { startRedis8 } from '../support/redis8.js';

const _DIMS = EMBEDDING_DIMS;
const EMBED = 'text-embedding-3-small';
/** An embedding model whose provider answers 503. */
const BROKEN = 'broken-embed';
const logger = createLogger({ level: 'error' });

type Cache = NonNullable<RouteConfig['cache']>;
const SEMANTIC: Cache = {
  mode: 'semantic',
  ttlMs: 60_000,
  scope: 'namespace',
  includeTruncated: false,
  semantic: { embeddingModel: EMBED, threshold: 0.9 },
};
const KEYS = { a: 'sk-a-111', b: 'sk-b-222', other: 'sk-o-333' };

let redis8: RedisServer;
let up: FakeUpstream;
let emb: EmbeddingsUpstream;
let r: Redis;

interface Replica {
  gw: TestGateway;
  cache: ResponseCache;
  hooks: AccountingHooks;
  access: AccessRecord[];
}
const replicas: Replica[] = [];

function config(): GatewayConfig {
  const withCache = (rc: RouteConfig, cache: Cache): RouteConfig => ({ ...rc, cache });
  const chat = (name: string, models: string[], cache: Cache, namespace?: string) =>
    withCache(route({ name, namespace, models, backends: [{ provider: 'up' }] }), cache);
  return gatewayConfig({
    providers: [
      provider({ name: 'up', baseUrl: up.openaiBaseUrl }),
      provider({ name: 'up', namespace: 'other', baseUrl: up.openaiBaseUrl }),
      provider({ name: 'emb', baseUrl: emb.baseUrl }),
      provider({ name: 'emb', namespace: 'other', baseUrl: emb.baseUrl }),
    ],
    routes: [
      chat('chat', ['gpt-4o'], SEMANTIC),
      chat('mine', ['per-key'], { ...SEMANTIC, scope: 'perKey' }),
      chat('agent', ['agent'], { ...SEMANTIC, semantic: { ...SEMANTIC.semantic!, includeAgentSteps: true } }),
      chat('fragile', ['fragile'], { ...SEMANTIC, semantic: { embeddingModel: BROKEN, threshold: 0.9 } }),
      chat('chat', ['gpt-4o'], SEMANTIC, 'other'),
      route({ name: 'embed', models: [EMBED], backends: [{ provider: 'emb' }] }),
      route({ name: 'broken', models: [BROKEN], backends: [{ provider: 'emb' }], attempts: 1 }),
      route({ name: 'embed', namespace: 'other', models: [EMBED], backends: [{ provider: 'emb' }] }),
    ],
    apiKeys: [apiKey('ai/a', KEYS.a), apiKey('ai/b', KEYS.b), apiKey('other/other', KEYS.other)],
    requireKeys: true,
  });
}

async function replica(): Promise<Replica> {
  const access: AccessRecord[] = [];
  const hooks = new AccountingHooks({ accessLog: (rec) => access.push(rec) });
  let origin: string | undefined;
  const cache = openResponseCache({
    redisUrl: redis8.url,
    onError: (op) => hooks.cacheError(op),
    logger,
    origin: () => origin,
  });
  const gw = await startGateway(config(), { hooks, cache });
  origin = gw.url;
  const rep = { gw, cache, hooks, access };
  replicas.push(rep);
  return rep;
}

const openai = (gw: TestGateway, key = KEYS.a) => new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: key, maxRetries: 0 });

async function chat(
  gw: TestGateway,
  text: string,
  o: { model?: string; key?: string; tools?: OpenAI.Chat.Completions.ChatCompletionTool[] } = {},
) {
  const body = { model: o.model ?? 'gpt-4o', messages: [{ role: 'user' as const, content: text }] };
  const req = o.tools === undefined ? body : { ...body, tools: o.tools };
  const { data, response } = await openai(gw, o.key).chat.completions.create(req).withResponse();
  return {
    text: data.choices[0]?.message.content,
    status: response.status,
    cache: response.headers.get('x-tollgate-cache'),
  };
}

/** Polls `check` until it holds (bounded: fails after `ms`). */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Prompts in the shared index (all fingerprints' expiry sets). */
async function indexed(): Promise<number> {
  const sets = await r.keys(`${SEMANTIC_KEY_PREFIX}*:exp`);
  let n = 0;
  for (const k of sets) n += await r.zcard(k);
  return n;
}

/** Waits until n answers are stored and `prompts` (default n) indexed (both writes are fire and forget). */
async function stored(n: number, prompts = n): Promise<void> {
  await until(`${n} cache entries`, async () => (await r.keys(`${CACHE_KEY_PREFIX}*`)).length >= n);
  await until(`${prompts} indexed prompts`, async () => (await indexed()) >= prompts);
}

/** The value of one metric line (0 when absent). */
function metric(rep: Replica, line: string): number {
  const text = rep.hooks.metricsText();
  const at = text.split('\n').find((l) => l.startsWith(`${line} `));
  return at === undefined ? 0 : Number(at.slice(line.length + 1));
}
const cacheCount = (rep: Replica, result: string, route = 'ai/chat') =>
  metric(rep, `tollgate_cache_requests_total{route="${route}",result="${result}"}`);
const embedCount = (rep: Replica) =>
  metric(rep, `tollgate_requests_total{route="ai/embed",backend="emb/${EMBED}",code="200"}`);

const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: {} } } },
];

let g1: Replica;
let g2: Replica;

beforeAll(async () => {
  redis8 = await startRedis8();
  up = await FakeUpstream.start('up');
  emb = await EmbeddingsUpstream.start([BROKEN]);
  r = new Redis(redis8.url);
  g1 = await replica();
  g2 = await replica();
});

afterAll(async () => {
  for (const x of replicas) {
    await x.gw.close();
    await x.cache.close();
    await x.hooks.close();
  }
  r?.disconnect();
  await up?.close();
  await emb?.close();
  await redis8?.dispose();
});

beforeEach(async () => {
  up.reset();
  emb.requests.length = 0;
  await r.flushall();
});

describe('semantic cache across two gateways on Redis 8', () => {
  it('a paraphrase on the other replica is a hit, with no chat call upstream and its similarity logged', async () => {
    const miss0 = cacheCount(g1, 'miss');
    const hit0 = cacheCount(g2, 'hit');
    const emb1 = embedCount(g1);
    const emb2 = embedCount(g2);
    // The index is opened by the first semantic lookup (a process without semantic routes never probes Redis).
    expect(g1.cache.semantic).toBeUndefined();
    up.enqueue({ kind: 'json', body: openAiCompletion('Paris.') });
    const first = await chat(g1.gw, 'What is the capital city of France?');
    expect(g1.cache.semantic?.index.constructor.name).toBe('RedisVectorIndex');
    expect(first).toMatchObject({ status: 200, cache: 'miss', text: 'Paris.' });
    await stored(1);

    const n = g2.access.length;
    const second = await chat(g2.gw, 'what is the capital city of france, please');
    expect(second).toMatchObject({ status: 200, cache: 'hit', text: 'Paris.' });
    expect(up.requests).toHaveLength(1);
    // Each gateway embedded its prompt once, through its embedding route.
    expect(emb.requests.map((q) => q.body.model)).toEqual([EMBED, EMBED]);
    await until('the hit in the access log', () => g2.access.slice(n).some((a) => a.route === 'ai/chat'));
    const line = g2.access.slice(n).find((a) => a.route === 'ai/chat')!;
    expect(line.cache).toBe('hit');
    expect(line.cache_similarity).toBeGreaterThanOrEqual(0.9);
    expect(line.cache_similarity).toBeLessThan(1);

    expect(cacheCount(g1, 'miss')).toBe(miss0 + 1);
    expect(cacheCount(g2, 'hit')).toBe(hit0 + 1);
    // The embedding request is a request of the embeddings route, counted like any other.
    await until('the embedding requests counted', () => embedCount(g1) === emb1 + 1 && embedCount(g2) === emb2 + 1);
    const embedLine = g2.access.slice(n).find((a) => a.route === 'ai/embed');
    expect(embedLine).toMatchObject({ route: 'ai/embed', key: 'ai/a', status: 200 });
  });

  it('the Anthropic SDK: a paraphrase on the other replica is a hit', async () => {
    const anthropic = (gw: TestGateway) => new Anthropic({ baseURL: gw.url, apiKey: KEYS.a, maxRetries: 0 });
    const ask = (gw: TestGateway, text: string) =>
      anthropic(gw)
        .messages.create({ model: 'gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: text }] })
        .withResponse();
    up.enqueue({ kind: 'json', body: openAiCompletion('Blue, mostly.') });
    const first = await ask(g1.gw, 'What colour is the sky on a clear day?');
    expect(first.response.headers.get('x-tollgate-cache')).toBe('miss');
    await stored(1);
    const second = await ask(g2.gw, 'what colour is the sky on a clear day, usually');
    expect(second.response.headers.get('x-tollgate-cache')).toBe('hit');
    expect(second.data.content).toEqual(first.data.content);
    expect(up.requests).toHaveLength(1);
  });

  it('cache-control: no-cache skips the semantic lookup (the request goes upstream) but still stores', async () => {
    up.enqueue({ kind: 'json', body: openAiCompletion('Paris.') }, { kind: 'json', body: openAiCompletion('Lyon?') });
    expect((await chat(g1.gw, 'What is the capital city of France?')).cache).toBe('miss');
    await stored(1);
    const embedded = emb.requests.length;
    const { data, response } = await openai(g2.gw)
      .chat.completions.create(
        { model: 'gpt-4o', messages: [{ role: 'user', content: 'what is the capital city of france, please' }] },
        { headers: { 'cache-control': 'no-cache' } },
      )
      .withResponse();
    expect(response.headers.get('x-tollgate-cache')).toBe('bypass');
    expect(data.choices[0]?.message.content).toBe('Lyon?');
    expect(up.requests).toHaveLength(2);
    // Stored for later requests: its own entry, and its prompt embedded once (for the index, not for a lookup).
    await stored(2);
    expect(emb.requests.length).toBe(embedded + 1);
  });

  it('an unrelated prompt is a miss', async () => {
    up.enqueue({ kind: 'json', body: openAiCompletion('Paris.') }, { kind: 'json', body: openAiCompletion('Owls.') });
    expect((await chat(g1.gw, 'What is the capital city of France?')).cache).toBe('miss');
    await stored(1);
    const other = await chat(g2.gw, 'Name three birds that hunt at night');
    expect(other).toMatchObject({ cache: 'miss', text: 'Owls.' });
    expect(up.requests).toHaveLength(2);
  });

  it("another namespace's key misses; under perKey, key B misses key A's entry and key A hits", async () => {
    up.enqueue(
      { kind: 'json', body: openAiCompletion('Paris.') },
      { kind: 'json', body: openAiCompletion('Paris, other.') },
    );
    expect((await chat(g1.gw, 'What is the capital city of France?')).cache).toBe('miss');
    await stored(1);
    const there = await chat(g2.gw, 'what is the capital city of france, please', { key: KEYS.other });
    expect(there).toMatchObject({ cache: 'miss', text: 'Paris, other.' });
    expect(up.requests).toHaveLength(2);

    up.reset();
    up.enqueue({ kind: 'json', body: openAiCompletion('A.') }, { kind: 'json', body: openAiCompletion('B.') });
    expect((await chat(g1.gw, 'What is the capital city of Spain?', { model: 'per-key' })).cache).toBe('miss');
    await stored(3);
    const b = await chat(g2.gw, 'what is the capital city of spain, please', { model: 'per-key', key: KEYS.b });
    expect(b).toMatchObject({ cache: 'miss', text: 'B.' });
    const a = await chat(g2.gw, 'what is the capital city of spain, please', { model: 'per-key' });
    expect(a).toMatchObject({ cache: 'hit', text: 'A.' });
    expect(up.requests).toHaveLength(2);
  });

  it('a request with tools goes upstream without an embedding, unless the route includes agent steps', async () => {
    up.enqueue({ kind: 'json', body: openAiCompletion('Sunny.') }, { kind: 'json', body: openAiCompletion('Rain.') });
    const plain = await chat(g1.gw, 'what is the weather in Paris today', { tools: TOOLS });
    expect(plain).toMatchObject({ status: 200, text: 'Sunny.' });
    expect(up.requests).toHaveLength(1);
    expect(emb.requests).toHaveLength(0);

    const agent = await chat(g1.gw, 'what is the weather in Paris today', { model: 'agent', tools: TOOLS });
    expect(agent).toMatchObject({ status: 200, cache: 'miss', text: 'Rain.' });
    expect(emb.requests).toHaveLength(1);
    // Both answers are stored under their exact keys; only the agent route's prompt is indexed.
    await stored(2, 1);
    expect(await indexed()).toBe(1);
    const again = await chat(g2.gw, 'what is the weather in Paris today, please', { model: 'agent', tools: TOOLS });
    expect(again).toMatchObject({ cache: 'hit', text: 'Rain.' });
    expect(up.requests).toHaveLength(2);
  });

  it('a failing embedding route (503) still answers the chat (a miss)', async () => {
    up.enqueue({ kind: 'json', body: openAiCompletion('Fine.') });
    const res = await chat(g1.gw, 'How are you today?', { model: 'fragile' });
    expect(res).toMatchObject({ status: 200, cache: 'miss', text: 'Fine.' });
    expect(emb.requests.map((q) => q.body.model)).toEqual([BROKEN]);
    expect(up.requests).toHaveLength(1);
  });

  it('with Redis 8 stopped, answers are still 200 (misses); back up, a paraphrase hits again', async () => {
    await redis8.stop();
    try {
      up.enqueue({ kind: 'json', body: openAiCompletion('One.') }, { kind: 'json', body: openAiCompletion('Two.') });
      expect(await chat(g1.gw, 'What is the capital city of Italy?')).toMatchObject({ status: 200, cache: 'miss' });
      const again = await chat(g2.gw, 'what is the capital city of italy, please');
      expect(again).toMatchObject({ status: 200, cache: 'miss', text: 'Two.' });
      expect(up.requests).toHaveLength(2);
      // The embeddings still went through the embedding route; only the index and the store were away.
      expect(emb.requests).toHaveLength(2);
    } finally {
      await redis8.start();
    }
    // Each replica's store and index reconnect (ioredis backs off up to 2 s), and the test's own client.
    await until(
      '5 clients on Redis',
      async () =>
        String(await r.client('LIST'))
          .trim()
          .split('\n').length >= 5,
      15_000,
    );
    up.reset();
    up.enqueue({ kind: 'json', body: openAiCompletion('Rome.') });
    expect((await chat(g1.gw, 'What is the capital city of Italy?')).cache).toBe('miss');
    await stored(1);
    expect(await chat(g2.gw, 'what is the capital city of italy, please')).toMatchObject({
      cache: 'hit',
      text: 'Rome.',
    });
    expect(up.requests).toHaveLength(1);
  });
});
