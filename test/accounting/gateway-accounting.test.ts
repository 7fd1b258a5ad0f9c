/**
 * Accounting through real gateways: the official SDKs as clients, a fake upstream, a real redis-server
 * shared by two gateway instances, and a local OTLP receiver asserting on the spans it gets.
 */
import Anthropic from '@anthropic-ai/sdk';
import { jest } from '@jest/globals';
import OpenAI from 'openai';
import type { QuotaPolicyConfig } from '../../contract/gateway-config.js';
import { type AccountingHooks, createAccounting } from '../../dataplane/src/accounting/hooks.js';
import { RedisStore } from '../../dataplane/src/accounting/quota/redis-store.js';
import { QuotaService } from '../../dataplane/src/accounting/quota/service.js';
import type { AccessRecord } from '../../dataplane/src/telemetry/access-log.js';
import { FakeUpstream, openAiCompletion, openAiStream } from '../support/fake-upstream.js';
import { apiKey, gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import { type RedisServer, startRedis } from '../support/redis.js';

jest.setTimeout(30_000);

const KEY = 'sk-research-1';
const OTHER = 'sk-ops-1';
const N = 7;

let up: FakeUpstream;
let bad: FakeUpstream;
let redis: RedisServer;
let otlp: OtlpReceiver;
const gateways: TestGateway[] = [];
const accountings: AccountingHooks[] = [];
const access: AccessRecord[] = [];

function config(policies: QuotaPolicyConfig[]) {
  const good = provider({ name: 'good', baseUrl: up.openaiBaseUrl });
  good.models = [
    { name: 'gpt-4o', pricing: { input: 2.5, output: 10, cachedInput: 1.25 } },
    // 'free-model' deliberately has no price
  ];
  const c = gatewayConfig({
    providers: [good, provider({ name: 'bad', baseUrl: bad.openaiBaseUrl })],
    routes: [
      route({
        name: 'chat',
        models: ['gpt-4o', 'free-model'],
        backends: [
          { provider: 'bad', priority: 0 },
          { provider: 'good', priority: 1 },
        ],
      }),
      route({ name: 'shared', models: ['shared-model'], backends: [{ provider: 'good', model: 'gpt-4o' }] }),
      route({ name: 'big', models: ['big-model'], backends: [{ provider: 'good', model: 'gpt-4o' }] }),
    ],
    apiKeys: [apiKey('ai/research', KEY, { team: 'research' }), apiKey('ai/ops', OTHER, { team: 'ops' })],
    requireKeys: true,
  });
  return { ...c, quotaPolicies: policies };
}

const policies: QuotaPolicyConfig[] = [
  {
    id: 'ai/per-key',
    namespace: 'ai',
    name: 'per-key',
    models: [{ name: 'gpt-4o', prefix: false }],
    scope: 'perKey',
    limits: [
      { kind: 'requests', amount: 1000, window: { type: 'sliding', ms: 3_600_000 } },
      { kind: 'tokens', amount: 1_000_000, window: { type: 'sliding', ms: 3_600_000 } },
    ],
    failureMode: 'open',
    keys: ['ai/research'],
    matchesAnonymous: false,
  },
  {
    id: 'ai/shared-n',
    namespace: 'ai',
    name: 'shared-n',
    models: [{ name: 'shared', prefix: true }],
    scope: 'shared',
    limits: [{ kind: 'requests', amount: N, window: { type: 'sliding', ms: 3_600_000 } }],
    failureMode: 'closed',
    keys: ['ai/research', 'ai/ops'],
    matchesAnonymous: false,
  },
  {
    // Far from full: admissions are answered from credits (ADR 0034).
    id: 'ai/big',
    namespace: 'ai',
    name: 'big',
    models: [{ name: 'big-model', prefix: false }],
    scope: 'shared',
    limits: [
      { kind: 'requests', amount: 1_048_576, window: { type: 'sliding', ms: 3_600_000 } },
      { kind: 'tokens', amount: 10_000_000_000, window: { type: 'sliding', ms: 3_600_000 } },
    ],
    failureMode: 'closed',
    keys: ['ai/research', 'ai/ops'],
    matchesAnonymous: false,
  },
];

beforeAll(async () => {
  [up, bad, redis, otlp] = await Promise.all([
    FakeUpstream.start('good'),
    FakeUpstream.start('bad'),
    startRedis(),
    OtlpReceiver.start(),
  ]);
  for (let i = 0; i < 2; i++) {
    const acc = await createAccounting({
      redisUrl: redis.url,
      accessLog: (r) => access.push(r),
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_SERVICE_NAME: `tollgate-test-${i}`,
        OTEL_METRIC_EXPORT_INTERVAL: '500',
      },
    });
    accountings.push(acc);
    gateways.push(await startGateway(config(policies), { hooks: acc }));
  }
});

