/**
 * The Vertex AI provider (type `vertex-ai`) behind the gateway, driven by the official `openai` and
 * `@anthropic-ai/sdk` clients: a Gemini model (publisher google) and a Claude model (publisher anthropic),
 * streamed and not, in both client formats. The service-account key is generated per run; its token_uri
 * points at a fake OAuth token endpoint that records the JWT assertion (checked with the public key).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { createLogger } from '../../dataplane/src/log.js';
import { CLOUD_PLATFORM_SCOPE, JWT_BEARER_GRANT } from '../../dataplane/src/providers/vertex/service-account.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';
import { decodeJwt, type TestServiceAccount, testServiceAccount } from '../support/vertex-service-account.js';

const PROJECT_PATH = '/v1/projects/test-project/locations/us-east5';
/** What the fake token endpoint (named "oauth") hands out by default. */
const TOKEN = 'ya29.hello-from-oauth';

let vx: FakeUpstream;
let oauth: FakeUpstream;
let badOauth: FakeUpstream;
let sa: TestServiceAccount;
let badSa: TestServiceAccount;
let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;
const logs: string[] = [];

beforeAll(async () => {
  vx = await FakeUpstream.start('vertex');
  oauth = await FakeUpstream.start('oauth');
  badOauth = await FakeUpstream.start('bad-oauth');
  sa = testServiceAccount(`${oauth.url}/token`);
  badSa = testServiceAccount(`${badOauth.url}/token`);
  const base = `${vx.url}${PROJECT_PATH}`;
  gw = await startGateway(
    gatewayConfig({
      providers: [
        provider({ name: 'vx', baseUrl: base, type: 'vertex-ai', credential: sa.json }),
        provider({ name: 'vx-fresh', baseUrl: base, type: 'vertex-ai', credential: sa.json }),
        provider({ name: 'vx-token', baseUrl: base, type: 'vertex-ai', credential: 'ya29.sidecar' }),
        provider({ name: 'vx-bad', baseUrl: base, type: 'vertex-ai', credential: badSa.json }),
      ],
      routes: [
        route({ name: 'gemini', models: ['gemini-*'], backends: [{ provider: 'vx' }], attempts: 1 }),
        route({ name: 'claude', models: ['claude-*'], backends: [{ provider: 'vx' }], attempts: 1 }),
        route({
          name: 'fresh',
          models: ['fresh'],
          backends: [{ provider: 'vx-fresh', model: 'gemini-2.5-flash' }],
          attempts: 1,
        }),
        route({
          name: 'sidecar',
          models: ['sidecar'],
          backends: [{ provider: 'vx-token', model: 'claude-haiku-4-5@20251001' }],
          attempts: 1,
        }),
        route({
          name: 'failover',
          models: ['failover'],
          backends: [
            { provider: 'vx-bad', model: 'gemini-2.5-pro', priority: 0 },
            { provider: 'vx-token', model: 'gemini-2.5-flash', priority: 1 },
          ],
          attempts: 2,
        }),
        route({
          name: 'bad',
          models: ['bad'],
          backends: [{ provider: 'vx-bad', model: 'gemini-2.5-pro' }],
          attempts: 1,
        }),
      ],
    }),
    { logger: createLogger({ level: 'debug', write: (line: string) => logs.push(line) }) },
  );
  openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw.close();
  await vx.close();
  await oauth.close();
  await badOauth.close();
});

beforeEach(() => {
  vx.reset();
  badOauth.reset();
});

/** The error message inside an Anthropic-format error body. */
const anthropicMessage = (e: InstanceType<typeof Anthropic.APIError>): string =>
  (e.error as { error: { message: string } }).error.message;

const succeeded = (): never => {
  throw new Error('expected the call to fail');
};

