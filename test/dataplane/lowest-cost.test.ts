/**
 * spec.loadBalancing: lowest-cost over real HTTP (official openai SDK): within a tier, the backend with the
 * cheapest declared price for the request's expected tokens answers; once its provider has no capacity left
 * (spec.limits, ADR 0063), the next cheapest of the tier does, and a backend without a price comes last.
 */
import { afterEach, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { ProviderConfig } from '../../contract/gateway-config.js';
import { AccountingHooks } from '../../dataplane/src/accounting/hooks.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const priced = (p: ProviderConfig, input: number, output: number): ProviderConfig => ({
  ...p,
  models: [{ name: 'gpt-4o', pricing: { input, output } }],
});

async function setup(cheapLimit: number | undefined) {
  const ups: FakeUpstream[] = [];
  for (const name of ['dear', 'cheap', 'unpriced']) {
    const u = await FakeUpstream.start(name);
    cleanups.push(() => u.close());
    ups.push(u);
  }
  const [dear, cheap, unpriced] = ups as [FakeUpstream, FakeUpstream, FakeUpstream];
  const limits =
    cheapLimit === undefined
      ? undefined
      : [{ kind: 'requests' as const, amount: cheapLimit, window: { type: 'sliding' as const, ms: 60_000 } }];
  const hooks = new AccountingHooks({ accessLog: () => {} });
  cleanups.push(() => hooks.close());
  const gw = await startGateway(
    gatewayConfig({
      providers: [
        priced(provider({ name: 'dear', baseUrl: dear.openaiBaseUrl }), 5, 15),
        { ...priced(provider({ name: 'cheap', baseUrl: cheap.openaiBaseUrl }), 0.15, 0.6), ...(limits && { limits }) },
        provider({ name: 'unpriced', baseUrl: unpriced.openaiBaseUrl }),
      ],
      routes: [
        {
          ...route({
            name: 'r',
            models: ['gpt-4o'],
            // Listed dearest first, so a pick in list order or by weight would not look like lowest-cost.
            backends: [
              { provider: 'unpriced', model: 'gpt-4o' },
              { provider: 'dear', model: 'gpt-4o' },
              { provider: 'cheap', model: 'gpt-4o' },
            ],
          }),
          loadBalancing: 'lowest-cost',
        },
      ],
    }),
    { hooks },
  );
  cleanups.push(() => gw.close());
  const client = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  const ask = async () => {
    const { response } = await client.chat.completions
      .create({ model: 'gpt-4o', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    return response.headers.get('x-tollgate-backend');
  };
  return { dear, cheap, unpriced, ask };
}

it('sends every request to the cheapest priced backend of the tier', async () => {
  const { dear, cheap, unpriced, ask } = await setup(undefined);
  const served = new Set<string | null>();
  for (let i = 0; i < 12; i++) served.add(await ask());
  expect([...served]).toEqual(['cheap/gpt-4o']);
  expect(cheap.requests).toHaveLength(12);
  expect(dear.requests).toHaveLength(0);
  expect(unpriced.requests).toHaveLength(0);
});

it('moves to the next cheapest when the cheapest has no capacity left, never to the unpriced one first', async () => {
  const { dear, cheap, unpriced, ask } = await setup(3);
  const served: (string | null)[] = [];
  for (let i = 0; i < 6; i++) served.push(await ask());
  expect(served).toEqual(['cheap/gpt-4o', 'cheap/gpt-4o', 'cheap/gpt-4o', 'dear/gpt-4o', 'dear/gpt-4o', 'dear/gpt-4o']);
  expect(cheap.requests).toHaveLength(3);
  expect(dear.requests).toHaveLength(3);
  expect(unpriced.requests).toHaveLength(0);
});
