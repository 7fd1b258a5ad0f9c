/** Routing, retries, fallback, timeouts, health and streaming guarantees, driven by the official SDKs. */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { RouteConfig } from '../../contract/gateway-config.js';
import type { GatewayOptions } from '../../dataplane/src/server/gateway.js';
import { FakeUpstream, openAiStream } from '../support/fake-upstream.js';
import { apiKey, gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function upstreams(...names: string[]): Promise<FakeUpstream[]> {
  const out: FakeUpstream[] = [];
  for (const n of names) {
    const f = await FakeUpstream.start(n);
    cleanups.push(() => f.close());
    out.push(f);
  }
  return out;
}

async function gateway(
  ups: FakeUpstream[],
  routes: RouteConfig[],
  options: GatewayOptions = {},
  extra: { providers?: ReturnType<typeof provider>[]; apiKeys?: ReturnType<typeof apiKey>[] } = {},
): Promise<{ gw: TestGateway; client: OpenAI }> {
  const gw = await startGateway(
    gatewayConfig({
      providers: [...ups.map((u) => provider({ name: u.name, baseUrl: u.openaiBaseUrl })), ...(extra.providers ?? [])],
      routes,
      apiKeys: extra.apiKeys,
      requireKeys: extra.apiKeys !== undefined,
    }),
    options,
  );
  cleanups.push(() => gw.close());
  return { gw, client: new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 }) };
}

const chat = (client: OpenAI, model = 'gpt-4o') =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('backend choice', () => {
  it('splits traffic by weight within a tier (loose statistical bounds)', async () => {
    const [a, b] = await upstreams('a', 'b');
    const { client } = await gateway(
      [a!, b!],
      [
        route({
          name: 'r',
          models: ['gpt-4o'],
          backends: [
            { provider: 'a', weight: 3 },
            { provider: 'b', weight: 1 },
          ],
        }),
      ],
    );
    const n = 200;
    for (let i = 0; i < n; i++) await chat(client);
    const share = a!.requests.length / n;
    expect(a!.requests.length + b!.requests.length).toBe(n);
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.9);
  });

  it('routes by header condition, exact model over prefix, longer prefix over shorter', async () => {
    const [team, exact, long, short] = await upstreams('team', 'exact', 'long', 'short');
    const { client } = await gateway(
      [team!, exact!, long!, short!],
      [
        route({ name: 'short', models: ['gpt*'], backends: [{ provider: 'short' }] }),
        route({ name: 'long', models: ['gpt-4o*'], backends: [{ provider: 'long' }] }),
        route({ name: 'exact', models: ['gpt-4o'], backends: [{ provider: 'exact' }] }),
        route({
          name: 'team',
          models: ['gpt-4o'],
          headers: [{ name: 'x-team', value: 'research' }],
          backends: [{ provider: 'team' }],
        }),
      ],
    );
    expect((await chat(client)).response.headers.get('x-tollgate-route')).toBe('ai/exact');
    expect((await chat(client, 'gpt-4o-mini')).response.headers.get('x-tollgate-route')).toBe('ai/long');
    expect((await chat(client, 'gpt-3.5-turbo')).response.headers.get('x-tollgate-route')).toBe('ai/short');
    const r = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-team': 'research' } })
      .withResponse();
    expect(r.response.headers.get('x-tollgate-route')).toBe('ai/team');
    expect(r.data.choices[0]!.message.content).toBe('hello from team');
  });

  it('scopes routes to the key namespace and checks keys', async () => {
    const [a, b] = await upstreams('a', 'b');
    const { gw } = await gateway(
      [a!],
      [
        route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'a' }] }),
        route({ name: 'r', namespace: 'team2', models: ['gpt-4o'], backends: [{ provider: 'b' }] }),
      ],
      {},
      {
        providers: [provider({ name: 'b', namespace: 'team2', baseUrl: b!.openaiBaseUrl })],
        apiKeys: [apiKey('ai/k1', 'key-one'), apiKey('team2/k2', 'key-two')],
      },
    );
    const as = (key: string) => new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: key, maxRetries: 0 });
    expect((await chat(as('key-one'))).data.choices[0]!.message.content).toBe('hello from a');
    expect((await chat(as('key-two'))).data.choices[0]!.message.content).toBe('hello from b');
    await expect(chat(as('wrong'))).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    const missing = await fetch(`${gw.openaiBaseURL}/chat/completions`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('missing_api_key');
    const viaXApiKey = await fetch(`${gw.openaiBaseURL}/models`, { headers: { 'x-api-key': 'key-two' } });
    expect(((await viaXApiKey.json()) as { data: unknown[] }).data).toHaveLength(1);
  });
});

