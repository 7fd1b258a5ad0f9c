/**
 * Provider capacity through the gateway (in process, in-process counters): a backend out of capacity is
 * skipped for the next tier, none left is a 429 capacity_exhausted in the client's format, and the upstream's
 * rate-limit headers send the next requests elsewhere until their reset. Official SDKs over real HTTP.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import OpenAI from 'openai';
import type { ProviderConfig } from '../../contract/gateway-config.js';
import { AccountingHooks } from '../../dataplane/src/accounting/hooks.js';
import { noopHooks } from '../../dataplane/src/pipeline/hooks.js';
import type { CapacityGate } from '../../dataplane/src/proxy/types.js';
import type { AccessRecord } from '../../dataplane/src/telemetry/access-log.js';
import { anthropicMessage, FakeUpstream, openAiCompletion, openAiStream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

jest.setTimeout(30_000);

const MIN = 60_000;

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('provider capacity (gateway, in process)', () => {
  let a: FakeUpstream;
  let b: FakeUpstream;
  let gw: TestGateway | undefined;
  let hooks: AccountingHooks | undefined;
  const lines: AccessRecord[] = [];

  beforeAll(async () => {
    a = await FakeUpstream.start('a');
    b = await FakeUpstream.start('b');
  });
  afterEach(async () => {
    await gw?.close();
    await hooks?.close();
    gw = undefined;
    hooks = undefined;
    a.reset();
    b.reset();
    lines.length = 0;
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  async function start(pa: ProviderConfig, pb: ProviderConfig): Promise<{ openai: OpenAI; anthropic: Anthropic }> {
    hooks = new AccountingHooks({ accessLog: (l) => lines.push(l) });
    gw = await startGateway(
      gatewayConfig({
        providers: [pa, pb],
        routes: [
          route({
            name: 'chat',
            models: ['gpt-4o'],
            backends: [
              { provider: 'a', priority: 0 },
              { provider: 'b', priority: 1 },
            ],
          }),
        ],
      }),
      { hooks },
    );
    return {
      openai: new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 }),
      anthropic: new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 }),
    };
  }

  const chat = (c: OpenAI) =>
    c.chat.completions
      .create({ model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse()
      .then((r) => r.response.headers.get('x-tollgate-backend'));

  test('a request limit: tier 0 serves exactly N, the rest go to tier 1; both out: 429 with retry-after', async () => {
    const limits = [{ kind: 'requests' as const, amount: 2, window: { type: 'sliding' as const, ms: MIN } }];
    const { openai, anthropic } = await start(
      { ...provider({ name: 'a', baseUrl: a.openaiBaseUrl }), limits },
      { ...provider({ name: 'b', baseUrl: b.openaiBaseUrl }), limits },
    );
    const served: (string | null)[] = [];
    for (let i = 0; i < 4; i++) served.push(await chat(openai));
    expect(served).toEqual(['a/gpt-4o', 'a/gpt-4o', 'b/gpt-4o', 'b/gpt-4o']);
    expect(a.requests).toHaveLength(2);
    expect(b.requests).toHaveLength(2);
    // Every backend out of capacity: no upstream call, a 429 in each client's format.
    const oerr = await chat(openai).catch((e: unknown) => e);
    expect(oerr).toBeInstanceOf(OpenAI.RateLimitError);
    const retryAfter = Number((oerr as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(61);
    expect((oerr as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('no backend has provider capacity');
    const aerr = await anthropic.messages
      .create({ model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(aerr).toBeInstanceOf(Anthropic.RateLimitError);
    expect((aerr as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error' },
    });
    expect(a.requests).toHaveLength(2);
    expect(b.requests).toHaveLength(2);
    // Reported: the access log and the metric name the skipped backends and why.
    expect(lines.map((l) => l.skipped)).toEqual([
      undefined,
      undefined,
      'a/gpt-4o:capacity',
      'a/gpt-4o:capacity',
      'a/gpt-4o:capacity,b/gpt-4o:capacity',
      'a/gpt-4o:capacity,b/gpt-4o:capacity',
    ]);
    expect(lines.slice(4).map((l) => [l.status, l.error])).toEqual([
      [429, 'capacity_exhausted'],
      [429, 'capacity_exhausted'],
    ]);
    const metrics = hooks!.metricsText();
    expect(metrics).toContain('tollgate_backend_skipped_total{backend="a/gpt-4o",reason="capacity"} 4');
    expect(metrics).toContain('tollgate_backend_skipped_total{backend="b/gpt-4o",reason="capacity"} 2');
  });

  test.each([
    {
      family: 'OpenAI',
      type: 'openai' as const,
      reply: () => ({
        kind: 'json' as const,
        body: openAiCompletion('near the limit'),
        headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s500ms' },
      }),
    },
    {
      family: 'Anthropic',
      type: 'anthropic' as const,
      reply: () => ({
        kind: 'json' as const,
        body: anthropicMessage('near the limit'),
        headers: {
          'anthropic-ratelimit-tokens-remaining': '0',
          'anthropic-ratelimit-tokens-reset': new Date(Date.now() + 1500).toISOString(),
        },
      }),
    },
  ])(
    '$family rate-limit headers near zero send the next requests to the other backend until the reset',
    async ({ type, reply }) => {
      const { openai } = await start(
        {
          ...provider({ name: 'a', baseUrl: type === 'openai' ? a.openaiBaseUrl : a.anthropicBaseUrl, type }),
          limits: [],
        },
        provider({ name: 'b', baseUrl: b.openaiBaseUrl }),
      );
      a.enqueue(reply());
      expect(await chat(openai)).toBe('a/gpt-4o');
      const learnedAt = Date.now();
      const before: (string | null)[] = [];
      for (let i = 0; i < 3; i++) before.push(await chat(openai));
      const stillBefore = Date.now() < learnedAt + 1400;
      expect(before).toEqual(['b/gpt-4o', 'b/gpt-4o', 'b/gpt-4o']);
      expect(stillBefore).toBe(true);
      expect(lines[1]!.skipped).toBe('a/gpt-4o:rate_limit_headers');
      // After the reset the first backend serves again.
      await until('backend a again', async () => ((await chat(openai)) === 'a/gpt-4o' ? true : undefined));
      expect(Date.now() - learnedAt).toBeGreaterThanOrEqual(1400);
      expect(a.requests).toHaveLength(2);
      expect(hooks!.metricsText()).toContain(
        'tollgate_backend_skipped_total{backend="a/gpt-4o",reason="rate_limit_headers"}',
      );
    },
  );

  test('providers without limits take the old path: the capacity service holds nothing for them', async () => {
    const { openai } = await start(
      provider({ name: 'a', baseUrl: a.openaiBaseUrl }),
      provider({ name: 'b', baseUrl: b.openaiBaseUrl }),
    );
    a.enqueue({
      kind: 'json',
      body: openAiCompletion('x'),
      headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m' },
    });
    // No limits declared: headers are not heeded, nothing is counted.
    expect(await chat(openai)).toBe('a/gpt-4o');
    expect(await chat(openai)).toBe('a/gpt-4o');
    expect(hooks!.capacity.active).toBe(false);
    expect(lines.every((l) => l.skipped === undefined)).toBe(true);
  });

  test('the benchmark-shaped config (providers without limits) never calls the capacity gate; one with limits does per try', async () => {
    const calls = { admit: 0, learn: 0, estimate: 0 };
    const spy: CapacityGate = {
      admit: () => {
        calls.admit++;
        return { settle: () => Promise.resolve() };
      },
      estimate: () => {
        calls.estimate++;
        return 1;
      },
      learn: () => {
        calls.learn++;
      },
    };
    const run = async (pa: ProviderConfig) => {
      const g = await startGateway(
        gatewayConfig({
          providers: [pa],
          routes: [route({ name: 'chat', models: ['gpt-4o'], backends: [{ provider: 'a' }] })],
        }),
        { hooks: { ...noopHooks, capacity: spy } },
      );
      const c = new OpenAI({ baseURL: g.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
      for (let i = 0; i < 3; i++) await chat(c);
      await g.close();
    };
    await run(provider({ name: 'a', baseUrl: a.openaiBaseUrl, type: 'openai-compatible' }));
    expect(calls).toEqual({ admit: 0, learn: 0, estimate: 0 });
    await run({ ...provider({ name: 'a', baseUrl: a.openaiBaseUrl, type: 'openai-compatible' }), limits: [] });
    expect(calls).toEqual({ admit: 3, learn: 3, estimate: 3 });
  });

  test('an ejected backend passed over by the first pick is reported as an unhealthy skip', async () => {
    hooks = new AccountingHooks({ accessLog: (l) => lines.push(l) });
    gw = await startGateway(
      gatewayConfig({
        providers: [
          provider({ name: 'a', baseUrl: a.openaiBaseUrl }),
          provider({ name: 'b', baseUrl: b.openaiBaseUrl }),
        ],
        routes: [
          route({
            name: 'chat',
            models: ['gpt-4o'],
            backends: [
              { provider: 'a', priority: 0 },
              { provider: 'b', priority: 1 },
            ],
          }),
        ],
      }),
      { hooks, health: { failureThreshold: 1, ejectMs: 60_000 } },
    );
    const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    a.enqueue({ kind: 'json', status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    // The 500 ejects a (threshold 1) and the retry goes to b; the next request passes a over from the start.
    expect(await chat(openai)).toBe('b/gpt-4o');
    expect(await chat(openai)).toBe('b/gpt-4o');
    expect(lines.map((l) => l.skipped)).toEqual([undefined, 'a/gpt-4o:unhealthy']);
    expect(hooks.metricsText()).toContain('tollgate_backend_skipped_total{backend="a/gpt-4o",reason="unhealthy"} 1');
  });

  test('a streamed try settles to the tokens the stream reported; a failed try to none', async () => {
    const limits = [{ kind: 'tokens' as const, amount: 100_000, window: { type: 'sliding' as const, ms: MIN } }];
    const { openai } = await start(
      { ...provider({ name: 'a', baseUrl: a.openaiBaseUrl }), limits },
      { ...provider({ name: 'b', baseUrl: b.openaiBaseUrl }), limits },
    );
    a.enqueue({ kind: 'sse', chunks: openAiStream('streamed answer') });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      max_tokens: 16,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed answer');
    await until('stream settled', async () => {
      const [u] = await hooks!.capacity.usage('ai/a');
      return u?.used === 12 ? true : undefined;
    });
    // a fails (500), b answers: a's counter keeps its 12, b's gets the real 12.
    a.enqueue({ kind: 'json', status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    expect(await chat(openai)).toBe('b/gpt-4o');
    await until('failed try settled', async () => {
      const [ua] = await hooks!.capacity.usage('ai/a');
      const [ub] = await hooks!.capacity.usage('ai/b');
      return ua?.used === 12 && ub?.used === 12 ? true : undefined;
    });
  });
});
