/**
 * Bad input from clients and garbage from upstreams: every kind gets the right status and a body in the
 * client's format, never reaches an upstream when it is the client's fault, and the gateway keeps serving.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream, openAiStream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

const CASSETTES = new URL('../fixtures/cassettes/', import.meta.url).pathname;

let up: FakeUpstream;
let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  up = await FakeUpstream.start('up');
  gw = await startGateway(
    gatewayConfig({
      providers: [provider({ name: 'up', baseUrl: up.openaiBaseUrl, requestTimeoutMs: 500 })],
      routes: [route({ name: 'r', models: ['gpt-4o'], attempts: 1, timeoutMs: 5000, backends: [{ provider: 'up' }] })],
    }),
    { maxBodyBytes: 64 * 1024 },
  );
  openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw.close();
  await up.close();
});

// After every case the gateway still answers a normal request.
afterEach(async () => {
  const r = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'ok?' }] });
  expect(r.choices[0]!.message.content).toBe('hello from up');
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown>, headers: r.headers };
}

const openAiError = (code: string) => ({
  error: expect.objectContaining({ code, type: expect.any(String), message: expect.any(String) }),
});
const anthropicError = (type: string) => ({ type: 'error', error: { type, message: expect.any(String) } });

describe('client mistakes (never reach the upstream)', () => {
  it('malformed JSON → 400 invalid_json in both formats', async () => {
    const before = up.requests.length;
    const o = await post('/v1/chat/completions', '{"model": "gpt-4o", ');
    expect(o.status).toBe(400);
    expect(o.body).toMatchObject(openAiError('invalid_json'));
    const a = await post('/v1/messages', 'not json');
    expect(a.status).toBe(400);
    expect(a.body).toEqual(anthropicError('invalid_request_error'));
    expect(up.requests.length).toBe(before);
  });

  it('a malformed body is not quoted back in the error (it is the prompt)', async () => {
    const prompt = 'summarise the merger memo for ACME';
    const o = await post('/v1/chat/completions', prompt);
    expect(o.status).toBe(400);
    expect(o.body).toMatchObject(openAiError('invalid_json'));
    expect(JSON.stringify(o.body)).toMatch(/not valid JSON/);
    expect(JSON.stringify(o.body)).not.toContain('summari');
  });

  it('missing and mistyped fields → 400 naming the field', async () => {
    await expect(
      openai.chat.completions.create({ model: 'gpt-4o' } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
    ).rejects.toMatchObject({ status: 400, param: 'messages' });
    const wrongType = await post('/v1/chat/completions', JSON.stringify({ model: 42, messages: [] }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject(openAiError('invalid_request'));
    await expect(
      anthropic.messages.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    ).rejects.toMatchObject({ status: 400, error: anthropicError('invalid_request_error') });
    const arr = await post('/v1/chat/completions', '[1,2]');
    expect(arr.status).toBe(400);
  });

  it('a mistake inside a message part → 400 naming its path, in the client format, before any upstream', async () => {
    const before = up.requests.length;
    const e = (await openai.chat.completions
      .create({
        model: 'gpt-4o',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'user', content: [{ type: 'text' }] },
        ],
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect([e.status, e.code, e.param]).toEqual([400, 'invalid_request', 'messages[1].content[0].text']);
    expect(e.message).toContain('messages[1].content[0].text: is required');
    const a = await post(
      '/v1/messages',
      JSON.stringify({
        model: 'gpt-4o',
        max_tokens: 5,
        messages: [{ role: 'assistant', content: [{ type: 'tool_use', name: 'f', input: {} }] }],
      }),
    );
    expect(a.status).toBe(400);
    expect(a.body).toEqual(anthropicError('invalid_request_error'));
    expect(JSON.stringify(a.body)).toContain('messages[0].content[0]: tool_use needs a string id and name');
    expect(up.requests.length).toBe(before);
  });

  it('unknown model → 404 model_not_found naming it', async () => {
    const e = (await openai.chat.completions
      .create({ model: 'nope-1', messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(404);
    expect(e.code).toBe('model_not_found');
    expect(e.message).toContain('nope-1');
    await expect(
      anthropic.messages.create({ model: 'nope-2', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404, error: anthropicError('not_found_error') });
  });

  it('oversized body → 413, by content-length and while reading a chunked body', async () => {
    const big = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });
    const o = await post('/v1/chat/completions', big);
    expect(o.status).toBe(413);
    expect(o.body).toMatchObject(openAiError('body_too_large'));
    const a = await post('/v1/messages', big);
    expect(a.status).toBe(413);
    expect(a.body).toEqual(anthropicError('request_too_large'));
    // Chunked: no content-length, the limit trips while reading.
    const enc = new TextEncoder().encode(big);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < enc.length; i += 8192) c.enqueue(enc.slice(i, i + 8192));
        c.close();
      },
    });
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
  });

  it('unknown path → 404 and wrong method → 405, in the client format of the path', async () => {
    const r = await fetch(`${gw.url}/v1/nothing`);
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject(openAiError('not_found'));
    const m = await fetch(`${gw.url}/v1/messages`);
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('POST');
    expect(await m.json()).toEqual(anthropicError('invalid_request_error'));
    const c = await fetch(`${gw.url}/v1/models`, { method: 'DELETE' });
    expect(c.status).toBe(405);
  });
});

describe('upstream garbage', () => {
  it('invalid JSON from the upstream → 502 upstream_bad_response', async () => {
    up.enqueue({ kind: 'raw', body: '{"choices": [' });
    await expect(
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 502, code: 'upstream_bad_response' });
    up.enqueue({ kind: 'raw', body: '<html>oops</html>' });
    await expect(
      anthropic.messages.create({ model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 502, error: anthropicError('api_error') });
  });

  it('an upstream error keeps its message in the client format (cassettes)', async () => {
    up.enqueueCassette(`${CASSETTES}openai/error-400.json`);
    const e = (await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(400);
    up.enqueueCassette(`${CASSETTES}openai/error-502-html.json`);
    await expect(
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 502 });
  });

  it('a reset before and during the body → 502 upstream_error', async () => {
    up.enqueue({ kind: 'reset' });
    await expect(
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
    up.enqueue({ kind: 'reset', when: 'mid-body' });
    await expect(
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 502 });
  });

  it('a truncated stream ends the client stream with an error event (OpenAI and Anthropic clients)', async () => {
    up.enqueueCassette(`${CASSETTES}openai/chat-stream-truncated.json`);
    let text = '';
    const consume = async () => {
      for await (const c of await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      }))
        text += c.choices[0]?.delta.content ?? '';
    };
    await expect(consume()).rejects.toThrow(/ended before its final event/);
    expect(text.length).toBeGreaterThan(0);
    up.enqueue({ kind: 'sse', chunks: openAiStream('one two three').slice(0, 3) });
    const s = anthropic.messages.stream({ model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    await expect(s.finalMessage()).rejects.toThrow(/ended before its final event/);
  });

  it('an invalid stream event after the first byte ends the stream with an error event', async () => {
    const chunks = openAiStream('one two').slice(0, 2);
    chunks.push({ raw: 'data: {not json\n\n', delayMs: 20 });
    up.enqueue({ kind: 'sse', chunks, end: 'hang' });
    const consume = async () => {
      for await (const _ of await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      })) {
      }
    };
    await expect(consume()).rejects.toThrow();
    await up.requests.at(-1)!.done;
    expect(up.requests.at(-1)!.aborted).toBe(true);
  });

  it('a slow drip beyond the attempt timeout ends the stream with upstream_timeout', async () => {
    const chunks = openAiStream('a b c d e f g h i j k l', 'gpt-4o', { delayMs: 100 });
    up.enqueue({ kind: 'sse', chunks });
    const got: string[] = [];
    const consume = async () => {
      for await (const c of await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      }))
        got.push(c.choices[0]?.delta.content ?? '');
    };
    await expect(consume()).rejects.toThrow(/did not answer in time/);
    expect(got.length).toBeGreaterThan(0);
  });
});
