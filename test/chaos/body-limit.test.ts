/**
 * Chaos: a body over the limit sent without `Expect: 100-continue` (issue 17, item 6). A client that
 * writes its whole body before reading must get the 413, not a reset: the gateway answers early, so it
 * has to keep reading (and dropping) the rest instead of closing a socket with unread bytes (which makes
 * the kernel send RST and lose the answer at the client).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';
import { jsonBody, type RawClient, rawClient } from './net.js';

const MAX = 1024 * 1024;
const BODY = 8 * MAX;

let up: FakeUpstream;
let gw: TestGateway;

beforeAll(async () => {
  up = await FakeUpstream.start('oa');
  gw = await startGateway(
    gatewayConfig({
      providers: [provider({ name: 'oa', baseUrl: up.openaiBaseUrl })],
      routes: [route({ name: 'gpt', models: ['gpt-4o'], backends: [{ provider: 'oa' }] })],
    }),
    { maxBodyBytes: MAX },
  );
});
afterAll(async () => {
  await gw.close();
  await up.close();
});

/** Writes the request and the whole body, reading nothing until the last byte is written. */
async function sendAllThenRead(chunked: boolean): Promise<RawClient> {
  const c = await rawClient(gw.port, { paused: true });
  c.sock.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${
      chunked ? 'transfer-encoding: chunked' : `content-length: ${BODY}`
    }\r\n\r\n`,
  );
  const piece = Buffer.alloc(64 * 1024, 0x61);
  const framed = chunked
    ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
    : piece;
  for (let sent = 0; sent < BODY && !c.sock.destroyed; sent += piece.length) {
    if (!c.sock.write(framed)) await Promise.race([new Promise((r) => c.sock.once('drain', r)), c.closed]);
  }
  if (chunked && !c.sock.destroyed) c.sock.write('0\r\n\r\n');
  c.sock.resume();
  await c.closed;
  return c;
}

describe('413 without Expect: 100-continue', () => {
  it.each([
    ['declared by content-length', false],
    ['found while reading a chunked body', true],
  ])('a client that sends all 8 MiB before reading gets the 413 every time (%s)', async (_name, chunked) => {
    for (let i = 0; i < 8; i++) {
      const c = await sendAllThenRead(chunked);
      expect(c.error()?.code).toBeUndefined();
      expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
      expect(c.received()).toContain('connection: close');
      expect(jsonBody(c.received())).toMatchObject({ error: { code: 'body_too_large' } });
    }
    expect(up.requests).toHaveLength(0);
  });

  it('the official SDK sending a 2 MiB prompt gets a 413 APIError, never a connection error', async () => {
    const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    for (let i = 0; i < 5; i++) {
      const err = await openai.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(2 * MAX) }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    }
  });
});
