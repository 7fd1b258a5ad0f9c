/**
 * Metric label cardinality: a prefix route with no backend model passes the client's model name upstream;
 * that name must not become a `backend` label value (clients could grow /metrics without bound).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import OpenAI from 'openai';
import { AccountingHooks } from '../../dataplane/src/accounting/hooks.js';
import type { AccessRecord } from '../../dataplane/src/telemetry/access-log.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

let up: FakeUpstream;
let gw: TestGateway;
let acc: AccountingHooks;
const access: AccessRecord[] = [];

beforeAll(async () => {
  up = await FakeUpstream.start('up');
  const oa = provider({ name: 'oa', baseUrl: up.openaiBaseUrl });
  oa.models = [{ name: 'gpt-4o' }];
  const cfg = gatewayConfig({
    providers: [oa],
    routes: [
      route({ name: 'any-gpt', models: ['gpt*'], backends: [{ provider: 'oa' }] }),
      route({ name: 'exact', models: ['listed-model'], backends: [{ provider: 'oa' }] }),
      route({ name: 'fixed', models: ['alias*'], backends: [{ provider: 'oa', model: 'pinned-model' }] }),
    ],
  });
  acc = new AccountingHooks({ accessLog: (r) => access.push(r) });
  gw = await startGateway(cfg, { hooks: acc });
});

afterAll(async () => {
  await gw.close();
  await acc.close();
  await up.close();
});

test('backend label: catalogue, exact and fixed models by name; other client-chosen names as <provider>/*', async () => {
  const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  const ask = (model: string) =>
    openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  const inCatalogue = await ask('gpt-4o');
  expect(inCatalogue.response.headers.get('x-tollgate-backend')).toBe('oa/gpt-4o');
  const free1 = await ask('gpt-made-up-1');
  await ask('gpt-made-up-2');
  await ask('listed-model');
  await ask('alias-whatever');
  // The client still sees which model served it; the access log keeps it too.
  expect(free1.response.headers.get('x-tollgate-backend')).toBe('oa/gpt-made-up-1');
  await new Promise((r) => setTimeout(r, 50));
  expect(access.map((a) => a.backend)).toContain('oa/gpt-made-up-2');

  const res = await fetch(gw.metricsUrl);
  const text = await res.text();
  expect(text).toContain('tollgate_requests_total{route="ai/any-gpt",backend="oa/gpt-4o",code="200"} 1');
  expect(text).toContain('tollgate_requests_total{route="ai/any-gpt",backend="oa/*",code="200"} 2');
  expect(text).toContain('tollgate_requests_total{route="ai/exact",backend="oa/listed-model",code="200"} 1');
  expect(text).toContain('tollgate_requests_total{route="ai/fixed",backend="oa/pinned-model",code="200"} 1');
  expect(text).toContain('tollgate_upstream_attempts_total{backend="oa/*",outcome="ok"} 2');
  expect(text).not.toContain('made-up');
});
