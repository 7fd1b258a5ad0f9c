/**
 * A stream decoder that throws (its contract allows it on garbage) must fail that stream in the client's
 * format, never escape the socket listener as an uncaught exception that takes the process down.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { adapterFor, translatorFor } from '../../dataplane/src/providers/index.js';
import type { ProviderAdapter, StreamDecoder } from '../../dataplane/src/providers/types.js';
import { SseParser } from '../../dataplane/src/sse/sse.js';
import { FakeUpstream, openAiStream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

/** Decodes like SseParser, but throws (a plain Error, as a buggy decoder would) on the chosen call. */
class ThrowingDecoder implements StreamDecoder {
  private readonly inner = new SseParser();
  constructor(private readonly throwOn: 'push' | 'end') {}
  push(chunk: Uint8Array) {
    if (this.throwOn === 'push') throw new Error('frame checksum mismatch');
    return this.inner.push(chunk);
  }
  end() {
    if (this.throwOn === 'end') throw new Error('dangling frame');
    return this.inner.end();
  }
  get pending() {
    return this.inner.pending;
  }
}

let up: FakeUpstream;
let gw: TestGateway;
let openai: OpenAI;
let throwOn: 'push' | 'end' = 'push';

beforeAll(async () => {
  up = await FakeUpstream.start('up');
  const real = adapterFor('openai');
  const adapter: ProviderAdapter = {
    wire: real.wire,
    buildRequest: (input) => real.buildRequest(input),
    streamDecoder: () => new ThrowingDecoder(throwOn),
  };
  gw = await startGateway(
    gatewayConfig({
      providers: [provider({ name: 'up', baseUrl: up.openaiBaseUrl })],
      routes: [route({ name: 'r', models: ['gpt-4o'], attempts: 1, backends: [{ provider: 'up' }] })],
    }),
    { providers: { adapterFor: () => adapter, translatorFor } },
  );
  openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw.close();
  await up.close();
});

function streamRequest() {
  return fetch(`${gw.openaiBaseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

async function stillServing() {
  // The decoder is only used for streams: a plain request shows the process is alive and serving.
  const ok = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'ok?' }] });
  expect(ok.choices[0]!.message.role).toBe('assistant');
}

describe('a stream decoder that throws', () => {
  it('on the first bytes: 502 upstream_bad_response before anything reached the client', async () => {
    throwOn = 'push';
    up.enqueue({ kind: 'sse', chunks: openAiStream('hello there') });
    const r = await streamRequest();
    expect(r.status).toBe(502);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upstream_bad_response');
    expect(body.error.message).toMatch(/could not be decoded/);
    await stillServing();
  });

  it('at the end of a started stream: the stream ends with an error event in the client format', async () => {
    throwOn = 'end';
    up.enqueue({ kind: 'sse', chunks: openAiStream('hello there') });
    const r = await streamRequest();
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain('hello');
    const last = text.trim().split('\n\n').at(-1)!;
    expect(last).toMatch(/upstream_bad_response/);
    expect(last).toMatch(/could not be decoded/);
    await stillServing();
  });
});
