/**
 * Chaos: a burst against one provider origin (issue 17, item 6). The upstream pool has a connection cap
 * (`--upstream-connections`): a burst of 200 requests opens at most that many sockets to the provider
 * (undici's default is one per concurrent request, left idle afterwards), and every request is served.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

const CAP = 6;
let upstream: Server;
let gw: TestGateway;
let opened = 0;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  // A provider that answers each chat completion after 20 ms and counts its connections.
  upstream = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        inFlight--;
        const body = JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-4o',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, 20),
    );
  });
  upstream.on('connection', () => {
    opened++;
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const addr = upstream.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  gw = await startGateway(
    gatewayConfig({
      providers: [provider({ name: 'oa', baseUrl: `http://127.0.0.1:${port}/v1` })],
      routes: [route({ name: 'gpt', models: ['gpt-4o'], backends: [{ provider: 'oa' }], timeoutMs: 30_000 })],
    }),
    { upstreamConnections: CAP },
  );
});
afterAll(async () => {
  await gw.close();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

it('200 concurrent requests: every one answered, at most the cap of sockets opened to the provider', async () => {
  const statuses = await Promise.all(
    Array.from({ length: 200 }, () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    ),
  );
  expect(statuses.filter((s) => s === 200)).toHaveLength(200);
  expect(opened).toBeGreaterThan(0);
  expect(opened).toBeLessThanOrEqual(CAP);
  expect(maxInFlight).toBeLessThanOrEqual(CAP);
});
