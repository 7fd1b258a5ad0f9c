/**
 * QuotaPolicy status.usage on a real API server with a real redis-server: a data plane counts requests,
 * tokens and cost in Redis with the real quota engine (driven by the official OpenAI SDK), and the
 * operator, reading the same Redis every second, writes per-limit consumption into each policy's status.
 */
import { rm } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import OpenAI from 'openai';
import { type DataplaneHandle, startDataplane } from '../../dataplane/src/cli/dataplane.js';
import { silentLogger } from '../../dataplane/src/log.js';
import { parseOperatorFlags } from '../../operator/src/flags.js';
import { type OperatorHandle, startOperator } from '../../operator/src/operator.js';
import type { UsageEntry } from '../../operator/src/quota-usage.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { adminConfig, createNamespace } from './kube.js';
import { eventually, installCrds, Resources, serviceAccountToken, tempDir } from './support.js';

const ALICE = 'tg-usage-alice-0123456789';
const BOB = 'tg-usage-bob-0123456789';

let kc: KubeConfig;
let system: string;
let ai: Resources;
let dir: string;
let redis: RedisServer;
let upstream: FakeUpstream;
let op: OperatorHandle | undefined;
let dp: DataplaneHandle | undefined;

interface UsageStatus {
  usage?: UsageEntry[];
  lastUpdated?: string;
}

async function usageOf(name: string): Promise<UsageStatus> {
  return ((await ai.get('QuotaPolicy', name)).status ?? {}) as UsageStatus;
}

async function chat(key: string): Promise<number> {
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${dp?.port}/v1`, apiKey: key, maxRetries: 0 });
  const { response } = await client.chat.completions
    .create({ model: 'model-a', messages: [{ role: 'user', content: 'hello' }] })
    .withResponse();
  return response.status;
}

beforeAll(async () => {
  kc = adminConfig();
  await installCrds();
  system = await createNamespace(kc, 'tg-usage-system');
  ai = new Resources(kc, await createNamespace(kc, 'tg-usage'));
  dir = await tempDir();
  redis = await startRedis();
  upstream = await FakeUpstream.start('usage-upstream');
  const dpToken = await serviceAccountToken(kc, system, 'tollgate-dataplane', dir);

  await ai.secret('alice', { key: ALICE }, { 'tollgate.dev/api-key': 'true', team: 'research' });
  await ai.secret('bob', { key: BOB }, { 'tollgate.dev/api-key': 'true', team: 'research' });
  await ai.create('LLMProvider', 'prov', {
    type: 'openai-compatible',
    endpoint: upstream.openaiBaseUrl,
    models: [{ name: 'model-a', pricing: { input: 1, output: 2 }, limits: [{ requests: 500, per: '1h' }] }],
    // Provider capacity (ADR 0063): counted by the data plane per try, shown in the provider's status.capacity.
    limits: [
      { requests: 1000, per: '1m' },
      { tokens: 200000, per: '1h' },
    ],
  });
  await ai.create('LLMRoute', 'route', { models: ['model-a'], backends: [{ provider: 'prov' }] });
  await ai.create('QuotaPolicy', 'team', {
    selector: { matchLabels: { team: 'research' } },
    scope: 'shared',
    limits: [
      { requests: 100, per: '1m' },
      { tokens: 100000, per: '1h' },
      { costUSD: 5, per: 'month' },
    ],
  });
  await ai.create('QuotaPolicy', 'each', {
    selector: { matchLabels: { team: 'research' } },
    scope: 'perKey',
    limits: [{ requests: 50, per: '1m' }],
  });
  await ai.create('QuotaPolicy', 'nobody', {
    selector: { matchLabels: { team: 'nobody' } },
    scope: 'perKey',
    limits: [{ requests: 10, per: '1h' }],
  });

  const parsed = parseOperatorFlags(
    [
      `--kubeconfig=${process.env.KUBECONFIG}`,
      `--namespaces=${ai.namespace}`,
      `--lease-namespace=${system}`,
      '--leader-elect=false',
      '--config-listen=127.0.0.1:0',
      '--health-listen=127.0.0.1:0',
      `--dataplane-service-accounts=${system}/tollgate-dataplane`,
      `--redis=${redis.url}`,
      '--quota-status-interval=1s',
    ],
    { env: {}, hostname: 'usage-operator' },
  );
  if (parsed.help) throw new Error('unexpected help');
  op = await startOperator(parsed.flags, silentLogger);
  dp = await startDataplane({
    operatorUrl: `https://127.0.0.1:${op.configPort}`,
    ca: op.caCert,
    tokenFile: dpToken,
    port: 0,
    host: '127.0.0.1',
    podName: 'dp-usage',
    redis: redis.url,
    logger: silentLogger,
  });
  await ai.waitCondition('LLMRoute', 'route', 'Programmed', { status: 'True' });
});

