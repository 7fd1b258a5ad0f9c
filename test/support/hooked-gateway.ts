/**
 * The setup of the hook tests: one fake OpenAI upstream `up`, one route `r` (gpt-4o → up), a gateway with
 * the given hooks, and an OpenAI SDK client on it (no retries).
 */
import OpenAI from 'openai';
import type { GatewayHooks } from '../../dataplane/src/pipeline/hooks.js';
import { FakeUpstream } from './fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from './gateway.js';

export interface HookedGateway {
  up: FakeUpstream;
  gw: TestGateway;
  client: OpenAI;
  close(): Promise<void>;
}

export async function startHookedGateway(hooks: GatewayHooks): Promise<HookedGateway> {
  const up = await FakeUpstream.start('up');
  const gw = await startGateway(
    gatewayConfig({
      providers: [provider({ name: 'up', baseUrl: up.openaiBaseUrl })],
      routes: [route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'up' }] })],
    }),
    { hooks },
  );
  const client = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  return {
    up,
    gw,
    client,
    close: async () => {
      await gw.close();
      await up.close();
    },
  };
}
