/** The HTTP surface driven by the official SDKs: chat (stream and not) in both client formats to both wires. */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

let oa: FakeUpstream;
let an: FakeUpstream;
let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  oa = await FakeUpstream.start('oa');
  an = await FakeUpstream.start('an');
  gw = await startGateway(
    gatewayConfig({
      providers: [
        provider({ name: 'oa', baseUrl: oa.openaiBaseUrl }),
        provider({ name: 'an', baseUrl: an.anthropicBaseUrl, type: 'anthropic' }),
      ],
      routes: [
        route({ name: 'gpt', models: ['gpt-4o', 'text-embedding-3-small'], backends: [{ provider: 'oa' }] }),
        route({ name: 'claude', models: ['claude*'], backends: [{ provider: 'an', model: 'claude-sonnet-4-5' }] }),
      ],
    }),
  );
  openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw.close();
  await oa.close();
  await an.close();
});

describe('OpenAI client format', () => {
  it('answers a chat completion from an OpenAI-wire provider, with x-tollgate headers', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('hello from oa');
    expect(data.usage?.total_tokens).toBe(12);
    expect(response.headers.get('x-tollgate-route')).toBe('ai/gpt');
    expect(response.headers.get('x-tollgate-backend')).toBe('oa/gpt-4o');
    expect(response.headers.get('x-tollgate-attempts')).toBe('1');
    const sent = oa.requests.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-test');
    expect((sent.body as { model: string }).model).toBe('gpt-4o');
  });

  it('streams a chat completion event by event', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: number | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect(text).toBe('hello from oa');
    expect(usage).toBe(12);
  });

  it('routes an OpenAI request to an Anthropic provider (non-stream and stream)', async () => {
    const r = await openai.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('hello from an');
    expect(an.requests.at(-1)!.path).toBe('/v1/messages');
    expect((an.requests.at(-1)!.body as { model: string }).model).toBe('claude-sonnet-4-5');
    const stream = await openai.chat.completions.create({
      model: 'claude-x',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('hello from an');
  });

  it('serves embeddings', async () => {
    const r = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(r.data).toHaveLength(2);
    expect(oa.requests.at(-1)!.path).toBe('/v1/embeddings');
  });

  it('lists the route models', async () => {
    const page = await openai.models.list();
    expect(page.data.map((m) => m.id).sort()).toEqual(['claude*', 'gpt-4o', 'text-embedding-3-small']);
  });
});

describe('Anthropic client format', () => {
  it('answers a message from an Anthropic-wire provider', async () => {
    const { data, response } = await anthropic.messages
      .create({ model: 'claude-3', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'hello from an' });
    expect(response.headers.get('x-tollgate-backend')).toBe('an/claude-sonnet-4-5');
    expect(an.requests.at(-1)!.headers['x-api-key']).toBe('sk-upstream-test');
  });

  it('streams a message from an Anthropic-wire provider', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-3',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'hello from an' });
    expect(final.usage.output_tokens).toBe(7);
  });

  it('routes an Anthropic request to an OpenAI provider (non-stream and stream)', async () => {
    const m = await anthropic.messages.create({
      model: 'gpt-4o',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(m.content[0]).toMatchObject({ type: 'text', text: 'hello from oa' });
    expect(oa.requests.at(-1)!.path).toBe('/v1/chat/completions');
    const final = await anthropic.messages
      .stream({ model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'hello from oa' });
  });
});

describe('client headers', () => {
  it('forwards anthropic-beta to an Anthropic upstream; never the client key or openai-organization/-project', async () => {
    const beta = 'prompt-caching-2024-07-31';
    await anthropic.messages.create(
      { model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'anthropic-beta': beta } },
    );
    const seen = an.requests.at(-1)!.headers;
    expect(seen['anthropic-beta']).toBe(beta);
    expect(seen['x-api-key']).toBe('sk-upstream-test');
    const org = new OpenAI({
      baseURL: gw.openaiBaseURL,
      apiKey: 'client-key',
      organization: 'org-client',
      project: 'proj-client',
      maxRetries: 0,
    });
    await org.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    const o = oa.requests.at(-1)!.headers;
    expect(o['openai-organization']).toBeUndefined();
    expect(o['openai-project']).toBeUndefined();
    expect(o.authorization).toBe('Bearer sk-upstream-test');
    await org.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] });
    expect(an.requests.at(-1)!.headers['openai-organization']).toBeUndefined();
    expect(an.requests.at(-1)!.headers['anthropic-beta']).toBeUndefined();
  });
});

describe('health endpoints', () => {
  it('healthz is always 200 and readyz is 503 until a config is applied', async () => {
    const bare = await startGateway(undefined);
    try {
      expect((await fetch(`${bare.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${bare.url}/readyz`)).status).toBe(503);
      const r = await fetch(`${bare.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('not_ready');
      bare.gateway.applyConfig(gatewayConfig({ providers: [], routes: [] }));
      expect((await fetch(`${bare.url}/readyz`)).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
