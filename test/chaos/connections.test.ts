/**
 * Chaos: clients that hold connections without making a request (issue 17, item 3), bytes that are not
 * HTTP, and the admin port (item 7). A gateway in-process with short limits so the suite stays fast; every
 * wait is for a socket event.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { createAccounting } from '../../dataplane/src/accounting/hooks.js';
import { FakeUpstream, openAiStream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';
import { jsonBody, rawClient } from './net.js';

const HEADER_MS = 600;
const IDLE_MS = 900;

let up: FakeUpstream;
let gw: TestGateway;
let accounting: Awaited<ReturnType<typeof createAccounting>>;

beforeAll(async () => {
  up = await FakeUpstream.start('oa');
  accounting = await createAccounting({ accessLog: false });
  gw = await startGateway(
    gatewayConfig({
      providers: [provider({ name: 'oa', baseUrl: up.openaiBaseUrl })],
      routes: [route({ name: 'gpt', models: ['gpt-4o'], backends: [{ provider: 'oa' }] })],
    }),
    { headerTimeoutMs: HEADER_MS, idleTimeoutMs: IDLE_MS, hooks: accounting },
  );
});
afterAll(async () => {
  await gw.close();
  await accounting.close();
  await up.close();
});

describe('connections that never finish a request are closed', () => {
  it('200 slow-header clients (a header line every 100 ms) each get 408 in JSON and are closed near the header timeout', async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => rawClient(gw.port)));
    const timers: NodeJS.Timeout[] = [];
    for (const c of clients) {
      c.sock.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n');
      // Slowloris: keep the headers coming, never finish them.
      const t = setInterval(() => {
        if (!c.sock.destroyed) c.sock.write('x-drip: 1\r\n');
      }, 100);
      timers.push(t);
    }
    const took = await Promise.all(clients.map((c) => c.closed));
    for (const t of timers) clearInterval(t);
    for (const c of clients) {
      expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(jsonBody(c.received())).toMatchObject({
        error: { code: 'request_timeout', type: 'invalid_request_error' },
      });
    }
    // Not before the limit (the drip kept them busy), and not long after it (Node's 30 s check interval).
    expect(Math.min(...took)).toBeGreaterThanOrEqual(HEADER_MS - 50);
    expect(Math.max(...took)).toBeLessThan(HEADER_MS + 5000);
  });

  // Both ends live in this process: 400 connections are 800 descriptors, within a default `ulimit -n` of 1024.
  // process.test.ts floods a gateway process that has a low limit of its own.
  it('400 silent connections (no byte at all) are closed near the header timeout; the gateway then serves', async () => {
    const clients = [];
    for (let i = 0; i < 400; i += 100)
      clients.push(...(await Promise.all(Array.from({ length: 100 }, () => rawClient(gw.port)))));
    const took = await Promise.all(clients.map((c) => c.closed));
    expect(took).toHaveLength(400);
    expect(Math.max(...took)).toBeLessThan(HEADER_MS + 8000);
    for (const c of clients) expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(gw.gateway.server.listening).toBe(true);
    const ok = await fetch(`${gw.url}/healthz`);
    expect(ok.status).toBe(200);
  });

  it('an idle keep-alive connection is closed after the idle timeout, not before', async () => {
    const c = await rawClient(gw.port);
    c.sock.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.waitFor(/\r\n\r\nok\n$/);
    const answeredAt = performance.now();
    await c.closed;
    const idle = performance.now() - answeredAt;
    expect(idle).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(idle).toBeLessThan(IDLE_MS + 3000);
    expect(c.error()).toBeUndefined();
  });

  it('a stream that runs longer than the header and idle timeouts together is not cut', async () => {
    const words = 'one two three four five six seven eight ';
    up.enqueue({ kind: 'sse', chunks: openAiStream(words, 'gpt-4o', { delayMs: 250 }) });
    const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    const started = performance.now();
    let text = '';
    for await (const chunk of await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'slowly' }],
      stream: true,
    }))
      text += chunk.choices[0]?.delta.content ?? '';
    expect(performance.now() - started).toBeGreaterThan(HEADER_MS + IDLE_MS);
    expect(text).toBe(words);
  });
});

describe('bytes that are not a valid request get a JSON error', () => {
  it('headers over the limit: 431 in the OpenAI format; on /v1/messages in the Anthropic format', async () => {
    const big = 'a'.repeat(20 * 1024);
    const o = await rawClient(gw.port);
    o.sock.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-big: ${big}\r\n\r\n`);
    await o.closed;
    expect(o.received()).toMatch(/^HTTP\/1\.1 431 /);
    expect(o.received()).toContain('content-type: application/json');
    expect(jsonBody(o.received())).toMatchObject({
      error: { code: 'headers_too_large', type: 'invalid_request_error' },
    });

    const a = await rawClient(gw.port);
    a.sock.write(`POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-big: ${big}\r\n\r\n`);
    await a.closed;
    expect(a.received()).toMatch(/^HTTP\/1\.1 431 /);
    expect(jsonBody(a.received())).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('garbage instead of a request line, and a bad header: 400 in JSON, connection closed', async () => {
    for (const bytes of ['HELLO WORLD\r\n\r\n', 'GET / HTTP/1.1\r\nbad header\r\n\r\n', '\u0000\u0001\u0002\r\n\r\n']) {
      const c = await rawClient(gw.port);
      c.sock.write(bytes, 'latin1');
      await c.closed;
      expect(c.received()).toMatch(/^HTTP\/1\.1 400 /);
      expect(jsonBody(c.received())).toMatchObject({
        error: { code: 'bad_http_request', type: 'invalid_request_error' },
      });
    }
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});

describe('/metrics is on the admin port only', () => {
  it('the API port answers /metrics 404 like any unknown path; the admin port serves Prometheus text', async () => {
    await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const api = await fetch(`${gw.url}/metrics`);
    expect(api.status).toBe(404);
    const body = (await api.json()) as { error: { code: string } };
    expect(body.error.code).toBe('not_found');
    expect(JSON.stringify(body)).not.toContain('tollgate_');

    const admin = await fetch(gw.metricsUrl);
    expect(admin.status).toBe(200);
    expect(admin.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await admin.text()).toMatch(
      /^tollgate_requests_total\{route="ai\/gpt",backend="oa\/gpt-4o",code="200"\} [1-9]/m,
    );
    const other = await fetch(gw.metricsUrl.replace('/metrics', '/v1/models'));
    expect(other.status).toBe(404);
  });
});