/** Every exchange the token endpoint saw carried a valid jwt-bearer assertion with the documented claims. */
function expectValidExchanges(): void {
  const tokenRequests = oauth.requests;
  expect(tokenRequests.length).toBeGreaterThan(0);
  for (const r of tokenRequests) {
    expect([r.method, r.path]).toEqual(['POST', '/token']);
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(String(r.body));
    expect(form.get('grant_type')).toBe(JWT_BEARER_GRANT);
    const jwt = decodeJwt(form.get('assertion')!, sa.publicKey);
    expect(jwt.valid).toBe(true);
    expect(jwt.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect(jwt.claims).toEqual({
      iss: sa.clientEmail,
      scope: CLOUD_PLATFORM_SCOPE,
      aud: `${oauth.url}/token`,
      iat: expect.any(Number),
      exp: (jwt.claims.iat as number) + 3600,
    });
  }
}

describe('Gemini models (publisher google)', () => {
  it('OpenAI client: generateContent with a token from the service-account exchange', async () => {
    const res = await openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 30,
    });
    expect(res.choices[0]!.message.content).toBe('hello from vertex');
    expect(res.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 7 });
    const sent = vx.requests.at(-1)!;
    expect(sent.path).toBe(`${PROJECT_PATH}/publishers/google/models/gemini-2.5-flash:generateContent`);
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.headers['x-goog-api-key']).toBeUndefined();
    expect(sent.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      generationConfig: { maxOutputTokens: 30 },
    });
    expectValidExchanges();
  });

  it('OpenAI client, stream: streamGenerateContent?alt=sse', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gemini-2.5-pro',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('hello from vertex');
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 7 });
    const sent = vx.requests.at(-1)!;
    expect(sent.path).toBe(`${PROJECT_PATH}/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse`);
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('Anthropic client: translated to the Gemini body', async () => {
    const msg = await anthropic.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 40,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'hello from vertex' }]);
    const sent = vx.requests.at(-1)!;
    expect(sent.path).toBe(`${PROJECT_PATH}/publishers/google/models/gemini-2.5-flash:generateContent`);
    expect(sent.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      generationConfig: { maxOutputTokens: 40 },
    });
  });
});

