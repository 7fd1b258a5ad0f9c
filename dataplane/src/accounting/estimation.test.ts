/**
 * Usage estimation at finish: the provider reported no usage → input from the request and output from the
 * completion text the client got, marked estimated and priced; usage reported → no estimation at all (the
 * access line is written synchronously, before finish returns).
 */
import type { GatewayConfig, ProviderConfig, RouteConfig } from '../../../contract/gateway-config.js';
import type { FinishInfo, RequestInfo } from '../pipeline/hooks.js';
import type { AccessRecord } from '../telemetry/access-log.js';
import { countTokens } from './estimate.js';
import { AccountingHooks } from './hooks.js';

const provider = {
  id: 'ai/oa',
  name: 'oa',
  type: 'openai',
  models: [{ name: 'gpt-4o', pricing: { input: 2.5, output: 10 } }],
} as unknown as ProviderConfig;
const route = {
  id: 'ai/chat',
  models: [{ name: 'gpt-4o', prefix: false }],
  backends: [{ provider: 'ai/oa' }],
} as unknown as RouteConfig;
const config = { providers: [provider], routes: [route], quotaPolicies: [] } as unknown as GatewayConfig;

const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'count to three please' }] };
const req: RequestInfo = {
  clientFormat: 'openai',
  operation: 'chat',
  stream: true,
  model: 'gpt-4o',
  route,
  key: undefined,
  body,
  startedAt: performance.now(),
};

function finishInfo(over: Partial<FinishInfo>): FinishInfo {
  return {
    status: 200,
    errorCode: undefined,
    usage: undefined,
    responseModel: 'gpt-4o',
    attempts: 1,
    route,
    provider,
    upstreamModel: 'gpt-4o',
    backend: 'oa/gpt-4o',
    key: undefined,
    clientAborted: false,
    endedAt: performance.now(),
    firstByteAt: undefined,
    ...over,
  };
}

function setup(): { acc: AccountingHooks; lines: AccessRecord[] } {
  const lines: AccessRecord[] = [];
  const acc = new AccountingHooks({ accessLog: (r) => lines.push(r) });
  acc.applyConfig(config);
  return { acc, lines };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('usage estimation at finish', () => {
  test('a stream cut before its usage: input and output estimated, marked, priced', async () => {
    const { acc, lines } = setup();
    const obs = acc.observe(req, await acc.admission.admit(req));
    obs.finish(finishInfo({ errorCode: 'upstream_bad_response', outputText: 'one two three' }));
    await until(() => lines.length > 0);
    const line = lines[0]!;
    expect(line.usage_estimated).toBe(true);
    expect(line.output_tokens).toBe(await countTokens('one two three', 'gpt-4o'));
    expect(line.output_tokens).toBeGreaterThan(0);
    expect(line.input_tokens).toBeGreaterThan(await countTokens('count to three please', 'gpt-4o'));
    const expectedUsd = ((line.input_tokens as number) * 2.5 + (line.output_tokens as number) * 10) / 1e6;
    expect(line.cost_usd).toBeCloseTo(expectedUsd, 9);
    expect(acc.metricsText()).toContain('tollgate_estimated_usage_total{backend="oa/gpt-4o"} 1');
    await acc.close();
  });

  test('no usage and no output text: output 0, input still estimated', async () => {
    const { acc, lines } = setup();
    acc.observe(req, await acc.admission.admit(req)).finish(finishInfo({}));
    await until(() => lines.length > 0);
    expect(lines[0]!.usage_estimated).toBe(true);
    expect(lines[0]!.output_tokens).toBe(0);
    expect(lines[0]!.input_tokens).toBeGreaterThan(0);
    await acc.close();
  });

  test('usage reported: no estimation (the line is written before finish returns)', async () => {
    const { acc, lines } = setup();
    const usage = {
      inputTokens: 5,
      outputTokens: 7,
      cachedInputTokens: 0,
      cacheCreationTokens: 0,
      reasoningTokens: 0,
      estimated: false,
    };
    acc.observe(req, await acc.admission.admit(req)).finish(finishInfo({ usage }));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.usage_estimated).toBeUndefined();
    expect(lines[0]!.input_tokens).toBe(5);
    expect(lines[0]!.output_tokens).toBe(7);
    expect(acc.metricsText()).not.toContain('tollgate_estimated_usage_total{');
    await acc.close();
  });
});
