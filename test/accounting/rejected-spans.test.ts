/**
 * Requests refused before they reach an upstream (bad key, unknown model, quota) get one SERVER span each,
 * exported to a local OTLP receiver, parented on the client's traceparent; the official OpenAI SDK is the client.
 */
import { jest } from '@jest/globals';
import OpenAI from 'openai';
import type { QuotaPolicyConfig } from '../../contract/gateway-config.js';
import { type AccountingHooks, createAccounting } from '../../dataplane/src/accounting/hooks.js';
import type { AccessRecord } from '../../dataplane/src/telemetry/access-log.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { apiKey, gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';

jest.setTimeout(30_000);

const KEY = 'sk-rejected-spans-1';
const ERROR = 2; // OTLP STATUS_CODE_ERROR
const SERVER = 2; // OTLP SPAN_KIND_SERVER

let up: FakeUpstream;
let otlp: OtlpReceiver;
let acc: AccountingHooks;
let gw: TestGateway;
const access: AccessRecord[] = [];

const limited: QuotaPolicyConfig = {
  id: 'ai/one-request',
  namespace: 'ai',
  name: 'one-request',
  models: [{ name: 'limited-model', prefix: false }],
  scope: 'perKey',
  limits: [{ kind: 'requests', amount: 1, window: { type: 'sliding', ms: 3_600_000 } }],
  failureMode: 'open',
  keys: ['ai/research'],
  matchesAnonymous: false,
};

beforeAll(async () => {
  [up, otlp] = await Promise.all([FakeUpstream.start('up'), OtlpReceiver.start()]);
  acc = await createAccounting({
    accessLog: (r) => access.push(r),
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: 'tollgate-rejected' },
  });
  const config = gatewayConfig({
    providers: [provider({ name: 'up', baseUrl: up.openaiBaseUrl })],
    routes: [route({ name: 'chat', models: ['gpt-4o', 'limited-model'], backends: [{ provider: 'up' }] })],
    apiKeys: [apiKey('ai/research', KEY, { team: 'research' })],
    requireKeys: true,
  });
  gw = await startGateway({ ...config, quotaPolicies: [limited] }, { hooks: acc });
});

afterAll(async () => {
  await gw.close();
  await acc.close();
  await Promise.all([up.close(), otlp.close()]);
});

let n = 0;
/** A fresh client trace per request, so each request's spans can be counted on their own. */
function clientTrace(): { traceId: string; spanId: string; traceparent: string } {
  n++;
  const traceId = `${n.toString(16).padStart(8, '0')}${'a'.repeat(24)}`;
  const spanId = `${n.toString(16).padStart(4, '0')}${'b'.repeat(12)}`;
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const client = (key: string, traceparent?: string) =>
  new OpenAI({
    baseURL: gw.openaiBaseURL,
    apiKey: key,
    maxRetries: 0,
    defaultHeaders: traceparent ? { traceparent } : {},
  });

async function spansOf(traceId: string, count = 1): Promise<ReceivedSpan[]> {
  await acc.otel!.flush();
  await otlp.waitFor((s) => s.filter((x) => x.traceId === traceId).length >= count);
  return otlp.spans.filter((x) => x.traceId === traceId);
}

test('a 401 (bad key) is one SERVER span under the client trace, with error status and error.type', async () => {
  const t = clientTrace();
  const err = await client('sk-wrong', t.traceparent)
    .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
  const spans = await spansOf(t.traceId);
  expect(spans).toHaveLength(1);
  const s = spans[0]!;
  expect(s.parentSpanId).toBe(t.spanId);
  expect(s.kind).toBe(SERVER);
  expect(s.name).toBe('chat');
  expect(s.status?.code).toBe(ERROR);
  expect(s.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'http.response.status_code': 401,
    'error.type': 'invalid_api_key',
  });
  // Not known before the key was accepted and the body read.
  expect(s.attributes['tollgate.key']).toBeUndefined();
  expect(s.attributes['gen_ai.request.model']).toBeUndefined();
  expect(s.attributes['tollgate.route']).toBeUndefined();
  expect(access.find((a) => a.status === 401)?.trace_id).toBe(t.traceId);
});

test('a 404 unknown model: the key and its team, the model asked for, no route', async () => {
  const t = clientTrace();
  const err = await client(KEY, t.traceparent)
    .chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  const spans = await spansOf(t.traceId);
  expect(spans).toHaveLength(1);
  const s = spans[0]!;
  expect(s.parentSpanId).toBe(t.spanId);
  expect(s.name).toBe('chat');
  expect(s.status?.code).toBe(ERROR);
  expect(s.attributes).toMatchObject({
    'http.response.status_code': 404,
    'error.type': 'model_not_found',
    'gen_ai.request.model': 'no-such-model',
    'tollgate.key': 'ai/research',
    'tollgate.key_team': 'research',
  });
  expect(s.attributes['tollgate.route']).toBeUndefined();
});

test('a 429 quota rejection: one span named for the model, with its route; the admitted request keeps its own', async () => {
  const ok = clientTrace();
  await client(KEY, ok.traceparent).chat.completions.create({
    model: 'limited-model',
    messages: [{ role: 'user', content: 'hi' }],
  });
  const t = clientTrace();
  const err = await client(KEY, t.traceparent)
    .chat.completions.create({ model: 'limited-model', messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  const spans = await spansOf(t.traceId);
  expect(spans).toHaveLength(1);
  const s = spans[0]!;
  expect(s.parentSpanId).toBe(t.spanId);
  expect(s.kind).toBe(SERVER);
  expect(s.name).toBe('chat limited-model');
  expect(s.status?.code).toBe(ERROR);
  expect(s.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'limited-model',
    'http.response.status_code': 429,
    'error.type': 'quota_exceeded',
    'tollgate.route': 'ai/chat',
    'tollgate.key': 'ai/research',
    'tollgate.key_team': 'research',
    'tollgate.attempts': 0,
  });
  // The admitted request: its server span and one attempt span, no refusal span.
  const admitted = await spansOf(ok.traceId, 2);
  expect(admitted).toHaveLength(2);
  expect(admitted.find((x) => x.parentSpanId === ok.spanId)?.attributes['http.response.status_code']).toBe(200);
});

test('without a client traceparent the refusal starts its own trace', async () => {
  const before = new Set(otlp.spans.map((s) => s.spanId));
  await client('sk-wrong')
    .embeddings.create({ model: 'gpt-4o', input: 'x' })
    .catch(() => undefined);
  await acc.otel!.flush();
  await otlp.waitFor((s) => s.some((x) => !before.has(x.spanId) && x.name === 'embeddings'));
  const s = otlp.spans.find((x) => !before.has(x.spanId) && x.name === 'embeddings')!;
  expect(s.parentSpanId).toBeUndefined();
  expect(s.attributes['error.type']).toBe('invalid_api_key');
});