afterAll(async () => {
  for (const g of gateways) await g.close();
  for (const a of accountings) await a.close();
  await Promise.all([up.close(), bad.close(), otlp.close()]);
  await redis.dispose();
});

beforeEach(() => {
  up.reset();
  bad.reset();
  access.length = 0;
});

const openai = (g: TestGateway, key = KEY, headers: Record<string, string> = {}) =>
  new OpenAI({ baseURL: g.openaiBaseURL, apiKey: key, maxRetries: 0, defaultHeaders: headers });

test('a fallback request: spans per attempt under the client trace, cost, metrics, headers, access log', async () => {
  const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const clientSpan = '00f067aa0ba902b7';
  bad.enqueue({ kind: 'json', status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
  up.enqueue({
    kind: 'json',
    body: {
      ...openAiCompletion('hello there'),
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 200,
        total_tokens: 1200,
        prompt_tokens_details: { cached_tokens: 600 },
      },
    },
  });
  const g = gateways[0]!;
  const r = await openai(g, KEY, { traceparent: `00-${clientTrace}-${clientSpan}-01` })
    .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  expect(r.data.choices[0]!.message.content).toBe('hello there');
  expect(r.response.headers.get('x-tollgate-attempts')).toBe('2');
  expect(r.response.headers.get('x-ratelimit-limit-requests')).toBe('1000');
  expect(Number(r.response.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(1000);
  expect(r.response.headers.get('x-ratelimit-remaining-tokens')).not.toBeNull();

  // The upstreams got the trace: same trace id, each try its own span id.
  const tpBad = String(bad.requests[0]!.headers.traceparent);
  const tpGood = String(up.requests[0]!.headers.traceparent);
  expect(tpBad).toMatch(new RegExp(`^00-${clientTrace}-[0-9a-f]{16}-01$`));
  expect(tpGood).toMatch(new RegExp(`^00-${clientTrace}-[0-9a-f]{16}-01$`));
  expect(tpBad).not.toBe(tpGood);

  await accountings[0]!.otel!.flush();
  await otlp.waitFor((s) => s.filter((x) => x.traceId === clientTrace).length >= 3);
  const spans = otlp.spans.filter((x) => x.traceId === clientTrace);
  const server = spans.find((s) => s.parentSpanId === clientSpan)!;
  expect(server).toBeDefined();
  expect(server.name).toBe('chat gpt-4o');
  expect(server.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 1000,
    'gen_ai.usage.output_tokens': 200,
    'tollgate.route': 'ai/chat',
    'tollgate.backend': 'good/gpt-4o',
    // The key's Secret and team label, never the key itself.
    'tollgate.key': 'ai/research',
    'tollgate.key_team': 'research',
    // 400 × 2.5 + 600 × 1.25 + 200 × 10 = 1000 + 750 + 2000 = 3750 micro-USD
    'tollgate.cost_usd': 0.00375,
  });
  expect(JSON.stringify(spans)).not.toContain(KEY);
  const tries = spans.filter((s) => s.parentSpanId === server.spanId);
  expect(tries).toHaveLength(2);
  const failed = tries.find((s) => s.attributes['tollgate.backend'] === 'bad/gpt-4o')!;
  expect(failed.attributes['tollgate.outcome']).toBe('http_5xx');
  expect(failed.status?.code).toBe(2);
  expect(tpBad).toContain(failed.spanId);
  expect(tries.find((s) => s.attributes['tollgate.backend'] === 'good/gpt-4o')!.attributes['tollgate.outcome']).toBe(
    'ok',
  );

  const metrics = await (await fetch(g.metricsUrl)).text();
  expect(metrics).toContain('tollgate_requests_total{route="ai/chat",backend="good/gpt-4o",code="200"} 1');
  expect(metrics).toContain('tollgate_upstream_attempts_total{backend="bad/gpt-4o",outcome="http_5xx"} 1');
  expect(metrics).toContain(
    'tollgate_cost_usd_total{route="ai/chat",backend="good/gpt-4o",key_team="research"} 0.00375',
  );
  expect(metrics).toMatch(/gen_ai_client_token_usage_count\{gen_ai_token_type="input",[^}]*\} 1/);
  expect(metrics).toContain('# TYPE gen_ai_client_operation_duration_seconds histogram');
  expect(metrics).toContain('# TYPE tollgate_time_to_first_token_seconds histogram');

  const line = access.find((a) => a.route === 'ai/chat')!;
  expect(line).toMatchObject({
    type: 'access',
    backend: 'good/gpt-4o',
    status: 200,
    attempts: 2,
    input_tokens: 1000,
    output_tokens: 200,
    cached_input_tokens: 600,
    cost_usd: 0.00375,
    key: 'ai/research',
    team: 'research',
    trace_id: clientTrace,
  });
  expect(typeof line.latency_ms).toBe('number');
  expect(JSON.stringify(line)).not.toContain(KEY);
  expect(JSON.stringify(line)).not.toContain('hello there');
});

test('an unpriced model is reported as unpriced, never $0', async () => {
  bad.enqueue({ kind: 'json', status: 503, body: { error: { message: 'x', type: 'server_error' } } });
  up.enqueue({ kind: 'json', body: openAiCompletion('ok', 'free-model') });
  const g = gateways[1]!;
  await openai(g).chat.completions.create({ model: 'free-model', messages: [{ role: 'user', content: 'hi' }] });
  const line = access.find((a) => a.model === 'free-model')!;
  expect(line.unpriced).toBe(true);
  expect(line.cost_usd).toBeUndefined();
  const metrics = await (await fetch(g.metricsUrl)).text();
  expect(metrics).toContain('tollgate_unpriced_requests_total{backend="good/free-model"} 1');
  expect(metrics).not.toContain('backend="good/free-model",key_team');
});

test('a stream whose upstream reports no usage is estimated with the tokenizer', async () => {
  bad.enqueue({ kind: 'json', status: 500, body: { error: { message: 'x', type: 'server_error' } } });
  up.enqueue({ kind: 'sse', chunks: openAiStream('one two three', 'gpt-4o', { usage: false }) });
  const stream = await openai(gateways[0]!).chat.completions.create({
    model: 'gpt-4o',
    stream: true,
    messages: [{ role: 'user', content: 'count to three please' }],
  });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  expect(text).toBe('one two three');
  for (let i = 0; i < 100 && !access.some((a) => a.usage_estimated); i++) await new Promise((r) => setTimeout(r, 20));
  const line = access.find((a) => a.usage_estimated)!;
  expect(line).toBeDefined();
  expect(line.input_tokens).toBeGreaterThan(4);
  expect(line.output_tokens).toBe(3); // "one two three": 3 tokens in o200k_base
  expect(line.cost_usd).toBeGreaterThan(0);
});

test('a stream cut before its usage: input and output estimated from what was sent, marked, priced', async () => {
  bad.enqueue({ kind: 'json', status: 500, body: { error: { message: 'x', type: 'server_error' } } });
  // role chunk and the three words; no finish, no usage, no [DONE]: the upstream closes mid-answer.
  up.enqueue({ kind: 'sse', chunks: openAiStream('one two three', 'gpt-4o').slice(0, 4) });
  const res = await fetch(`${gateways[0]!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'count to three' }] }),
  });
  const text = await res.text();
  expect(text).toContain('"content":"three"');
  expect(text).toContain('upstream_bad_response');
  for (let i = 0; i < 100 && !access.some((a) => a.usage_estimated); i++) await new Promise((r) => setTimeout(r, 20));
  const line = access.find((a) => a.usage_estimated)!;
  expect(line).toBeDefined();
  expect(line.error).toBe('upstream_bad_response');
  expect(line.input_tokens).toBeGreaterThan(3);
  expect(line.output_tokens).toBe(3);
  // gpt-4o: $2.5 input, $10 output per 1M tokens, on the estimate.
  expect(line.cost_usd).toBeCloseTo(((line.input_tokens as number) * 2.5 + 3 * 10) / 1e6, 9);
});

test('a response without usage: output estimated from the completion text', async () => {
  bad.enqueue({ kind: 'json', status: 500, body: { error: { message: 'x', type: 'server_error' } } });
  const { usage: _none, ...bare } = openAiCompletion('one two three');
  up.enqueue({ kind: 'json', body: bare });
  const r = await openai(gateways[0]!).chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'count to three' }],
  });
  expect(r.choices[0]!.message.content).toBe('one two three');
  for (let i = 0; i < 100 && !access.some((a) => a.usage_estimated); i++) await new Promise((r) => setTimeout(r, 20));
  const line = access.find((a) => a.usage_estimated)!;
  expect(line.output_tokens).toBe(3);
  expect(line.cost_usd).toBeGreaterThan(0);
});

test('two gateways sharing one Redis: exactly N of many concurrent requests pass; 429 in each client format', async () => {
  const results = await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const g = gateways[i % 2]!;
      const res = await fetch(`${g.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${i % 3 === 0 ? OTHER : KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'shared-model', messages: [{ role: 'user', content: 'hi' }] }),
      });
      const body = (await res.json()) as { error?: { code?: string; type?: string } };
      return {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body,
        remaining: res.headers.get('x-ratelimit-remaining-requests'),
      };
    }),
  );
  const ok = results.filter((r) => r.status === 200);
  const limited = results.filter((r) => r.status === 429);
  expect(ok).toHaveLength(N);
  expect(limited).toHaveLength(40 - N);
  expect(limited[0]!.body.error?.code).toBe('quota_exceeded');
  expect(limited[0]!.body.error?.type).toBe('rate_limit_error');
  expect(Number(limited[0]!.retryAfter)).toBeGreaterThan(0);
  expect(limited[0]!.remaining).toBe('0');

  // The Anthropic client gets the same refusal in its own format.
  const anthropic = new Anthropic({ baseURL: gateways[1]!.url, apiKey: KEY, maxRetries: 0 });
  const err = await anthropic.messages
    .create({ model: 'shared-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Anthropic.RateLimitError);
  expect((err as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({
    type: 'error',
    error: { type: 'rate_limit_error' },
  });
  const m0 = await (await fetch(gateways[0]!.metricsUrl)).text();
  const m1 = await (await fetch(gateways[1]!.metricsUrl)).text();
  const rej = (t: string) => Number(/tollgate_quota_rejections_total\{policy="ai\/shared-n"\} (\d+)/.exec(t)?.[1] ?? 0);
  expect(rej(m0) + rej(m1)).toBe(40 - N + 1);
  process.stdout.write(`two gateways, one Redis: ${ok.length} of 40 concurrent requests allowed (limit ${N})\n`);
});

test('credits through both gateways: every request counted once, tokens settled to the real usage', async () => {
  const reader = new RedisStore({ url: redis.url });
  expect(await reader.ready(5000)).toBe(true);
  const quota = new QuotaService({ store: reader, credits: false });
  quota.applyPolicies(policies);
  try {
    const before = await quota.usage('ai/big');
    const answers: string[] = [];
    for (let i = 0; i < 30; i++) {
      const client = openai(gateways[i % 2]!, i % 3 === 0 ? OTHER : KEY);
      const messages = [{ role: 'user' as const, content: `question ${i}` }];
      if (i % 2 === 0) {
        const r = await client.chat.completions.create({ model: 'big-model', messages }).withResponse();
        expect(r.response.headers.get('x-ratelimit-limit-requests')).toBe('1048576');
        answers.push(r.data.choices[0]!.message.content ?? '');
      } else {
        const stream = await client.chat.completions.create({ model: 'big-model', messages, stream: true });
        let text = '';
        for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
        answers.push(text);
      }
    }
    expect(answers.every((a) => a.length > 0)).toBe(true);
    const big = access.filter((r) => r.model === 'big-model');
    expect(big).toHaveLength(30);
    const realTokens = big.reduce((t, r) => t + Number(r.input_tokens ?? 0) + Number(r.output_tokens ?? 0), 0);
    expect(realTokens).toBeGreaterThan(0);
    // Credits held make the counters read high until given back; a config change gives them back.
    const held = await quota.usage('ai/big');
    expect(held[0]!.used - before[0]!.used).toBeGreaterThan(30);
    for (const g of gateways) g.gateway.applyConfig(config(policies));
    await new Promise((r) => setTimeout(r, 100));
    const after = await quota.usage('ai/big');
    expect(after[0]!.used - before[0]!.used).toBe(30);
    expect(after[1]!.used - before[1]!.used).toBe(realTokens);
  } finally {
    await quota.close();
  }
});

test('failureMode closed: Redis down answers 503 quota_store_unavailable; open policies fall back locally', async () => {
  await redis.stop();
  try {
    const res = await fetch(`${gateways[0]!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'shared-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('quota_store_unavailable');
    bad.enqueue({ kind: 'json', status: 500, body: { error: { message: 'x', type: 'server_error' } } });
    up.enqueue({ kind: 'json', body: openAiCompletion('still here') });
    const r = await openai(gateways[0]!).chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(r.choices[0]!.message.content).toBe('still here');
    expect(access.find((a) => a.route === 'ai/chat')?.quota_store).toBe('memory');
  } finally {
    await redis.start();
  }
});

test('metrics are exported over OTLP too when configured', async () => {
  await accountings[0]!.otel!.flush();
  for (let i = 0; i < 100 && !otlp.metricNames.has('tollgate_requests'); i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(otlp.metricNames.has('tollgate_requests')).toBe(true);
  expect(otlp.metricNames.has('gen_ai.client.token.usage')).toBe(true);
  expect(otlp.metricNames.has('gen_ai.client.operation.duration')).toBe(true);
  expect(otlp.contentTypes.every((c) => c.startsWith('application/json'))).toBe(true);
});
