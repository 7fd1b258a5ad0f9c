/**
 * Issue 17: a prefix route passes the client's model name through, and it was copied uncapped into
 * x-tollgate-backend: a 20 KB name made the answer unreadable for the client after the upstream had been
 * called (and billed). Names over 256 bytes are now refused with a 400 before any upstream call, and the
 * header value is capped. Driven by the official SDKs.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { MAX_HEADER_VALUE } from '../../dataplane/src/pipeline/respond.js';
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
        route({ name: 'gpt', models: ['gpt*'], backends: [{ provider: 'oai' }] }),
        route({ name: 'claude', models: ['claude*'], backends: [{ provider: 'ant' }] }),
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

const chat = (model: string) =>
  openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();

it('refuses a 20 KB model name with a 400 in the OpenAI format, before any upstream call', async () => {
  const e = (await chat(`gpt-${'x'.repeat(20_000)}`).catch((err: unknown) => err)) as InstanceType<
    typeof OpenAI.APIError
  >;
  expect(e).toBeInstanceOf(OpenAI.APIError);
  expect(e.status).toBe(400);
  expect(e.code).toBe('invalid_request');
  expect(e.param).toBe('model');
  expect(e.message).toContain('longer than 256 bytes');
  expect(e.headers?.get('x-tollgate-route')).toBe('ai/gpt');
  expect(oai.requests).toHaveLength(0);
});

it('refuses it in the Anthropic format too', async () => {
  const e = (await anthropic.messages
    .create({ model: `claude-${'y'.repeat(20_000)}`, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
    .catch((err: unknown) => err)) as InstanceType<typeof Anthropic.APIError>;
  expect(e).toBeInstanceOf(Anthropic.APIError);
  expect(e.status).toBe(400);
  expect((e.error as { error: { type: string } }).error.type).toBe('invalid_request_error');
  expect(ant.requests).toHaveLength(0);
});

it('serves a name of exactly 256 bytes, and caps the percent-encoded header value', async () => {
  const ascii = `gpt-${'x'.repeat(252)}`;
  const r = await chat(ascii);
  expect(r.response.headers.get('x-tollgate-backend')).toBe(`oai/${ascii}`);
  expect((oai.requests.at(-1)!.body as { model: string }).model).toBe(ascii);
  // 256 UTF-8 bytes, 768 characters once percent-encoded: cut at the cap, never inside an escape.
  const wide = `gpt-${'模'.repeat(84)}`;
  expect(Buffer.byteLength(wide)).toBe(256);
  const w = await chat(wide);
  const header = w.response.headers.get('x-tollgate-backend')!;
  const full = `oai/gpt-${'%E6%A8%A1'.repeat(84)}`;
  expect(header.length).toBeLessThanOrEqual(MAX_HEADER_VALUE);
  expect(header.length).toBeGreaterThan(MAX_HEADER_VALUE - 9);
  expect(full.startsWith(header)).toBe(true);
  expect(header).toMatch(/(%[0-9A-F]{2})+$/);
  expect((oai.requests.at(-1)!.body as { model: string }).model).toBe(wide);
  expect(w.data.choices[0]!.message.content).toBeTruthy();
});
