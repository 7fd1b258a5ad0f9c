import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createPki } from '../../../operator/src/certs.js';
import { tlsFromEnv, UndiciOtlpTransport } from './otlp-http.js';

const BODY = Buffer.from('{"resourceSpans":[]}');

interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A collector whose answers are scripted per request; records what it received. */
async function collector(answer: (n: number, res: ServerResponse) => void): Promise<{
  url: string;
  got: Received[];
  server: Server;
}> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      answer(got.length, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, got, server };
}

const transport = (url: string, extra: Partial<ConstructorParameters<typeof UndiciOtlpTransport>[0]> = {}) =>
  new UndiciOtlpTransport({ url, headers: async () => ({}), compression: 'none', ...extra });

describe('UndiciOtlpTransport', () => {
  test('sends the body with the configured headers (ours win over any spelling of content-type), gzip when asked', async () => {
    const c = await collector((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const t = transport(c.url, {
      compression: 'gzip',
      headers: async () => ({ 'Content-Type': 'text/plain', authorization: 'Bearer x' }),
    });
    try {
      const r = await t.send(BODY, 5000);
      expect(r.status).toBe('success');
      expect(c.got).toHaveLength(1);
      expect(c.got[0]!.headers).toMatchObject({
        authorization: 'Bearer x',
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expect(gunzipSync(c.got[0]!.body).equals(BODY)).toBe(true);
    } finally {
      t.shutdown();
      c.server.close();
    }
  });

  test('503 and 429 are retried (Retry-After honoured) with the same body until accepted', async () => {
    const c = await collector((n, res) => {
      if (n === 1) res.writeHead(503, { 'retry-after': '0' }).end();
      else if (n === 2) res.writeHead(429, { 'retry-after': '0' }).end('slow down');
      else res.writeHead(200).end('{}');
    });
    const t = transport(c.url);
    try {
      const r = await t.send(BODY, 5000);
      expect(r.status).toBe('success');
      expect(c.got.map((g) => g.body.equals(BODY))).toEqual([true, true, true]);
    } finally {
      t.shutdown();
      c.server.close();
    }
  });

  test('a 400 is not retried: one attempt, a failure carrying the status and the answer', async () => {
    const c = await collector((_, res) => res.writeHead(400).end('bad spans'));
    const t = transport(c.url);
    try {
      const r = await t.send(BODY, 5000);
      expect(r.status).toBe('failure');
      expect(c.got).toHaveLength(1);
      const err = (r as { error: { code?: number; data?: string } }).error;
      expect(err.code).toBe(400);
      expect(err.data).toBe('bad spans');
    } finally {
      t.shutdown();
      c.server.close();
    }
  });

  test('a Retry-After past the export timeout ends the export at once instead of waiting', async () => {
    const c = await collector((_, res) => res.writeHead(503, { 'retry-after': '30' }).end());
    const t = transport(c.url);
    try {
      const t0 = performance.now();
      const r = await t.send(BODY, 2000);
      expect(r.status).toBe('retryable');
      expect(c.got).toHaveLength(1);
      expect(performance.now() - t0).toBeLessThan(1500);
    } finally {
      t.shutdown();
      c.server.close();
    }
  });

  test('a collector that never answers: the attempt is cut at the timeout, nothing hangs', async () => {
    const c = await collector(() => {}); // never answers
    const t = transport(c.url);
    try {
      const t0 = performance.now();
      const r = await t.send(BODY, 300);
      expect(r.status).toBe('retryable');
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      t.shutdown();
      c.server.closeAllConnections();
      c.server.close();
    }
  });

  test('nothing listening: connection refused is retryable and retried within the timeout', async () => {
    const c = await collector(() => {});
    const url = c.url;
    await new Promise((r) => c.server.close(r)); // the port is now closed
    const t = transport(url);
    try {
      const r = await t.send(BODY, 1500); // the first retry waits ~1 s, the second would pass the deadline
      expect(r.status).toBe('retryable');
      expect((r as { error?: { code?: string } }).error?.code).toBe('ECONNREFUSED');
    } finally {
      t.shutdown();
    }
  });

  test('HTTPS: trusted with OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, refused without it', async () => {
    const pki = await createPki(['127.0.0.1']);
    const dir = mkdtempSync(join(tmpdir(), 'otlp-tls-'));
    writeFileSync(join(dir, 'ca.crt'), pki.caCert);
    const got: Buffer[] = [];
    const server = createHttpsServer({ cert: pki.cert, key: pki.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push(Buffer.concat(chunks));
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
    const warnings: string[] = [];
    const tls = tlsFromEnv(
      { OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: join(dir, 'ca.crt'), OTEL_EXPORTER_OTLP_CLIENT_KEY: join(dir, 'nope') },
      (m) => warnings.push(m),
    );
    expect(warnings).toHaveLength(1); // the unreadable key file is reported, not fatal
    const trusted = transport(url, { tls });
    const untrusted = transport(url);
    try {
      expect((await trusted.send(BODY, 5000)).status).toBe('success');
      const r = await untrusted.send(BODY, 5000);
      expect(r.status).toBe('failure');
      expect(got).toHaveLength(1);
    } finally {
      trusted.shutdown();
      untrusted.shutdown();
      server.close();
    }
  });
});
