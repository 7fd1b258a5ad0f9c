/**
 * The data plane's client of the operator's config channel. Holds `GET /v1/config/stream` open over
 * TLS (trusting only the operator's CA) with the pod's ServiceAccount token, validates every snapshot
 * with GatewayConfigSchema, hands valid ones to `apply`, and ACKs (or NACKs) the version. When the
 * operator goes away it keeps the last good config (it simply stops getting new ones) and reconnects
 * with exponential backoff; the operator sends a full snapshot at every connect, so it resyncs.
 */

import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { type GatewayConfig, GatewayConfigSchema } from '../../../contract/gateway-config.js';
import type { Logger } from '../log.js';

export interface OperatorSourceOptions {
  /** https://host:port of the operator's config channel. */
  url: string;
  /** PEM of the CA that signed the operator's serving certificate. */
  ca: string;
  /** Returns the current bearer token (re-read at every connect: projected tokens rotate). */
  token: () => string;
  /** Pod name, for the operator's logs. */
  podName: string;
  /** Applies a validated config; throws to reject it (the operator then sees a NACK). */
  apply: (config: GatewayConfig) => void;
  logger: Logger;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Reconnect when nothing (not even a ping) arrived for this long; default 45 s. */
  idleTimeoutMs?: number;
}

const MAX_LINE_BYTES = 64 * 1024 * 1024;

export class OperatorSource {
  private readonly agent: Agent;
  private stopped = false;
  private failures = 0;
  private current: { req: ReturnType<typeof request>; res?: IncomingMessage } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private connection: string | undefined;
  /** True while a stream is open. */
  connected = false;
  /** Version of the last config applied. */
  appliedVersion: number | undefined;
  appliedHash: string | undefined;

  constructor(private readonly o: OperatorSourceOptions) {
    this.agent = new Agent({ keepAlive: true, ca: o.ca, maxSockets: 4 });
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.current?.req.destroy();
    this.current = undefined;
    this.connected = false;
    this.agent.destroy();
  }

  private scheduleReconnect(quick: boolean): void {
    if (this.stopped || this.retryTimer) return;
    this.connected = false;
    this.connection = undefined;
    const base = this.o.backoffBaseMs ?? 250;
    const max = this.o.backoffMaxMs ?? 10_000;
    const ms = quick ? base : Math.min(max, base * 2 ** Math.min(this.failures, 12));
    this.failures++;
    const wait = ms / 2 + Math.random() * (ms / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, wait);
  }

  private connect(): void {
    if (this.stopped) return;
    let token: string;
    try {
      token = this.o.token().trim();
    } catch (error) {
      this.o.logger.error('cannot read the service account token', { err: error as Error });
      this.scheduleReconnect(false);
      return;
    }
    const url = new URL(`/v1/config/stream?pod=${encodeURIComponent(this.o.podName)}`, this.o.url);
    const req = request(url, {
      method: 'GET',
      agent: false, // the stream gets its own connection; ACKs use the pooled agent
      ca: this.o.ca,
      headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
    });
    this.current = { req };
    let idle: NodeJS.Timeout | undefined;
    const idleMs = this.o.idleTimeoutMs ?? 45_000;
    const touch = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => req.destroy(new Error('config stream idle')), idleMs);
    };
    let done = false;
    const end = (reason: string, quick: boolean) => {
      if (done) return;
      done = true;
      if (idle) clearTimeout(idle);
      if (this.current?.req === req) this.current = undefined;
      if (this.stopped) return;
      this.o.logger.warn('config stream ended; keeping the last good config', {
        reason,
        appliedVersion: this.appliedVersion,
      });
      this.scheduleReconnect(quick);
    };
    req.on('error', (error) => end(error.message, false));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        // 503: a standby replica answered; the next connection may reach the leader.
        end(`operator answered ${res.statusCode}`, res.statusCode === 503);
        return;
      }
      this.current = { req, res };
      touch();
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        touch();
        buffered += chunk;
        if (buffered.length > MAX_LINE_BYTES) {
          req.destroy(new Error('config message too large'));
          return;
        }
        let nl = buffered.indexOf('\n');
        while (nl !== -1) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line) this.onMessage(line);
          nl = buffered.indexOf('\n');
        }
      });
      res.on('end', () => end('operator closed the stream', false));
      res.on('error', (error) => end(error.message, false));
    });
    req.end();
  }

  private onMessage(line: string): void {
    let msg: { type?: unknown; connection?: unknown; config?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.o.logger.warn('ignoring a malformed message on the config stream');
      return;
    }
    if (msg.type === 'hello' && typeof msg.connection === 'string') {
      this.connection = msg.connection;
      this.connected = true;
      this.failures = 0;
      this.o.logger.info('connected to the operator', { url: this.o.url });
      return;
    }
    if (msg.type !== 'config') return;
    const parsed = GatewayConfigSchema.safeParse(msg.config);
    const version =
      typeof (msg.config as { version?: unknown } | undefined)?.version === 'number'
        ? (msg.config as { version: number }).version
        : -1;
    if (!parsed.success) {
      // Only paths and messages: the snapshot carries credentials.
      const error = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ');
      this.o.logger.error('rejected an invalid config; keeping the last good one', { version, error });
      this.ack(version, false, error);
      return;
    }
    try {
      this.o.apply(parsed.data);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.o.logger.error('could not apply config; keeping the last good one', { version, error: message });
      this.ack(version, false, message);
      return;
    }
    this.appliedVersion = parsed.data.version;
    this.appliedHash = parsed.data.hash;
    this.o.logger.info('config applied', { version: parsed.data.version, hash: parsed.data.hash });
    this.ack(parsed.data.version, true);
  }

  private ack(version: number, ok: boolean, error?: string): void {
    const connection = this.connection;
    if (!connection || this.stopped) return;
    const body = JSON.stringify({ connection, version, ok, ...(error ? { error: error.slice(0, 500) } : {}) });
    let token: string;
    try {
      token = this.o.token().trim();
    } catch {
      return;
    }
    const req = request(new URL('/v1/config/ack', this.o.url), {
      method: 'POST',
      agent: this.agent,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('response', (res) => {
      res.resume();
      if (res.statusCode !== 204) this.o.logger.warn('ACK not accepted', { version, status: res.statusCode });
    });
    req.on('error', (e) => this.o.logger.warn('ACK failed', { version, err: e }));
    req.end(body);
  }
}
