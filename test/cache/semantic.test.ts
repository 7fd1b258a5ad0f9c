/**
 * The semantic cache's parts on real servers (ADR 0076, 0077): Redis 8 vector sets (Debian trixie's
 * redis-server in a chroot, test/support/redis8.ts) shared by two "replicas" (two index instances on their
 * own connections), and the prompt embedding sent through a real gateway to a route of the request's
 * namespace, served by a fake embeddings upstream whose vectors are a deterministic function of the words
 * (bag of words hashed into 256 dimensions), so a paraphrase is close and an unrelated prompt is not.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import { GatewayConfigSchema } from '../../contract/gateway-config.js';
import { semanticIndexKeys } from '../../contract/shared-state.js';
import { AccountingHooks } from '../../dataplane/src/accounting/hooks.js';
import {
  openSemanticCache,
  SemanticCache,
  type SemanticRequest,
  type SemanticSettings,
} from '../../dataplane/src/cache/semantic.js';
import { PromptEmbedder } from '../../dataplane/src/cache/semantic-embed.js';
import { MemoryIndex } from '../../dataplane/src/cache/semantic-index.js';
import { cosine } from '../../dataplane/src/cache/semantic-prompt.js';
import { openSemanticIndex, RedisVectorIndex } from '../../dataplane/src/cache/semantic-redis.js';
import { createLogger } from '../../dataplane/src/log.js';
import type { AccessRecord } from '../../dataplane/src/telemetry/access-log.js';
import { bagOfWords, EMBEDDING_DIMS, EmbeddingsUpstream } from '../support/embeddings-upstream.js';
import { apiKey, gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { startRedis8 } from '../support/redis8.js';

const DIMS = EMBEDDING_DIMS;
const logger = createLogger({ level: 'error' });

const NS_SETTINGS: SemanticSettings = {
  scope: 'namespace',
  semantic: { embeddingModel: 'text-embedding-3-small', threshold: 0.85 },
};
const PER_KEY: SemanticSettings = { ...NS_SETTINGS, scope: 'perKey' };

const KEYS = { a: 'sk-a-111', b: 'sk-b-222', other: 'sk-o-333', limited: 'sk-l-444' };

/** A chat request as the cache stage sees it (a RoutedExchange has these fields). */
function chat(key: keyof typeof KEYS, text: string, over: Partial<SemanticRequest> = {}): SemanticRequest {
  const ns = key === 'other' ? 'other' : 'ai';
  return {
    req: { headers: { authorization: `Bearer ${KEYS[key]}`, 'content-type': 'application/json' } } as IncomingMessage,
    clientFormat: 'openai',
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: text }] },
    model: 'gpt-4o',
    key: { id: `${ns}/${key}`, namespace: ns, hash: 'sha256:unused', labels: {} },
    route: { id: `${ns}/chat`, namespace: ns },
    ...over,
  };
}

let redis8: RedisServer;
let up: EmbeddingsUpstream;
let gw: TestGateway;
let acc: AccountingHooks;
const access: AccessRecord[] = [];
let embedder: PromptEmbedder;

beforeAll(async () => {
  redis8 = await startRedis8();
  up = await EmbeddingsUpstream.start();
  const base = gatewayConfig({
    providers: [
      provider({ name: 'emb', baseUrl: up.baseUrl }),
      provider({ name: 'emb', namespace: 'other', baseUrl: up.baseUrl }),
    ],
    routes: [
      route({ name: 'embed', models: ['text-embedding-3-small'], backends: [{ provider: 'emb' }] }),
      route({ name: 'embed', namespace: 'other', models: ['text-embedding-3-small'], backends: [{ provider: 'emb' }] }),
    ],
    apiKeys: [
      apiKey('ai/a', KEYS.a),
      apiKey('ai/b', KEYS.b),
      apiKey('other/other', KEYS.other),
      apiKey('ai/limited', KEYS.limited, { tier: 'limited' }),
    ],
    requireKeys: true,
  });
  // One request a minute for ai/limited: the embedding is admitted against the key's quota like any request.
  const cfg = GatewayConfigSchema.parse({
    ...base,
    quotaPolicies: [
      {
        id: 'ai/one-a-minute',
        namespace: 'ai',
        name: 'one-a-minute',
        models: [],
        scope: 'perKey',
        limits: [{ kind: 'requests', amount: 1, window: { type: 'sliding', ms: 60_000 } }],
        failureMode: 'closed',
        keys: ['ai/limited'],
        matchesAnonymous: false,
      },
    ],
  });
  acc = new AccountingHooks({ accessLog: (r) => access.push(r) });
  gw = await startGateway(cfg, { hooks: acc });
  embedder = new PromptEmbedder({ origin: () => gw.url, logger });
});