afterAll(async () => {
  await dp?.stop();
  await op?.stop();
  await upstream?.close();
  await redis?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('QuotaPolicy status.usage', () => {
  it('shows zero use per limit before any request, with the month reset time', async () => {
    const s = await eventually(async () => {
      const st = await usageOf('team');
      if (!st.usage || !st.lastUpdated) throw new Error('no usage yet');
      return st;
    });
    expect(s.usage?.map((u) => [u.limit, u.used, u.remaining, u.scope])).toEqual([
      ['requests per 1m', 0, 100, 'shared'],
      ['tokens per 1h', 0, 100000, 'shared'],
      ['costUSD per month', 0, 5, 'shared'],
    ]);
    const now = new Date();
    expect(s.usage?.[2]?.windowResetsAt).toBe(
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
    );
    expect(s.usage?.[0]?.windowResetsAt).toBeUndefined();
    // A perKey policy whose selector matches no key: the limit with zero use and no key.
    const nobody = await eventually(async () => {
      const st = await usageOf('nobody');
      if (!st.usage) throw new Error('no usage yet');
      return st;
    });
    expect(nobody.usage).toEqual([
      { limit: 'requests per 1h', kind: 'requests', amount: 10, per: '1h', used: 0, remaining: 10, scope: 'perKey' },
    ]);
  });

  it('shows what the real quota engine counted in Redis: shared totals and the heaviest keys', async () => {
    for (let i = 0; i < 3; i++) expect(await chat(ALICE)).toBe(200);
    expect(await chat(BOB)).toBe(200);

    const team = await eventually(async () => {
      const st = await usageOf('team');
      if (st.usage?.[0]?.used !== 4 || st.usage?.[1]?.used !== 48) {
        throw new Error(`usage not there yet: ${JSON.stringify(st.usage)}`);
      }
      return st;
    });
    const [requests, tokens, cost] = team.usage ?? [];
    expect(requests).toMatchObject({ kind: 'requests', amount: 100, used: 4, remaining: 96 });
    // The fake upstream reports 5 input + 7 output tokens per answer.
    expect(tokens).toMatchObject({ kind: 'tokens', used: 48, remaining: 100000 - 48 });
    // 4 × (5 × $1 + 7 × $2) per 1M tokens.
    expect(cost?.kind).toBe('costUSD');
    expect(cost?.used).toBeCloseTo(4 * 19e-6, 6);

    const each = await eventually(async () => {
      const st = await usageOf('each');
      if (st.usage?.length !== 2) throw new Error(`per-key usage not there yet: ${JSON.stringify(st.usage)}`);
      return st;
    });
    expect(each.usage?.map((u) => [u.key, u.used, u.remaining])).toEqual([
      ['alice', 3, 47],
      ['bob', 1, 49],
    ]);
    // Status carries Secret names and numbers only, never a key.
    expect(JSON.stringify(each)).not.toContain(ALICE);

    // Refreshed at the interval, not per request: lastUpdated moves on while nothing is sent.
    const before = (await usageOf('team')).lastUpdated ?? '';
    await eventually(async () => {
      const after = (await usageOf('team')).lastUpdated ?? '';
      if (!(after > before)) throw new Error('lastUpdated did not move');
    });
    expect(op?.controller.metrics.usageReads).toBeGreaterThan(1);
  });

  it('shows the capacity in use in LLMProvider status.capacity: the provider limits and the model limit', async () => {
    // The 4 requests of the test before; each try settled to its real 12 tokens.
    const st = await eventually(async () => {
      const s = ((await ai.get('LLMProvider', 'prov')).status ?? {}) as { capacity?: unknown[]; lastUpdated?: string };
      if (JSON.stringify(s.capacity ?? []).indexOf('"used":48') === -1)
        throw new Error(`capacity not there yet: ${JSON.stringify(s.capacity)}`);
      return s;
    });
    expect(st.capacity).toEqual([
      { limit: 'requests per 1m', kind: 'requests', amount: 1000, per: '1m', used: 4, remaining: 996 },
      { limit: 'tokens per 1h', kind: 'tokens', amount: 200000, per: '1h', used: 48, remaining: 200000 - 48 },
      { limit: 'requests per 1h', kind: 'requests', amount: 500, per: '1h', used: 4, remaining: 496, model: 'model-a' },
    ]);
    expect(st.lastUpdated).toBeDefined();
  });

  it('keeps the last reading when Redis goes away, and catches up when it returns', async () => {
    await redis.stop();
    const errors = op?.controller.metrics.usageReadErrors ?? 0;
    await eventually(async () => {
      if ((op?.controller.metrics.usageReadErrors ?? 0) <= errors) throw new Error('no failed read yet');
    });
    expect((await usageOf('team')).usage?.[0]?.used).toBe(4);
    // Leadership lost and regained (a Lease renewal missed under load, or a failover) while Redis is
    // away: the new term has no reading of its own, and the status keeps the last one.
    const reconciles = op!.controller.metrics.reconciles;
    await op!.controller.stopLeading();
    await op!.controller.startLeading();
    await eventually(async () => {
      if (op!.controller.metrics.reconciles <= reconciles) throw new Error('no reconcile in the new term yet');
    });
    expect((await usageOf('team')).usage?.[0]?.used).toBe(4);
    await redis.start();
    // A fresh Redis has no counters: the next good read says so.
    await eventually(async () => {
      const st = await usageOf('team');
      if (st.usage?.[0]?.used !== 0) throw new Error(`still ${st.usage?.[0]?.used}`);
    });
  });
});