describe('Claude models (publisher anthropic)', () => {
  it('Anthropic client: rawPredict, anthropic_version in the body, no model', async () => {
    const msg = await anthropic.messages.create({
      model: 'claude-sonnet-4-5@20250929',
      max_tokens: 50,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'hello from vertex' }]);
    expect(msg.model).toBe('claude-sonnet-4-5@20250929');
    const sent = vx.requests.at(-1)!;
    expect(sent.path).toBe(`${PROJECT_PATH}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`);
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.headers['x-api-key']).toBeUndefined();
    expect(sent.headers['anthropic-version']).toBeUndefined();
    expect(sent.body).toEqual({
      anthropic_version: 'vertex-2023-10-16',
      max_tokens: 50,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });

  it('Anthropic client, stream: streamRawPredict with stream: true, events passed through', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-sonnet-4-5@20250929',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'hello from vertex' }]);
    expect(final.usage).toMatchObject({ input_tokens: 5, output_tokens: 7 });
    const sent = vx.requests.at(-1)!;
    expect(sent.path).toBe(`${PROJECT_PATH}/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict`);
    expect(sent.body).toMatchObject({ anthropic_version: 'vertex-2023-10-16', stream: true });
    expect(sent.body).not.toHaveProperty('model');
  });

  it('OpenAI client, stream: translated to Anthropic Messages and back', async () => {
    const stream = await openai.chat.completions.create({
      model: 'claude-haiku-4-5@20251001',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('hello from vertex');
    expect(finish).toBe('stop');
    const sent = vx.requests.at(-1)!;
    expect(sent.path).toBe(`${PROJECT_PATH}/publishers/anthropic/models/claude-haiku-4-5@20251001:streamRawPredict`);
    expect(sent.body).toEqual({
      anthropic_version: 'vertex-2023-10-16',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      max_tokens: 4096,
      stream: true,
    });
  });

  it('OpenAI client: non-stream', async () => {
    const res = await openai.chat.completions.create({
      model: 'claude-haiku-4-5@20251001',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(res.choices[0]!.message.content).toBe('hello from vertex');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(vx.requests.at(-1)!.path).toMatch(/:rawPredict$/);
  });
});

describe('credentials', () => {
  it('concurrent first requests share one token exchange', async () => {
    const before = oauth.requests.length;
    oauth.enqueue({
      kind: 'json',
      body: { access_token: 'ya29.shared', expires_in: 3599, token_type: 'Bearer' },
      delayMs: 150,
    });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        openai.chat.completions.create({ model: 'fresh', messages: [{ role: 'user', content: 'Hi' }] }),
      ),
    );
    expect(answers.map((a) => a.choices[0]!.message.content)).toEqual(Array(5).fill('hello from vertex'));
    expect(oauth.requests.length - before).toBe(1);
    expect(vx.requests.map((r) => r.headers.authorization)).toEqual(Array(5).fill('Bearer ya29.shared'));
    // Cached: the next request needs no exchange.
    await openai.chat.completions.create({ model: 'fresh', messages: [{ role: 'user', content: 'Hi' }] });
    expect(oauth.requests.length - before).toBe(1);
    expectValidExchanges();
  });

  it('a plain access token in the Secret is sent as the bearer, without an exchange', async () => {
    const before = oauth.requests.length;
    const msg = await anthropic.messages.create({
      model: 'sidecar',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'hello from vertex' }]);
    const sent = vx.requests.at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer ya29.sidecar');
    expect(sent.path).toBe(`${PROJECT_PATH}/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict`);
    expect(oauth.requests.length).toBe(before);
  });

  it('a refused exchange is a 502 naming the provider, in the client format, never quoting the key', async () => {
    badOauth.enqueue({
      kind: 'json',
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
    });
    const err = await openai.chat.completions
      .create({ model: 'bad', messages: [{ role: 'user', content: 'Hi' }] })
      .then(succeeded, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(502);
    expect(e.message).toContain(
      `provider "ai/vx-bad" rejected the gateway's credential (token endpoint answered 400 invalid_grant): Invalid JWT Signature.`,
    );
    expect(badOauth.requests).toHaveLength(1);
    expect(vx.requests).toHaveLength(0);
    const all = logs.join('\n');
    expect(all).not.toContain('PRIVATE KEY');
    expect(all).not.toContain(badSa.json.slice(100, 140));
  });

  it('a refused exchange fails over to the next backend', async () => {
    badOauth.enqueue({ kind: 'json', status: 401, body: { error: 'invalid_client', error_description: 'disabled' } });
    const { data, response } = await openai.chat.completions
      .create({ model: 'failover', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('hello from vertex');
    expect(response.headers.get('x-tollgate-attempts')).toBe('2');
    expect(response.headers.get('x-tollgate-backend')).toBe('vx-token/gemini-2.5-flash');
    expect(vx.requests).toHaveLength(1);
    expect(vx.requests[0]!.headers.authorization).toBe('Bearer ya29.sidecar');
  });

  it('an unreachable token endpoint is a 502 naming the provider', async () => {
    const closed = testServiceAccount('http://127.0.0.1:1/token');
    const gw2 = await startGateway(
      gatewayConfig({
        providers: [
          provider({ name: 'vx', baseUrl: `${vx.url}${PROJECT_PATH}`, type: 'vertex-ai', credential: closed.json }),
        ],
        routes: [route({ name: 'r', models: ['*'], backends: [{ provider: 'vx' }], attempts: 1 })],
      }),
    );
    try {
      const client = new Anthropic({ baseURL: gw2.url, apiKey: 'unused', maxRetries: 0 });
      const err = await client.messages
        .create({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] })
        .then(succeeded, (e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      const e = err as InstanceType<typeof Anthropic.APIError>;
      expect(e.status).toBe(502);
      expect(anthropicMessage(e)).toBe(
        'provider "ai/vx" could not get an access token: token endpoint http://127.0.0.1:1 failed (ECONNREFUSED)',
      );
      expect(vx.requests).toHaveLength(0);
    } finally {
      await gw2.close();
    }
  });

  it('Vertex refusing the token (401 UNAUTHENTICATED) is a 502 credential error', async () => {
    vx.enqueue({
      kind: 'json',
      status: 401,
      body: {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials.',
          status: 'UNAUTHENTICATED',
        },
      },
    });
    const err = await anthropic.messages
      .create({ model: 'claude-sonnet-4-5@20250929', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] })
      .then(succeeded, (e: unknown) => e);
    const e = err as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(502);
    expect(anthropicMessage(e)).toBe(
      `provider "ai/vx" rejected the gateway's credential (401): Request had invalid authentication credentials.`,
    );
  });
});
