/**
 * How the gateway reads upstream answers: a stream is read only as fast as the client takes it (a client
 * that stops reading stops the upstream, and the whole stream arrives once it reads again), and a whole
 * JSON answer is read like undici's body.text() (a leading byte order mark skipped).
 */

import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

let server: Server | undefined;
let gw: TestGateway | undefined;

afterEach(async () => {
  await gw?.close();
  gw = undefined;
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function listen(s: Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const addr = s.address();
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}

async function gatewayFor(port: number): Promise<TestGateway> {
  return startGateway(
    gatewayConfig({
      providers: [provider({ name: 'up', baseUrl: `http://127.0.0.1:${port}/v1`, requestTimeoutMs: 60_000 })],
      routes: [
        route({ name: 'r', models: ['gpt-4o'], attempts: 1, timeoutMs: 60_000, backends: [{ provider: 'up' }] }),
      ],
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reading upstream answers', () => {
  it('a client that stops reading a stream stops the upstream; it gets every event once it reads again', async () => {
    const EVENTS = 4000;
    const content = 'x'.repeat(16 * 1024);
    let written = 0;
    let upstreamDone = false;
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const more = () => {
        while (i < EVENTS) {
          const chunk = {
            id: 'c',
            object: 'chat.completion.chunk',
            model: 'gpt-4o',
            choices: [{ index: 0, delta: { content } }],
          };
          const line = `data: ${JSON.stringify({ ...chunk, n: i++ })}\n\n`;
          written += line.length;
          if (!res.write(line)) return void res.once('drain', more);
        }
        res.end('data: [DONE]\n\n', () => {
          upstreamDone = true;
        });
      };
      more();
    });
    gw = await gatewayFor(await listen(server));

    const sock = connect(gw.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const body = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    sock.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    // Not reading: once the socket buffers on the way are full, the upstream cannot write any more.
    sock.pause();
    let last = -1;
    for (let i = 0; i < 100 && written !== last; i++) {
      last = written;
      await sleep(150);
    }
    const total = EVENTS * (content.length + 120);
    expect(upstreamDone).toBe(false);
    expect(written).toBeLessThan(total / 2);

    const received: Buffer[] = [];
    let tail = '';
    const text = await new Promise<string>((resolve, reject) => {
      sock.on('error', reject);
      sock.on('data', (c: Buffer) => {
        received.push(c);
        // Chunked transfer encoding: the last chunk is 0-length.
        tail = (tail + c.toString('latin1')).slice(-5);
        if (tail === '0\r\n\r\n') resolve(Buffer.concat(received).toString());
      });
      sock.resume();
    });
    sock.destroy();
    expect(upstreamDone).toBe(true);
    const ns = [...text.matchAll(/"n":(\d+)/g)].map((m) => Number(m[1]));
    expect(ns).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
    expect(text).toContain('data: [DONE]');
  }, 60_000);

  it('skips a byte order mark at the start of a JSON answer, as undici body.text() does', async () => {
    const answer = JSON.stringify({
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: 'bom' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(answer)]));
    });
    gw = await gatewayFor(await listen(server));
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(r.status).toBe(200);
    // Same format: the upstream's own bytes, without the mark.
    expect(await r.text()).toBe(answer);
  });
});
