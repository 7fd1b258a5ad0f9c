/**
 * The body-read timeout (a client trickling its request body is answered 408 in its format and cut off;
 * long streamed responses are not limited by it) and the pass-through of unchanged upstream bytes.
 * Real HTTP on loopback: raw sockets for the slow uploads, the official SDK for the long stream.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { request } from 'undici';
import { FakeUpstream, openAiStream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup(bodyTimeoutMs: number): Promise<{ gw: TestGateway; up: FakeUpstream }> {
  const up = await FakeUpstream.start('up');
  cleanups.push(() => up.close());
  const gw = await startGateway(
    gatewayConfig({
      providers: [
        { ...provider({ name: 'oa', baseUrl: up.openaiBaseUrl }), requestTimeoutMs: 60_000 },
        provider({ name: 'an', baseUrl: up.anthropicBaseUrl, type: 'anthropic' }),
      ],
      routes: [
        route({ name: 'gpt', models: ['gpt-4o'], backends: [{ provider: 'oa' }], timeoutMs: 60_000 }),
        route({ name: 'claude', models: ['claude*'], backends: [{ provider: 'an' }] }),
      ],
    }),
    { bodyTimeoutMs },
  );
  cleanups.push(() => gw.close());
  return { gw, up };
}

interface RawExchange {
  socket: Socket;
  /** Everything the gateway sent, as text, once the connection closed. */
  closed: Promise<string>;
}

/** Sends the request head and the first part of a body that claims to be longer, then goes quiet. */
function trickle(port: number, path: string, declared: number, first: string): RawExchange {
  const socket = connect(port, '127.0.0.1');
  let got = '';
  socket.on('data', (b: Buffer) => {
    got += b.toString('utf8');
  });
  socket.on('error', () => {});
  socket.write(
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n${first}`,
  );
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(got)));
  cleanups.push(async () => {
    socket.destroy();
  });
  return { socket, closed };
}

function parseResponse(raw: string): { status: number; headers: string; body: unknown } {
  const i = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, i);
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(raw.slice(i + 4)) };
}

describe('body-read timeout', () => {
  it('answers a body that does not arrive in time with 408 request_timeout (OpenAI format) and closes', async () => {
    const { gw, up } = await setup(300);
    const x = trickle(gw.port, '/v1/chat/completions', 500, '{"model":"gpt-4o","messages":[');
    const r = parseResponse(await x.closed);
    expect(r.status).toBe(408);
    expect(r.headers).toContain('connection: close');
    expect(r.body).toEqual({
      error: expect.objectContaining({ type: 'invalid_request_error', code: 'request_timeout' }),
    });
    expect(up.requests).toHaveLength(0);
  });

  it('answers in the Anthropic format on /v1/messages', async () => {
    const { gw } = await setup(300);
    const x = trickle(gw.port, '/v1/messages', 500, '{"model":"claude-x"');
    const r = parseResponse(await x.closed);
    expect(r.status).toBe(408);
    expect(r.body).toEqual({
      type: 'error',
      error: expect.objectContaining({ type: 'invalid_request_error' }),
    });
  });

  it('serves a body that arrives in pieces within the timeout', async () => {
    const { gw } = await setup(5000);
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    const socket = connect(gw.port, '127.0.0.1');
    cleanups.push(async () => {
      socket.destroy();
    });
    let got = '';
    socket.on('data', (b: Buffer) => {
      got += b.toString('utf8');
    });
    const answered = new Promise<void>((resolve) =>
      socket.on('data', () => {
        if (got.includes('chat.completion')) resolve();
      }),
    );
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    for (let i = 0; i < body.length; i += 10) {
      socket.write(body.slice(i, i + 10));
      await new Promise((r) => setTimeout(r, 20));
    }
    await answered;
    expect(got.startsWith('HTTP/1.1 200')).toBe(true);
  });

  it('does not cut a streamed response that runs far longer than the body timeout', async () => {
    const { gw, up } = await setup(300);
    // 11 content chunks one second apart: the answer streams for over 10 s, 35x the body timeout.
    const words = Array.from({ length: 11 }, (_, i) => `w${i} `);
    up.enqueue({ kind: 'sse', chunks: openAiStream(words.join(''), 'gpt-4o', { delayMs: 1000 }) });
    const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    const started = Date.now();
    let text = '';
    for await (const c of await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'slowly' }],
      stream: true,
    }))
      text += c.choices[0]?.delta.content ?? '';
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(text).toBe(words.join(''));
  }, 40_000);
});

describe('unchanged answers', () => {
  it('passes a same-format answer through byte for byte (no re-serialising)', async () => {
    const { gw, up } = await setup(5000);
    // Spacing, key order and escapes JSON.stringify would change.
    const raw =
      '{ "object" : "chat.completion", "id":"chatcmpl-x", "model":"gpt-4o", "created":1,\n' +
      '  "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"caf\\u00e9 \\/ ok"}}],\n' +
      '  "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5} }';
    up.enqueue({ kind: 'raw', body: raw, headers: { 'content-type': 'application/json' } });
    const r = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe(raw);
  });

  it('still translates an answer whose format differs (OpenAI client, Anthropic upstream)', async () => {
    const { gw } = await setup(5000);
    const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    const r = await openai.chat.completions.create({
      model: 'claude-x',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.message.content).toBe('hello from up');
  });
});