describe('retries and fallback', () => {
  const twoTiers = (on?: RouteConfig['retry']['on'], attempts = 3) =>
    route({
      name: 'r',
      models: ['gpt-4o'],
      attempts,
      on,
      backends: [
        { provider: 'primary', priority: 0 },
        { provider: 'fallback', priority: 1 },
      ],
    });

  it('falls back to the next tier on 500 and on 429', async () => {
    const [p, f] = await upstreams('primary', 'fallback');
    const { client } = await gateway([p!, f!], [twoTiers()]);
    p!.enqueue({ kind: 'json', status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    const r = await chat(client);
    expect(r.data.choices[0]!.message.content).toBe('hello from fallback');
    expect(r.response.headers.get('x-tollgate-attempts')).toBe('2');
    expect(r.response.headers.get('x-tollgate-backend')).toBe('fallback/gpt-4o');
    p!.enqueue({ kind: 'json', status: 429, body: { error: { message: 'slow down', type: 'rate_limit_error' } } });
    expect((await chat(client)).data.choices[0]!.message.content).toBe('hello from fallback');
  });

  it("fails over when the provider rejects the gateway's credential (401/403), and answers 502, never 401", async () => {
    const [p, f] = await upstreams('primary', 'fallback');
    const { client } = await gateway(
      [p!, f!],
      [twoTiers(['5xx']), route({ name: 'solo', models: ['solo'], backends: [{ provider: 'primary' }], attempts: 1 })],
    );
    const denied = (status: number, message: string) => ({
      kind: 'json' as const,
      status,
      body: { error: { message, type: 'invalid_request_error', code: 'invalid_api_key' } },
    });
    p!.enqueue(denied(401, 'Incorrect API key provided'));
    const r = await chat(client);
    expect(r.data.choices[0]!.message.content).toBe('hello from fallback');
    expect(r.response.headers.get('x-tollgate-attempts')).toBe('2');
    p!.enqueue(denied(403, 'project has no access'));
    expect((await chat(client)).data.choices[0]!.message.content).toBe('hello from fallback');
    // With nowhere to fail over to, the client learns the gateway's credential is at fault, not its own key.
    p!.enqueue(denied(401, 'Incorrect API key provided'));
    const e = (await chat(client, 'solo').catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(502);
    expect(e.code).toBe('upstream_error');
    expect(e.message).toContain(`provider "ai/primary" rejected the gateway's credential (401): Incorrect API key`);
    // Another 4xx is the request's fault: passed through, not retried.
    p!.enqueue(denied(400, 'bad temperature'));
    const bad = (await chat(client).catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect(bad.status).toBe(400);
    expect(bad.headers?.get('x-tollgate-attempts')).toBe('1');
  });

  it('falls back when the primary refuses connections or times out', async () => {
    const [f, hang] = await upstreams('fallback', 'hang');
    const port = await closedPort();
    const { client } = await gateway(
      [f!],
      [
        twoTiers(),
        route({
          name: 'slow',
          models: ['slow'],
          backends: [
            { provider: 'hang', priority: 0 },
            { provider: 'fallback', priority: 1 },
          ],
        }),
      ],
      {},
      {
        providers: [
          provider({ name: 'primary', baseUrl: `http://127.0.0.1:${port}/v1` }),
          provider({ name: 'hang', baseUrl: hang!.openaiBaseUrl, requestTimeoutMs: 300 }),
        ],
      },
    );
    const r = await chat(client);
    expect(r.data.choices[0]!.message.content).toBe('hello from fallback');
    expect(r.response.headers.get('x-tollgate-attempts')).toBe('2');
    hang!.enqueue({ kind: 'hang' });
    const s = await chat(client, 'slow');
    expect(s.data.choices[0]!.message.content).toBe('hello from fallback');
    await hang!.requests[0]!.done;
    expect(hang!.requests[0]!.aborted).toBe(true);
  });

  it('does not retry conditions not listed in retry.on, and stops at retry.attempts', async () => {
    const [p, f] = await upstreams('primary', 'fallback');
    const { gw } = await gateway(
      [p!, f!],
      [
        twoTiers(['5xx'], 2),
        route({
          name: 'one',
          models: ['one'],
          attempts: 2,
          backends: [{ provider: 'primary' }, { provider: 'fallback', priority: 1 }],
        }),
      ],
    );
    const client = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    p!.enqueue({ kind: 'json', status: 429, body: { error: { message: 'limited', type: 'rate_limit_error' } } });
    const e = await chat(client).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((e as InstanceType<typeof OpenAI.APIError>).headers?.get('x-tollgate-attempts')).toBe('1');
    expect(f!.requests).toHaveLength(0);
    const err500 = {
      kind: 'json' as const,
      status: 502,
      body: { error: { message: 'bad gateway', type: 'server_error' } },
    };
    p!.enqueue(err500);
    f!.enqueue(err500, err500);
    const e2 = (await chat(client, 'one').catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect(e2.status).toBe(502);
    expect(e2.message).toContain('bad gateway');
    expect(e2.headers?.get('x-tollgate-attempts')).toBe('2');
    expect(p!.requests.length + f!.requests.length).toBe(3); // 1 from the 429 case + 2 tries
  });

  it('honours Retry-After on the same backend when it fits the budget, and gives up when it does not', async () => {
    const [p] = await upstreams('primary');
    const { client } = await gateway(
      [p!],
      [
        route({
          name: 'r',
          models: ['gpt-4o'],
          backends: [{ provider: 'primary' }],
          backoffBaseMs: 1,
          backoffMaxMs: 1,
        }),
        route({ name: 'short', models: ['short'], timeoutMs: 3000, backends: [{ provider: 'primary' }] }),
      ],
    );
    const limited = (after: string) => ({
      kind: 'json' as const,
      status: 429,
      headers: { 'retry-after': after },
      body: { error: { message: 'rate limited', type: 'rate_limit_error' } },
    });
    p!.enqueue(limited('1'));
    const t0 = Date.now();
    const r = await chat(client);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(r.response.headers.get('x-tollgate-attempts')).toBe('2');
    p!.enqueue(limited('3600'));
    const t1 = Date.now();
    const e = (await chat(client, 'short').catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(429);
    expect(Date.now() - t1).toBeLessThan(2500);
    expect(p!.requests).toHaveLength(3);
  });

  it('answers 504 when the route timeout runs out', async () => {
    const [p] = await upstreams('primary');
    const { client } = await gateway(
      [p!],
      [route({ name: 'r', models: ['gpt-4o'], timeoutMs: 300, backends: [{ provider: 'primary' }] })],
    );
    p!.enqueue({ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' });
    const e = (await chat(client).catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(504);
    expect(e.code).toBe('upstream_timeout');
  });
});

describe('streams', () => {
  it('retries a stream that failed before its first byte, never after', async () => {
    const [p, f] = await upstreams('primary', 'fallback');
    const { client } = await gateway(
      [p!, f!],
      [
        route({
          name: 'r',
          models: ['gpt-4o'],
          backends: [{ provider: 'primary' }, { provider: 'fallback', priority: 1 }],
        }),
      ],
    );
    // Before the first byte: a reset is just a failed try.
    p!.enqueue({ kind: 'reset' });
    let text = '';
    for await (const c of await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    }))
      text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('hello from fallback');
    // After the first byte: the client gets an error event, the fallback is not asked.
    p!.enqueue({ kind: 'sse', chunks: openAiStream('one two three').slice(0, 2), end: 'reset' });
    const before = f!.requests.length;
    const got: string[] = [];
    const consume = async () => {
      for await (const c of await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }))
        got.push(c.choices[0]?.delta.content ?? '');
    };
    await expect(consume()).rejects.toThrow(/connection to provider primary failed/);
    expect(got.join('')).toBe('one ');
    expect(f!.requests.length).toBe(before);
  });

  const twoTier = () =>
    route({
      name: 'r',
      models: ['gpt-4o'],
      backends: [{ provider: 'primary' }, { provider: 'fallback', priority: 1 }],
    });
  const streamText = async (client: OpenAI, got: string[] = []) => {
    for await (const c of await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    }))
      got.push(c.choices[0]?.delta.content ?? '');
    return got.join('');
  };
  const errorEvent = { data: { error: { message: 'overloaded right now', type: 'server_error' } } };

  it('an upstream error event before the first byte is a failed try: retried on the fallback', async () => {
    const [p, f] = await upstreams('primary', 'fallback');
    const { client } = await gateway([p!, f!], [twoTier()]);
    p!.enqueue({ kind: 'sse', chunks: [errorEvent] });
    expect(await streamText(client)).toBe('hello from fallback');
    expect(p!.requests).toHaveLength(1);
    expect(f!.requests).toHaveLength(1);
  });

  it('an upstream error event after the first byte reaches the client as an error event, never retried', async () => {
    const [p, f] = await upstreams('primary', 'fallback');
    const { client } = await gateway([p!, f!], [twoTier()]);
    p!.enqueue({ kind: 'sse', chunks: [...openAiStream('one two').slice(0, 2), errorEvent] });
    const got: string[] = [];
    await expect(streamText(client, got)).rejects.toThrow(/overloaded right now/);
    expect(got.join('')).toBe('one ');
    expect(f!.requests).toHaveLength(0);
  });

  it('aborts the upstream request when the client disconnects', async () => {
    const [p] = await upstreams('primary');
    const { client } = await gateway(
      [p!],
      [route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'primary' }] })],
    );
    p!.enqueue({ kind: 'sse', chunks: openAiStream('a b').slice(0, 2), end: 'hang' });
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { signal: ac.signal },
    );
    for await (const _ of stream) {
      ac.abort();
      break;
    }
    await p!.requests[0]!.done;
    expect(p!.requests[0]!.aborted).toBe(true);
    // And a request still waiting for the upstream's headers is aborted too.
    p!.enqueue({ kind: 'hang' });
    const ac2 = new AbortController();
    const req = client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
      { signal: ac2.signal },
    );
    while (p!.requests.length < 2) await new Promise((r) => setTimeout(r, 10));
    ac2.abort();
    await expect(req).rejects.toThrow();
    await p!.requests[1]!.done;
    expect(p!.requests[1]!.aborted).toBe(true);
  });
});

