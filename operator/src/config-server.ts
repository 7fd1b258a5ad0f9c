/**
 * The config channel (TLS). Each data-plane pod holds `GET /v1/config/stream` open and receives
 * newline-delimited JSON messages: `hello` (its connection id), then `config` (a full GatewayConfig) at
 * connect and on every change, and `ping` every 15 s. It reports what it applied with
 * `POST /v1/config/ack {connection, version, ok, error?}`. Both need the pod's ServiceAccount token
 * (Bearer), reviewed by TokenReview: anything else gets 401 and nothing more. A replica that is not
 * the leader answers 503 so the pod retries and reaches the leader.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../../contract/gateway-config.js';
import type { Logger } from '../../dataplane/src/log.js';
import type { PodAck } from './programmed.js';
import type { AuthOutcome } from './token-auth.js';

export interface ConfigServerOptions {
  authenticate: (authorization: string | undefined) => Promise<AuthOutcome>;
  tls: { cert: string; key: string };
  logger: Logger;
  /** Called after a pod connects, disconnects or acknowledges (Programmed may change). */
  onPodsChanged?: () => void;
  /** Only the leader serves config; default: always. */
  isLeader?: () => boolean;
  pingMs?: number;
}

interface Connection extends PodAck {
  id: string;
  pod: string;
  username: string;
  res: ServerResponse;
  /** A config line waiting for the socket to drain (only the newest matters). */
  pending?: string;
  lastError?: string;
  connectedAt: number;
}

const MAX_ACK_BYTES = 64 * 1024;

export class ConfigServer {
  readonly server: Server;
  private readonly connections = new Map<string, Connection>();
  private current: { version: number; line: string } | undefined;
  private readonly pingTimer: NodeJS.Timeout;

  constructor(private readonly o: ConfigServerOptions) {
    this.server = createServer({ cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        o.logger.error('config request failed', { err: error instanceof Error ? error : new Error(String(error)) });
        if (!res.headersSent) reply(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 65_000;
    this.server.requestTimeout = 0; // streams are long-lived
    this.server.headersTimeout = 10_000;
    this.pingTimer = setInterval(() => this.broadcast('{"type":"ping"}\n', false), o.pingMs ?? 15_000);
    this.pingTimer.unref();
  }

  /** Replaces the TLS serving certificate (after rotation); new connections use it. */
  setCertificate(tls: { cert: string; key: string }): void {
    this.server.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  /** Sends a new full snapshot to every connected pod (and to pods that connect later). */
  publish(config: GatewayConfig): void {
    const line = `${JSON.stringify({ type: 'config', config })}\n`;
    this.current = { version: config.version, line };
    this.broadcast(line, true);
  }

  get servedVersion(): number | undefined {
    return this.current?.version;
  }

  /** The connected pods and what they applied. */
  pods(): PodAck[] {
    return [...this.connections.values()].map((c) =>
      c.appliedVersion === undefined ? {} : { appliedVersion: c.appliedVersion },
    );
  }

  /** Per-connection view for metrics and logs (no tokens). */
  podInfo(): { pod: string; appliedVersion?: number; lastError?: string }[] {
    return [...this.connections.values()].map((c) => ({
      pod: c.pod,
      ...(c.appliedVersion !== undefined ? { appliedVersion: c.appliedVersion } : {}),
      ...(c.lastError ? { lastError: c.lastError } : {}),
    }));
  }

  async listen(port: number, host?: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Ends every stream and stops listening. */
  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    for (const c of this.connections.values()) c.res.end();
    this.connections.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Drops every stream (for example when leadership is lost) without closing the listener. */
  disconnectAll(): void {
    for (const c of this.connections.values()) c.res.end();
    this.connections.clear();
  }

  private broadcast(line: string, isConfig: boolean): void {
    for (const c of this.connections.values()) this.send(c, line, isConfig);
  }

  private send(c: Connection, line: string, isConfig: boolean): void {
    if (c.res.writableNeedDrain) {
      if (isConfig) c.pending = line; // a slow pod gets only the newest snapshot
      return;
    }
    c.res.write(line);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://config.invalid');
    const auth = await this.o.authenticate(req.headers.authorization);
    if (!auth.ok) {
      this.o.logger.warn('config client rejected', { reason: auth.reason, remote: req.socket.remoteAddress });
      req.resume();
      reply(res, 401, { error: 'unauthorized' });
      return;
    }
    if (this.o.isLeader && !this.o.isLeader()) {
      req.resume();
      reply(res, 503, { error: 'not the leader; retry' });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/config/stream') {
      this.openStream(req, res, url, auth.username);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/config/ack') {
      await this.ack(req, res, auth.username);
      return;
    }
    req.resume();
    reply(res, 404, { error: 'not found' });
  }

  private openStream(req: IncomingMessage, res: ServerResponse, url: URL, username: string): void {
    const pod = (url.searchParams.get('pod') ?? '').slice(0, 253) || 'unknown';
    const c: Connection = { id: randomUUID(), pod, username, res, connectedAt: Date.now() };
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.socket?.setNoDelay(true);
    res.socket?.setKeepAlive(true, 30_000);
    res.write(`${JSON.stringify({ type: 'hello', connection: c.id })}\n`);
    if (this.current) res.write(this.current.line);
    res.on('drain', () => {
      const line = c.pending;
      if (line) {
        c.pending = undefined;
        res.write(line);
      }
    });
    this.connections.set(c.id, c);
    this.o.logger.info('data plane connected', { pod, connection: c.id });
    this.o.onPodsChanged?.();
    const gone = () => {
      if (this.connections.delete(c.id)) {
        this.o.logger.info('data plane disconnected', { pod, connection: c.id });
        this.o.onPodsChanged?.();
      }
    };
    req.on('close', gone);
    res.on('close', gone);
  }

  private async ack(req: IncomingMessage, res: ServerResponse, username: string): Promise<void> {
    let body = '';
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ACK_BYTES) {
        reply(res, 413, { error: 'ack too large' });
        return;
      }
      body += chunk.toString('utf8');
    }
    let msg: { connection?: unknown; version?: unknown; ok?: unknown; error?: unknown };
    try {
      msg = JSON.parse(body) as typeof msg;
    } catch {
      reply(res, 400, { error: 'body must be JSON' });
      return;
    }
    if (typeof msg.connection !== 'string' || typeof msg.version !== 'number' || typeof msg.ok !== 'boolean') {
      reply(res, 400, { error: 'expected {connection: string, version: number, ok: boolean}' });
      return;
    }
    const c = this.connections.get(msg.connection);
    if (!c || c.username !== username) {
      reply(res, 404, { error: 'unknown connection' });
      return;
    }
    if (msg.ok) {
      if (c.appliedVersion === undefined || msg.version > c.appliedVersion) c.appliedVersion = msg.version;
      c.lastError = undefined;
    } else {
      c.lastError = typeof msg.error === 'string' ? msg.error.slice(0, 500) : 'rejected';
      this.o.logger.warn('data plane rejected config', { pod: c.pod, version: msg.version, reason: c.lastError });
    }
    reply(res, 204);
    this.o.onPodsChanged?.();
  }
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
