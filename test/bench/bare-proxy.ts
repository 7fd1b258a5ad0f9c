/**
 * The floor every gateway is measured against: the least a Node.js proxy must do. It parses the JSON
 * request, picks the upstream by model, forwards with undici, and re-serializes a JSON answer (a
 * stream passes through). No auth, routing tables, metering or telemetry.
 *
 * Usage: node bare-proxy.js <port> '<{"model":"http://127.0.0.1:9100", ...}>'
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const port = Number(process.argv[2] ?? 0);
const upstreams = JSON.parse(process.argv[3] ?? '{}') as Record<string, string>;
const pools = new Map<string, Pool>();
for (const [model, origin] of Object.entries(upstreams))
  pools.set(model, new Pool(origin, { connections: 1024, pipelining: 1, keepAliveTimeout: 60_000 }));

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: { model?: unknown; stream?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end('{"error":{"message":"invalid JSON","type":"invalid_request_error"}}');
    }
    const pool = typeof body.model === 'string' ? pools.get(body.model) : undefined;
    if (pool === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end('{"error":{"message":"unknown model","type":"invalid_request_error"}}');
    }
    const ac = new AbortController();
    res.once('close', () => ac.abort());
    pool
      .request({
        method: 'POST',
        path: req.url ?? '/',
        headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
        body: JSON.stringify(body),
        signal: ac.signal,
      })
      .then(async (up) => {
        const ct = String(up.headers['content-type'] ?? '');
        if (ct.startsWith('text/event-stream')) {
          res.writeHead(up.statusCode, { 'content-type': ct, 'cache-control': 'no-cache' });
          for await (const chunk of up.body) res.write(chunk);
          res.end();
          return;
        }
        const out = JSON.stringify(await up.body.json());
        res.writeHead(up.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end();
      });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`bare-proxy listening on ${typeof addr === 'object' && addr !== null ? addr.port : port}`);
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  for (const p of pools.values()) void p.destroy();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
