/**
 * Chaos: shutting down under load (issue 17, item 6). close() (what SIGTERM runs) stops accepting, lets
 * running requests go on for the shutdown grace, then ends the streams still running with an error event
 * in the client's format, and the access log records them as `shutting_down`, not as client aborts (499).
 */

import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeAll, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { countTokens } from '../../dataplane/src/accounting/estimate.js';
import { createAccounting } from '../../dataplane/src/accounting/hooks.js';
import type { AccessRecord } from '../../dataplane/src/telemetry/access-log.js';
import { anthropicStream, FakeUpstream, openAiStream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const GRACE_MS = 700;
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i} `).join('');

beforeAll(async () => {
  // A stream cut short has its output tokens counted by the tokenizer; building an encoder the first time
  // blocks the event loop for seconds on a loaded machine, which is not what this test measures.
  await countTokens('warm up', 'gpt-4o');
  await countTokens('warm up', 'claude-sonnet-4-5');
});

it('streams past the grace end with an error event in each client format; one that ends in time is whole', async () => {
  const up = await FakeUpstream.start('oa');
  cleanups.push(() => up.close());
  const access: AccessRecord[] = [];
  const accounting = await createAccounting({ accessLog: (r) => access.push(r) });
  cleanups.push(() => accounting.close());
  const gw = await startGateway(
    gatewayConfig({
      providers: [
        provider({ name: 'oa', baseUrl: up.openaiBaseUrl }),
        provider({ name: 'an', baseUrl: up.anthropicBaseUrl, type: 'anthropic' }),
      ],
      routes: [
        route({ name: 'gpt', models: ['gpt-4o'], backends: [{ provider: 'oa' }], timeoutMs: 60_000 }),
        route({ name: 'claude', models: ['claude*'], backends: [{ provider: 'an' }], timeoutMs: 60_000 }),
      ],
    }),
    { hooks: accounting, closeGraceMs: GRACE_MS },
  );
  // Two long streams (a word every 100 ms for 6 s) and a short one (done in about 300 ms).
  const long = words(60);
  const short = words(3);
  up.enqueue(
    { kind: 'sse', chunks: openAiStream(long, 'gpt-4o', { delayMs: 100 }) },
    { kind: 'sse', chunks: anthropicStream(long, 'claude-sonnet-4-5', { delayMs: 100 }) },
    { kind: 'sse', chunks: openAiStream(short, 'gpt-4o', { delayMs: 100 }) },
  );
  const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });

  let firstChunks = 0;
  let firstChunk!: () => void;
  const allStarted = new Promise<void>((r) => {
    firstChunk = () => {
      if (++firstChunks === 3) r();
    };
  });
  const readOpenAi = async (): Promise<{ text: string; err: unknown }> => {
    let text = '';
    let first = true;
    try {
      const stream = await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'go' }],
        stream: true,
      });
      for await (const c of stream) {
        if (first) firstChunk();
        first = false;
        text += c.choices[0]?.delta.content ?? '';
      }
      return { text, err: undefined };
    } catch (err) {
      return { text, err };
    }
  };
  const readAnthropic = async (): Promise<{ text: string; err: unknown }> => {
    let text = '';
    let first = true;
    try {
      const stream = await anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'go' }],
        stream: true,
      });
      for await (const e of stream) {
        if (first) firstChunk();
        first = false;
        if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      }
      return { text, err: undefined };
    } catch (err) {
      return { text, err };
    }
  };
  const o = readOpenAi();
  const a = readAnthropic();
  const s = readOpenAi();
  await allStarted;

  const closing = performance.now();
  const closed = gw.close();
  // No new connection is accepted once closing.
  await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
  const [ro, ra, rs] = await Promise.all([o, a, s]);
  await closed;
  const took = performance.now() - closing;

  expect(rs).toEqual({ text: short, err: undefined });
  expect(ro.err).toBeInstanceOf(OpenAI.APIError);
  expect((ro.err as Error).message).toContain('the gateway is shutting down');
  expect(ro.text.length).toBeGreaterThan(0);
  expect(long.startsWith(ro.text)).toBe(true);
  expect(ro.text).not.toBe(long);
  expect(ra.err).toBeInstanceOf(Anthropic.APIError);
  expect((ra.err as Error).message).toContain('the gateway is shutting down');
  expect(took).toBeGreaterThanOrEqual(GRACE_MS - 20);
  expect(took).toBeLessThan(GRACE_MS + 3000);

  // The access log: the short stream a 200, the two cut ones shutting_down (their status is the stream's 200).
  await accounting.close();
  const lines = access.filter((r) => r.type === 'access');
  expect(lines).toHaveLength(3);
  expect(lines.filter((r) => r.status === 499)).toHaveLength(0);
  expect(lines.filter((r) => r.error === 'shutting_down')).toHaveLength(2);
  expect(lines.filter((r) => r.status === 200 && r.error === undefined)).toHaveLength(1);
}, 30_000);

it('a request still waiting for its provider when the grace ends gets 503 shutting_down in its format', async () => {
  const up = await FakeUpstream.start('hang');
  cleanups.push(() => up.close());
  const access: AccessRecord[] = [];
  const accounting = await createAccounting({ accessLog: (r) => access.push(r) });
  cleanups.push(() => accounting.close());
  const gw = await startGateway(
    gatewayConfig({
      providers: [provider({ name: 'oa', baseUrl: up.openaiBaseUrl, requestTimeoutMs: 60_000 })],
      routes: [route({ name: 'gpt', models: ['gpt-4o'], backends: [{ provider: 'oa' }], timeoutMs: 60_000 })],
    }),
    { hooks: accounting, closeGraceMs: 300 },
  );
  up.enqueue({ kind: 'hang' });
  const answer = fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
  // Closing once the provider has the request (it never answers).
  while (up.requests.length === 0) await new Promise<void>((r) => setImmediate(r));
  const closed = gw.close();
  const res = await answer;
  expect(res.status).toBe(503);
  expect(res.headers.get('connection')).toBe('close');
  expect(await res.json()).toMatchObject({ error: { code: 'shutting_down', type: 'api_error' } });
  await closed;
  await accounting.close();
  expect(access.filter((r) => r.type === 'access')).toEqual([
    expect.objectContaining({ status: 503, error: 'shutting_down' }),
  ]);
});
