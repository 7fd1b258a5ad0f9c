/**
 * Issue 17: an upstream 503 with Retry-After reached the client as a 502 without it once no retry or
 * fallback was left. The client gets the upstream's status class (503) and its Retry-After, in its format,
 * through the official SDKs.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

let oai: FakeUpstream;
let ant: FakeUpstream;
let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  oai = await FakeUpstream.start('oai');
  ant = await FakeUpstream.start('ant');
  gw = await startGateway(
    gatewayConfig({
      providers: [
        provider({ name: 'oai', baseUrl: oai.openaiBaseUrl }),
        provider({ name: 'ant', baseUrl: ant.anthropicBaseUrl, type: 'anthropic' }),
      ],
      routes: [
        // No retry left: one attempt.
        route({ name: 'once', models: ['gpt-4o'], attempts: 1, backends: [{ provider: 'oai' }] }),
        // Retries left, but the wait asked for does not fit the route's timeout: given up at once.
        route({ name: 'budget', models: ['budget'], timeoutMs: 5000, backends: [{ provider: 'oai' }] }),
        route({ name: 'claude', models: ['claude-sonnet-4-5'], attempts: 1, backends: [{ provider: 'ant' }] }),
      ],
    }),
  );
  openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw.close();
  await oai.close();
  await ant.close();
});

const unavailable = (after: string) => ({
  kind: 'json' as const,
  status: 503,
  headers: { 'retry-after': after },
  body: { error: { message: 'try later', type: 'server_error' } },
});

type OErr = InstanceType<typeof OpenAI.APIError>;

it('a 503 with Retry-After and no retry left reaches an OpenAI client as 503 with the header', async () => {
  oai.enqueue(unavailable('120'));
  const e = (await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    .catch((err: unknown) => err)) as OErr;
  expect(e).toBeInstanceOf(OpenAI.APIError);
  expect(e.status).toBe(503);
  expect(e.code).toBe('upstream_unavailable');
  expect(e.message).toContain('try later');
  expect(e.headers?.get('retry-after')).toBe('120');
});

it('a 503 whose Retry-After does not fit the budget is given up at once, passed on as it came', async () => {
  oai.enqueue(unavailable('3600'));
  const before = oai.requests.length;
  const e = (await openai.chat.completions
    .create({ model: 'budget', messages: [{ role: 'user', content: 'hi' }] })
    .catch((err: unknown) => err)) as OErr;
  expect(e.status).toBe(503);
  expect(e.headers?.get('retry-after')).toBe('3600');
  expect(e.headers?.get('x-tollgate-attempts')).toBe('1');
  expect(oai.requests.length - before).toBe(1);
});

it('an Anthropic client gets 503 overloaded_error with the Retry-After', async () => {
  ant.enqueue({
    kind: 'json',
    status: 503,
    headers: { 'retry-after': '7' },
    body: { type: 'error', error: { type: 'api_error', message: 'busy' } },
  });
  const e = (await anthropic.messages
    .create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    .catch((err: unknown) => err)) as InstanceType<typeof Anthropic.APIError>;
  expect(e).toBeInstanceOf(Anthropic.APIError);
  expect(e.status).toBe(503);
  expect((e.error as { error: { type: string } }).error.type).toBe('overloaded_error');
  expect(e.headers?.get('retry-after')).toBe('7');
});