afterAll(async () => {
  await embedder?.close();
  await gw?.close();
  await acc?.close();
  await up?.close();
  await redis8?.dispose();
});

/** Two replicas' caches on the one Redis 8 (own connections, own embedders on the one gateway). */
function replica(): { cache: SemanticCache; index: RedisVectorIndex; conn: Redis } {
  const conn = new Redis(redis8.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  conn.on('error', () => {});
  const index = new RedisVectorIndex(conn, { timeoutMs: 500 });
  return { cache: new SemanticCache(index, new PromptEmbedder({ origin: () => gw.url, logger })), index, conn };
}

async function ready(conn: Redis): Promise<void> {
  if (conn.status === 'ready') return;
  await new Promise<void>((resolve) => conn.once('ready', () => resolve()));
}

describe('embedPrompt: through a route of the namespace, as the client', () => {
  test('the vector is the upstream embedding of the prompt text, at unit length', async () => {
    const cache = new SemanticCache(new MemoryIndex(), embedder);
    const before = up.requests.length;
    const v = await cache.embedPrompt(chat('a', 'What is the capital of France?'), NS_SETTINGS);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v!.length).toBe(DIMS);
    const want = Float32Array.from(bagOfWords('user: What is the capital of France?'));
    expect(cosine(v!, want)).toBeCloseTo(1, 5);
    expect(Math.hypot(...v!)).toBeCloseTo(1, 5);
    // One upstream call, with the provider's credential (not the client's key) and the embedding model.
    expect(up.requests.length).toBe(before + 1);
    const sent = up.requests[up.requests.length - 1]!;
    expect(sent.body).toEqual({
      model: 'text-embedding-3-small',
      input: 'user: What is the capital of France?',
      encoding_format: 'float',
    });
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-test');
  });

  test('it is metered and counted as a request of the embedding route, under the client key', async () => {
    const cache = new SemanticCache(new MemoryIndex(), embedder);
    const n = access.length;
    await cache.embedPrompt(chat('b', 'count me'), NS_SETTINGS);
    // The access log line is written when the request finishes; wait for it (the answer may come first).
    for (let i = 0; i < 200 && access.length === n; i++) await new Promise((r) => setImmediate(r));
    const rec = access.slice(n).find((r) => r.route === 'ai/embed');
    expect(rec).toMatchObject({ route: 'ai/embed', key: 'ai/b', status: 200 });
    const metrics = await (await fetch(gw.metricsUrl)).text();
    expect(metrics).toMatch(
      /tollgate_requests_total\{route="ai\/embed",backend="emb\/text-embedding-3-small",code="200"\} \d+/,
    );
  });

  test("it is admitted against the key's quota: over it, no vector (the request would go upstream uncached)", async () => {
    const cache = new SemanticCache(new MemoryIndex(), embedder);
    const first = await cache.embedPrompt(chat('limited', 'first'), NS_SETTINGS);
    expect(first).toBeInstanceOf(Float32Array);
    const before = up.requests.length;
    const fails = embedder.failures;
    expect(await cache.embedPrompt(chat('limited', 'second'), NS_SETTINGS)).toBeUndefined();
    expect(up.requests.length).toBe(before);
    expect(embedder.failures).toBe(fails + 1);
  });

  test('failures are undefined, never a throw: bad key, no embedding route, no origin yet', async () => {
    const cache = new SemanticCache(new MemoryIndex(), embedder);
    const badKey = chat('a', 'q', { req: { headers: { authorization: 'Bearer nope' } } as IncomingMessage });
    expect(await cache.embedPrompt(badKey, NS_SETTINGS)).toBeUndefined();
    const noRoute: SemanticSettings = { ...NS_SETTINGS, semantic: { embeddingModel: 'not-served', threshold: 0.9 } };
    expect(await cache.embedPrompt(chat('a', 'q'), noRoute)).toBeUndefined();
    const early = new SemanticCache(new MemoryIndex(), new PromptEmbedder({ origin: () => undefined, logger }));
    expect(await early.embedPrompt(chat('a', 'q'), NS_SETTINGS)).toBeUndefined();
  });

  test('agent steps (tools) are not embedded unless the route opts in', async () => {
    const cache = new SemanticCache(new MemoryIndex(), embedder);
    const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
    const x = chat('a', 'weather in Paris', {
      body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'weather in Paris' }], tools },
    });
    const before = up.requests.length;
    expect(await cache.lookup(x, NS_SETTINGS)).toBeUndefined();
    expect(up.requests.length).toBe(before);
    const optIn: SemanticSettings = { ...NS_SETTINGS, semantic: { ...NS_SETTINGS.semantic!, includeAgentSteps: true } };
    expect(await cache.lookup(x, optIn)).toMatchObject({ match: undefined });
    expect(up.requests.length).toBe(before + 1);
  });
});