describe('passive health', () => {
  it('ejects a failing backend for a cool-down, then lets it back', async () => {
    const [p, f] = await upstreams('primary', 'fallback');
    let now = 1_000_000;
    const { client } = await gateway(
      [p!, f!],
      [
        route({
          name: 'r',
          models: ['gpt-4o'],
          attempts: 2,
          backends: [{ provider: 'primary' }, { provider: 'fallback', priority: 1 }],
        }),
      ],
      { health: { failureThreshold: 2, ejectMs: 1000, now: () => now } },
    );
    const fail = { kind: 'json' as const, status: 500, body: { error: { message: 'down', type: 'server_error' } } };
    p!.enqueue(fail, fail);
    await chat(client);
    await chat(client);
    expect(p!.requests).toHaveLength(2);
    // Ejected: the primary is skipped.
    expect((await chat(client)).response.headers.get('x-tollgate-attempts')).toBe('1');
    expect(p!.requests).toHaveLength(2);
    now += 1001;
    const back = await chat(client);
    expect(back.data.choices[0]!.message.content).toBe('hello from primary');
    expect(p!.requests).toHaveLength(3);
  });

  const ejecting = async () => {
    const [p, f] = await upstreams('primary', 'fallback');
    const { client } = await gateway(
      [p!, f!],
      [
        route({
          name: 'r',
          models: ['gpt-4o'],
          attempts: 2,
          backends: [{ provider: 'primary' }, { provider: 'fallback', priority: 1 }],
        }),
      ],
      { health: { failureThreshold: 1, ejectMs: 60_000, now: () => 1_000_000 } },
    );
    /** Which backend the next (plain) request goes to first. */
    const firstAsked = async () => {
      const before = p!.requests.length;
      await chat(client);
      return p!.requests.length > before ? 'primary' : 'fallback';
    };
    return { p: p!, f: f!, client, firstAsked };
  };

  it('a stream broken after its first byte counts against the backend', async () => {
    const { p, client, firstAsked } = await ejecting();
    p.enqueue({ kind: 'sse', chunks: openAiStream('one two three').slice(0, 2), end: 'reset' });
    const stream = client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _ of await stream);
      })(),
    ).rejects.toThrow(/connection to provider primary failed/);
    expect(await firstAsked()).toBe('fallback');
  });

  it('a rejected credential (401/403) counts against the backend, like a 5xx', async () => {
    for (const status of [401, 403]) {
      const { p, f, client, firstAsked } = await ejecting();
      p.enqueue({
        kind: 'json',
        status,
        body: { error: { message: 'Incorrect API key', type: 'invalid_request_error' } },
      });
      expect((await chat(client)).data.choices[0]!.message.content).toBe('hello from fallback');
      expect(await firstAsked()).toBe('fallback');
      expect(f.requests).toHaveLength(2);
    }
  });

  it('a 429 or another 4xx does not count against the backend', async () => {
    const { p, client, firstAsked } = await ejecting();
    p.enqueue({ kind: 'json', status: 429, body: { error: { message: 'slow down', type: 'rate_limit_error' } } });
    expect((await chat(client)).data.choices[0]!.message.content).toBe('hello from fallback');
    expect(await firstAsked()).toBe('primary');
    p.enqueue({
      kind: 'json',
      status: 400,
      body: { error: { message: 'bad temperature', type: 'invalid_request_error' } },
    });
    await expect(chat(client)).rejects.toMatchObject({ status: 400 });
    expect(await firstAsked()).toBe('primary');
  });

  it('tries ejected backends anyway when all of them are ejected (panic)', async () => {
    const [p] = await upstreams('primary');
    const { client } = await gateway(
      [p!],
      [route({ name: 'r', models: ['gpt-4o'], attempts: 1, backends: [{ provider: 'primary' }] })],
      { health: { failureThreshold: 1, ejectMs: 60_000 } },
    );
    p!.enqueue({ kind: 'json', status: 500, body: { error: { message: 'down', type: 'server_error' } } });
    await expect(chat(client)).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
    expect((await chat(client)).data.choices[0]!.message.content).toBe('hello from primary');
  });
});
