/**
 * docs/routing.md "Retries": a request that failed on every try (nothing was served) is reported with no
 * usage and no cost: neither estimated nor charged. (A stream cut after its first byte was served in part and
 * is estimated: test/accounting/gateway-accounting.test.ts.) Real accounting hooks, the official SDK.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { type AccountingHooks, createAccounting } from '../../dataplane/src/accounting/hooks.js';
import type { AccessRecord } from '../../dataplane/src/telemetry/access-log.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

let up: FakeUpstream;
let acc: AccountingHooks;
let gw: TestGateway;
const access: AccessRecord[] = [];

beforeAll(async () => {
  up = await FakeUpstream.start('p');
  acc = await createAccounting({ accessLog: (r) => access.push(r), env: {} });
  const p = provider({ name: 'p', baseUrl: up.openaiBaseUrl });
  p.models = [{ name: 'gpt-4o', pricing: { input: 2.5, output: 10 } }];
  gw = await startGateway(
    gatewayConfig({
      providers: [p],
      routes: [route({ name: 'r', models: ['gpt-4o'], attempts: 2, backends: [{ provider: 'p' }] })],
    }),
    { hooks: acc },
  );
});

afterAll(async () => {
  await gw.close();
  await acc.close();
  await up.close();
});

/** The access line of the one request made since `from` (it is written when the request's accounting ends). */
async function lineAfter(from: number): Promise<AccessRecord> {
  for (let i = 0; i < 200 && access.length <= from; i++) await new Promise((r) => setTimeout(r, 10));
  expect(access).toHaveLength(from + 1);
  return access[from]!;
}

const down = { kind: 'json' as const, status: 500, body: { error: { message: 'down', type: 'server_error' } } };

it('a request whose every try failed is neither estimated nor charged', async () => {
  const client = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  up.enqueue(down, down);
  const from = access.length;
  await expect(
    client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'count to three' }] }),
  ).rejects.toMatchObject({ status: 502 });
  const line = await lineAfter(from);
  expect(line.status).toBe(502);
  expect(line.attempts).toBe(2);
  expect(line.usage_estimated).toBeUndefined();
  expect(line.input_tokens ?? 0).toBe(0);
  expect(line.output_tokens ?? 0).toBe(0);
  expect(line.cost_usd ?? 0).toBe(0);
});

it('a stream whose every try failed before its first byte is neither estimated nor charged', async () => {
  const client = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  up.enqueue({ kind: 'reset' }, { kind: 'reset' });
  const from = access.length;
  await expect(
    client.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'count to three' }],
    }),
  ).rejects.toMatchObject({ status: 502 });
  const line = await lineAfter(from);
  expect(line.status).toBe(502);
  expect(line.usage_estimated).toBeUndefined();
  expect(line.input_tokens ?? 0).toBe(0);
  expect(line.cost_usd ?? 0).toBe(0);
});