describe('Redis 8 vector sets shared by two replicas', () => {
  test('a paraphrase stored by one replica hits on the other; an unrelated prompt misses', async () => {
    const r1 = replica();
    const r2 = replica();
    await Promise.all([ready(r1.conn), ready(r2.conn)]);
    const stored = await r1.cache.lookup(chat('a', 'What is the capital city of France?'), NS_SETTINGS);
    expect(stored).toBeDefined();
    expect(stored!.match).toBeUndefined();
    r1.cache.remember(stored!, 'exact-key-1', 60_000);
    const k = semanticIndexKeys(stored!.fingerprint);
    // remember is fire and forget: wait until the element is in the set.
    for (let i = 0; i < 100 && Number(await r2.conn.call('VCARD', k.vectors)) < 1; i++)
      await new Promise((r) => setImmediate(r));

    const para = await r2.cache.lookup(chat('a', 'what is the capital city of france, please'), NS_SETTINGS);
    expect(para?.match?.entryKey).toBe('exact-key-1');
    expect(para!.match!.similarity).toBeGreaterThanOrEqual(0.85);
    expect(para!.match!.similarity).toBeLessThan(1);
    // The similarity is the cosine of the two embeddings (VSIM's (1+cos)/2 turned back).
    expect(para!.match!.similarity).toBeCloseTo(cosine(para!.vector, stored!.vector), 4);

    const unrelated = await r2.cache.lookup(chat('a', 'How do I bake sourdough bread at home?'), NS_SETTINGS);
    expect(unrelated).toBeDefined();
    expect(unrelated!.match).toBeUndefined();
    await r1.cache.close();
    await r2.cache.close();
  });

  test('another namespace never hits, even with the same words', async () => {
    const r = replica();
    await ready(r.conn);
    const l = await r.cache.lookup(chat('a', 'Name three primary colours'), NS_SETTINGS);
    r.cache.remember(l!, 'exact-colours', 60_000);
    const k = semanticIndexKeys(l!.fingerprint);
    for (let i = 0; i < 100 && Number(await r.conn.call('VCARD', k.vectors)) < 1; i++)
      await new Promise((r) => setImmediate(r));
    expect((await r.cache.lookup(chat('a', 'Name three primary colours'), NS_SETTINGS))?.match?.entryKey).toBe(
      'exact-colours',
    );
    const other = await r.cache.lookup(chat('other', 'Name three primary colours'), NS_SETTINGS);
    expect(other).toBeDefined(); // embedded through the other namespace's own route
    expect(other!.fingerprint).not.toBe(l!.fingerprint);
    expect(other!.match).toBeUndefined();
    await r.cache.close();
  });

  test('perKey isolates keys; scope namespace shares between them', async () => {
    const r = replica();
    await ready(r.conn);
    const l = await r.cache.lookup(chat('a', 'Summarise the plot of Hamlet'), PER_KEY);
    r.cache.remember(l!, 'exact-hamlet-a', 60_000);
    const shared = await r.cache.lookup(chat('a', 'Summarise the plot of Hamlet'), NS_SETTINGS);
    r.cache.remember(shared!, 'exact-hamlet-ns', 60_000);
    for (const fp of [l!.fingerprint, shared!.fingerprint]) {
      const k = semanticIndexKeys(fp);
      for (let i = 0; i < 100 && Number(await r.conn.call('VCARD', k.vectors)) < 1; i++)
        await new Promise((r) => setImmediate(r));
    }
    expect((await r.cache.lookup(chat('a', 'summarise the plot of hamlet please'), PER_KEY))?.match?.entryKey).toBe(
      'exact-hamlet-a',
    );
    const b = await r.cache.lookup(chat('b', 'summarise the plot of hamlet please'), PER_KEY);
    expect(b).toBeDefined();
    expect(b!.match).toBeUndefined();
    expect((await r.cache.lookup(chat('b', 'summarise the plot of hamlet please'), NS_SETTINGS))?.match?.entryKey).toBe(
      'exact-hamlet-ns',
    );
    await r.cache.close();
  });

  test('expired elements are not served and are removed; the set is capped (soonest to expire go first)', async () => {
    let now = 10_000_000;
    const conn = new Redis(redis8.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    conn.on('error', () => {});
    await ready(conn);
    const idx = new RedisVectorIndex(conn, { now: () => now, maxPerSet: 3, keyPrefix: 'tollgate:semantic:test-ttl:' });
    const unit = (i: number) => {
      const v = new Float32Array(4);
      v[i % 4] = 1;
      return v;
    };
    const k = semanticIndexKeys('fp', 'tollgate:semantic:test-ttl:');
    const card = async () => Number(await conn.call('VCARD', k.vectors));
    idx.add('fp', unit(0), 'e0', 1000);
    for (let i = 0; i < 100 && (await card()) < 1; i++) await new Promise((r) => setImmediate(r));
    expect((await idx.nearest('fp', unit(0)))?.entryKey).toBe('e0');
    now += 1000;
    expect(await idx.nearest('fp', unit(0))).toBeUndefined(); // expired: not served
    idx.add('fp', unit(1), 'e1', 60_000); // the next add drops it
    for (let i = 0; i < 100 && (await conn.call('VISMEMBER', k.vectors, 'e0')) !== 0; i++)
      await new Promise((r) => setImmediate(r));
    expect(await conn.call('VISMEMBER', k.vectors, 'e0')).toBe(0);
    for (let i = 2; i <= 5; i++) idx.add('fp', unit(i), `e${i}`, 60_000 + i);
    for (let i = 0; i < 100 && (await conn.zscore(k.expiries, 'e5')) === null; i++)
      await new Promise((r) => setImmediate(r));
    expect(await card()).toBe(3);
    expect(await conn.zrange(k.expiries, '0', '-1')).toEqual(['e3', 'e4', 'e5']);
    const pttl = await conn.pttl(k.vectors);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_005);
    conn.disconnect();
  });

  test('Redis 8 stopped mid-test: lookups miss at once and adds are dropped, then it serves again', async () => {
    const r = replica();
    await ready(r.conn);
    const l = await r.cache.lookup(chat('a', 'Explain photosynthesis simply'), NS_SETTINGS);
    r.cache.remember(l!, 'exact-photo', 60_000);
    const k = semanticIndexKeys(l!.fingerprint);
    for (let i = 0; i < 100 && Number(await r.conn.call('VCARD', k.vectors)) < 1; i++)
      await new Promise((r) => setImmediate(r));

    await redis8.stop();
    const failures = r.index.failures;
    const t0 = performance.now();
    const during = await r.cache.lookup(chat('a', 'explain photosynthesis simply please'), NS_SETTINGS);
    expect(during).toBeDefined(); // the embedding still worked (it does not need Redis)
    expect(during!.match).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(() => r.cache.remember(during!, 'exact-photo-2', 60_000)).not.toThrow();
    for (let i = 0; i < 100 && r.index.failures < failures + 2; i++) await new Promise((r) => setImmediate(r));
    expect(r.index.failures).toBeGreaterThanOrEqual(failures + 2);

    await redis8.start(); // an empty server: no persistence
    await ready(r.conn);
    const again = await r.cache.lookup(chat('a', 'Explain photosynthesis simply'), NS_SETTINGS);
    expect(again!.match).toBeUndefined();
    r.cache.remember(again!, 'exact-photo-3', 60_000);
    for (let i = 0; i < 100 && Number(await r.conn.call('VCARD', k.vectors)) < 1; i++)
      await new Promise((r) => setImmediate(r));
    expect(
      (await r.cache.lookup(chat('a', 'explain photosynthesis simply please'), NS_SETTINGS))?.match?.entryKey,
    ).toBe('exact-photo-3');
    await r.cache.close();
  });
});

test('find: a match is served only while its entry is still in the store', async () => {
  const cache = new SemanticCache(new MemoryIndex(), embedder);
  const store = new Map<string, string>();
  const get = (k: string) => Promise.resolve(store.get(k));
  const first = await cache.find(chat('a', 'List the planets of the solar system'), NS_SETTINGS, get);
  expect(first.entry).toBeUndefined();
  store.set('exact-planets', 'the answer');
  cache.remember(first.lookup!, 'exact-planets', 60_000);
  const hit = await cache.find(chat('a', 'list the planets of the solar system please'), NS_SETTINGS, get);
  expect(hit.entry).toBe('the answer');
  expect(hit.similarity).toBeGreaterThanOrEqual(0.85);
  store.delete('exact-planets'); // evicted from the store: the index's match alone is not a hit
  const gone = await cache.find(chat('a', 'list the planets of the solar system please'), NS_SETTINGS, get);
  expect(gone.lookup?.match?.entryKey).toBe('exact-planets');
  expect(gone.entry).toBeUndefined();
  expect(gone.similarity).toBeUndefined();
});

describe('openSemanticIndex: which index', () => {
  test('openSemanticCache on Redis 8: what one data plane remembers, another one finds', async () => {
    const one = await openSemanticCache({ redisUrl: redis8.url, origin: () => gw.url, logger });
    const two = await openSemanticCache({ redisUrl: redis8.url, origin: () => gw.url, logger });
    expect([one.index.kind, two.index.kind]).toEqual(['redis-vector-set', 'redis-vector-set']);
    const l = await one.lookup(chat('a', 'Translate good morning into German'), NS_SETTINGS);
    one.remember(l!, 'exact-german', 60_000);
    let hit: Awaited<ReturnType<SemanticCache['lookup']>>;
    for (let i = 0; i < 100; i++) {
      hit = await two.lookup(chat('a', 'translate good morning into german please'), NS_SETTINGS);
      if (hit?.match !== undefined) break;
    }
    expect(hit!.match?.entryKey).toBe('exact-german');
    await one.close();
    await two.close();
  });

  test('Redis 8: the shared vector-set index', async () => {
    const idx = await openSemanticIndex({ url: redis8.url, logger });
    expect(idx.kind).toBe('redis-vector-set');
    await idx.close();
  });

  test('Redis 7 (no vector sets), no Redis, an unreachable Redis: the in-process index', async () => {
    let redis7: RedisServer | undefined;
    try {
      redis7 = await startRedis();
      const c7 = new Redis(redis7.url);
      const info = await c7.info('server').finally(() => c7.disconnect());
      expect(Number(info.match(/redis_version:(\d+)/)?.[1])).toBeLessThan(8);
      expect((await openSemanticIndex({ url: redis7.url, logger })).kind).toBe('in-process');
    } finally {
      await redis7?.dispose();
    }
    expect((await openSemanticIndex({ url: undefined, logger })).kind).toBe('in-process');
    const down = await openSemanticIndex({ url: 'redis://127.0.0.1:1', logger, probeTimeoutMs: 500 });
    expect(down.kind).toBe('in-process');
  });
});
