/**
 * Entry point of the data plane's HTTP server (owned by the proxy core). `tollgate run`, `tollgate dataplane`
 * and the tests build on `createGateway`. The hot path is node:http + undici (docs/adr/0001).
 *
 * Per request: path/method dispatch → auth (sha256 of the key, Map lookup) → body read with a size limit →
 * JSON parse → validation → route match (tables compiled at config load) → admission hook → ProxyCall.
 */
import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ApiKeyConfig, GatewayConfig } from '../../../contract/gateway-config.js';
import { type ClientFormat, GatewayError, renderError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { type GatewayHooks, noopHooks, noopObserver, type RequestObserver } from '../pipeline/hooks.js';
import { adapterFor, forwardedClientHeaders, translatorFor } from '../providers/index.js';
import type { Operation } from '../providers/types.js';
import {
  type CallShared,
  endForShutdown,
  isStackOverflow,
  type ProviderRegistry,
  ProxyCall,
  tooDeep,
} from '../proxy/call.js';
import { UpstreamPools } from '../proxy/upstream.js';
import { type HealthOptions, HealthRegistry } from '../routing/health.js';
import { type CompiledRoute, compileTables, EMPTY_TABLE, matchRoute, type NamespaceTable } from '../routing/table.js';
import { DISCARD_LIMIT_BYTES, discardBody, Listener, type ListenerOptions } from './listener.js';
import { validateClientRequest } from './validate.js';

export interface GatewayOptions extends Pick<ListenerOptions, 'headerTimeoutMs' | 'idleTimeoutMs'> {
  /** Largest accepted request body in bytes; default 32 MiB. */
  maxBodyBytes?: number;
  /**
   * How long a client may take to send its whole request body (from the request's headers to the body's
   * last byte); default 30 s. Past it: 408 request_timeout in the client's format and the connection is
   * closed. Responses (long streams included) are not limited by it.
   */
  bodyTimeoutMs?: number;
  logger?: Logger;
  /** Accounting hooks (quota admission, metrics, traces); default: no-op. */
  hooks?: GatewayHooks;
  /** Adapters and translators; default: the providers folder. */
  providers?: ProviderRegistry;
  /** Passive health (ejection threshold, cool-down, clock). */
  health?: HealthOptions;
  /** Random source in [0, 1) for weighted choice and jitter; default Math.random. */
  random?: () => number;
  /** Most connections per provider origin (proxy/upstream.ts); default 256. */
  upstreamConnections?: number;
  /** How long close() lets in-flight requests run before ending them; default 25 s (server/listener.ts). */
  closeGraceMs?: number;
}

export interface Gateway {
  readonly server: Server;
  /** Swaps in a validated config atomically; requests in flight finish on the config they started with. */
  applyConfig(config: GatewayConfig): void;
  /** The config being served, if any (readyz is 200 once there is one). */
  readonly config: GatewayConfig | undefined;
  /** Listens; resolves with the bound port (pass 0 for a free one). */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (up to a grace period), closes upstream pools. */
  close(): Promise<void>;
}

/** Everything derived from one config, built once when it is applied. */
interface Compiled {
  readonly config: GatewayConfig;
  /** sha256 hex → key. */
  readonly keys: Map<string, ApiKeyConfig>;
  /** No keys and requireKeys false: requests without a key see every namespace. */
  readonly open: boolean;
  readonly byNamespace: Map<string, NamespaceTable>;
  readonly all: NamespaceTable;
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

const ROUTES: Record<string, { method: string; format: ClientFormat; operation: Operation | 'models' }> = {
  '/v1/chat/completions': { method: 'POST', format: 'openai', operation: 'chat' },
  '/v1/embeddings': { method: 'POST', format: 'openai', operation: 'embeddings' },
  '/v1/messages': { method: 'POST', format: 'anthropic', operation: 'chat' },
  '/v1/models': { method: 'GET', format: 'openai', operation: 'models' },
};

const defaultProviders: ProviderRegistry = { adapterFor, translatorFor };

/** What is known of a request when it is refused (for the `rejected` hook); grows as the request gets further. */
interface Refused {
  readonly operation?: Operation | undefined;
  readonly key?: ApiKeyConfig | undefined;
  readonly route?: CompiledRoute | undefined;
  readonly model?: string | undefined;
  readonly body?: Readonly<Record<string, unknown>> | undefined;
  /** performance.now() when the request arrived; default: when it is refused. */
  readonly startedAt?: number | undefined;
}

const NOTHING_KNOWN: Refused = Object.freeze({});

/** Refusals at the endpoint level (method, auth, readiness): only the operation is known. Built once. */
const KNOWN_BY_ENDPOINT: Readonly<Record<Operation | 'models', Refused>> = Object.freeze({
  chat: Object.freeze({ operation: 'chat' }),
  embeddings: Object.freeze({ operation: 'embeddings' }),
  models: NOTHING_KNOWN,
});

export function createGateway(options: GatewayOptions = {}): Gateway {
  return new GatewayImpl(options);
}

class GatewayImpl implements Gateway {
  readonly server: Server;
  private compiled: Compiled | undefined;
  private readonly maxBody: number;
  private readonly bodyTimeoutMs: number;
  private readonly logger: Logger;
  private readonly hooks: GatewayHooks;
  private readonly shared: CallShared;
  private readonly pools: UpstreamPools;
  private readonly health: HealthRegistry;
  private readonly listener: Listener;

  constructor(options: GatewayOptions) {
    this.maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.pools = new UpstreamPools({ connections: options.upstreamConnections });
    this.bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    this.logger = options.logger ?? silentLogger;
    this.hooks = options.hooks ?? noopHooks;
    this.health = new HealthRegistry(options.health);
    this.shared = {
      pools: this.pools,
      providers: options.providers ?? defaultProviders,
      health: this.health,
      random: options.random ?? Math.random,
      logger: this.logger,
      keepOutputText: this.hooks.keepOutputText === true,
    };
    this.listener = new Listener((req, res) => this.handle(req, res), {
      headerTimeoutMs: options.headerTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      shutdownGraceMs: options.closeGraceMs,
      onGraceEnd: endForShutdown,
    });
    this.server = this.listener.server;
  }

  get config(): GatewayConfig | undefined {
    return this.compiled?.config;
  }

  applyConfig(config: GatewayConfig): void {
    const tables = compileTables(config, this.health);
    const keys = new Map<string, ApiKeyConfig>();
    for (const k of config.apiKeys) keys.set(k.hash.slice('sha256:'.length), k);
    this.pools.sync(config.providers);
    this.hooks.applyConfig?.(config);
    this.compiled = {
      config,
      keys,
      open: !config.requireKeys && keys.size === 0,
      byNamespace: tables.byNamespace,
      all: tables.all,
    };
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return this.listener.listen(port, host);
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.pools.close();
  }

  // ─── request path ─────────────────────────────────────────────────────────────────────────────────

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const spec = ROUTES[path];
    if (spec === undefined) {
      if (path === '/healthz') this.plain(res, 200, 'ok\n');
      else if (path === '/readyz')
        this.plain(
          res,
          this.compiled === undefined ? 503 : 200,
          this.compiled === undefined ? 'no config yet\n' : 'ready\n',
        );
      else this.reject(req, res, formatForPath(path), new GatewayError('not_found', `no such endpoint: ${path}`));
      return;
    }
    if (req.method !== spec.method && !(spec.method === 'GET' && req.method === 'HEAD')) {
      res.setHeader('allow', spec.method === 'GET' ? 'GET, HEAD' : spec.method);
      this.reject(
        req,
        res,
        spec.format,
        new GatewayError('method_not_allowed', `${req.method} is not allowed on ${path}; use ${spec.method}`),
        KNOWN_BY_ENDPOINT[spec.operation],
      );
      return;
    }
    try {
      const compiled = this.compiled;
      if (compiled === undefined)
        throw new GatewayError('not_ready', 'the gateway has no configuration yet; try again shortly');
      const key = authenticate(compiled, req);
      const table = key === undefined ? compiled.all : (compiled.byNamespace.get(key.namespace) ?? EMPTY_TABLE);
      if (spec.operation === 'models') {
        res.setHeader('content-type', 'application/json');
        res.setHeader('content-length', Buffer.byteLength(table.modelsBody));
        res.end(table.modelsBody);
        return;
      }
      this.readBody(req, res, spec.format, spec.operation, key, table);
    } catch (err) {
      this.reject(req, res, spec.format, err, KNOWN_BY_ENDPOINT[spec.operation]);
    }
  }

  private readBody(
    req: IncomingMessage,
    res: ServerResponse,
    format: ClientFormat,
    operation: Operation,
    key: ApiKeyConfig | undefined,
    table: NamespaceTable,
  ): void {
    const max = this.maxBody;
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      req.resume();
      this.reject(
        req,
        res,
        format,
        new GatewayError(
          'unsupported_media_type',
          `content-encoding ${encoding} is not supported: send the request body uncompressed`,
        ),
        { operation, key },
      );
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > max) {
      this.tooLarge(req, res, format, operation, key, max);
      return;
    }
    new BodyRead(this, req, res, format, operation, key, table, max, this.bodyTimeoutMs);
  }

  /** @internal BodyRead: the client's body did not arrive in time. */
  bodyTimedOut(
    req: IncomingMessage,
    res: ServerResponse,
    format: ClientFormat,
    operation: Operation,
    key: ApiKeyConfig | undefined,
    ms: number,
  ): void {
    // Drop whatever still comes, answer, and close the connection once the answer is out; a client that
    // keeps the socket open after that is cut a second later.
    res.setHeader('connection', 'close');
    req.resume();
    res.once('finish', () => setTimeout(destroySocket, 1000, req).unref());
    this.reject(
      req,
      res,
      format,
      new GatewayError('request_timeout', `the request body was not received within ${ms / 1000}s`),
      { operation, key },
    );
  }

  /** @internal */
  tooLarge(
    req: IncomingMessage,
    res: ServerResponse,
    format: ClientFormat,
    operation: Operation,
    key: ApiKeyConfig | undefined,
    max: number,
  ): void {
    // Keep reading (and dropping) what the client still sends so it can read the answer (listener.ts).
    discardBody(req, res, DISCARD_LIMIT_BYTES, this.bodyTimeoutMs);
    this.reject(
      req,
      res,
      format,
      new GatewayError('body_too_large', `request body exceeds the limit of ${max} bytes`),
      { operation, key },
    );
  }

  /** @internal BodyRead hands the complete body over. */
  dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    format: ClientFormat,
    operation: Operation,
    key: ApiKeyConfig | undefined,
    table: NamespaceTable,
    buf: Buffer,
  ): void {
    const startedAt = performance.now();
    let model: string | undefined;
    let routeForError: CompiledRoute | undefined;
    let validated: Record<string, unknown> | undefined;
    try {
      // JSON is UTF-8 (RFC 8259); decoding other bytes would silently turn them into U+FFFD.
      if (!isUtf8(buf)) throw new GatewayError('invalid_json', 'request body is not valid UTF-8');
      let body: unknown;
      try {
        body = JSON.parse(buf.toString('utf8'));
      } catch (err) {
        // V8 quotes the start of the text ("Unexpected token 's', "summarise "... is not valid JSON"): the prompt.
        const reason = (err as Error).message.replace(/, ".*$/s, '');
        throw new GatewayError('invalid_json', `request body is not valid JSON: ${reason}`);
      }
      const info = validateClientRequest(format, operation, body);
      const obj = info.body;
      validated = obj;
      model = info.model;
      const headers = req.headers;
      const route = matchRoute(table, model, (name) => headers[name]);
      if (route === undefined)
        throw new GatewayError('model_not_found', `model "${model}" is not served by any route you can use`, {
          param: 'model',
        });
      routeForError = route;
      const admitted = this.hooks.admit({
        clientFormat: format,
        operation,
        stream: info.stream,
        model,
        route: route.config,
        key,
        body: obj,
        startedAt,
        traceparent: headers.traceparent as string | undefined,
      });
      const newCall = (observer: RequestObserver) =>
        new ProxyCall(this.shared, res, {
          format,
          operation,
          body: obj,
          model: info.model,
          stream: info.stream,
          clientWantsUsage: info.clientWantsUsage,
          route,
          key,
          observer,
          startedAt,
          clientHeaders: forwardedClientHeaders(headers),
        });
      const run = (call: ProxyCall) =>
        call.run().catch((err: unknown) => {
          this.logger.error('proxy call failed', { err });
          try {
            call.fail(new GatewayError('internal', 'internal error', { cause: err }));
          } catch (e) {
            // Even the error answer failed: never an unhandled rejection (it would end the process).
            this.logger.error('could not answer a failed call', { err: e });
            req.socket.destroy();
          }
        });
      if (admitted instanceof Promise) {
        // The admission is a round trip (a shared quota store): the call exists meanwhile so that it sees a
        // client that leaves before the answer (then nothing goes upstream). noopObserver stands in.
        const call = newCall(noopObserver);
        admitted.then(
          (observer) => {
            call.admitted(observer);
            run(call);
          },
          (err: unknown) => this.reject(req, res, format, err, { operation, key, route, model, body: obj, startedAt }),
        );
      } else run(newCall(admitted));
    } catch (err) {
      this.reject(req, res, format, err, {
        operation,
        key,
        route: routeForError,
        model,
        body: validated,
        startedAt,
      });
    }
  }

  /** Answers with an error and reports the refusal to the hooks with what is known of the request. */
  private reject(
    req: IncomingMessage,
    res: ServerResponse,
    format: ClientFormat,
    err: unknown,
    known: Refused = NOTHING_KNOWN,
  ): void {
    const ge = toError(err, this.logger);
    const route = known.route;
    if (route !== undefined) {
      res.setHeader('x-tollgate-route', route.id);
      res.setHeader('x-tollgate-attempts', '0');
    }
    this.send(res, format, ge);
    const traceparent = req.headers.traceparent;
    try {
      this.hooks.rejected({
        clientFormat: format,
        operation: known.operation,
        status: ge.status,
        errorCode: ge.code,
        route: route?.config,
        model: known.model,
        key: known.key,
        body: known.body,
        startedAt: known.startedAt ?? performance.now(),
        traceparent: typeof traceparent === 'string' ? traceparent : undefined,
      });
    } catch (e) {
      this.logger.warn('hook rejected threw', { err: e });
    }
  }

  private send(res: ServerResponse, format: ClientFormat, err: GatewayError): void {
    if (res.headersSent) {
      if (!res.writableEnded) res.end();
      return;
    }
    const r = renderError(err, format);
    res.statusCode = r.status;
    for (const k in r.headers) res.setHeader(k, r.headers[k]!);
    res.setHeader('content-length', Buffer.byteLength(r.body));
    res.end(r.body);
  }

  private plain(res: ServerResponse, status: number, text: string): void {
    res.statusCode = status;
    res.setHeader('content-type', 'text/plain');
    res.setHeader('content-length', text.length);
    res.end(text);
  }
}

function authenticate(c: Compiled, req: IncomingMessage): ApiKeyConfig | undefined {
  // Open mode: SDKs insist on sending some key; whatever they send is ignored.
  if (c.open) return undefined;
  const h = req.headers;
  let presented: string | undefined;
  const auth = h.authorization;
  if (auth !== undefined && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ')
    presented = auth.slice(7).trim();
  else {
    const x = h['x-api-key'];
    if (typeof x === 'string' && x !== '') presented = x.trim();
  }
  if (presented === undefined || presented === '')
    throw new GatewayError('missing_api_key', 'missing API key: send Authorization: Bearer <key> or x-api-key');
  // One-shot crypto.hash: no Hash object per request (same digest as createHash().update().digest()).
  const key = c.keys.get(hash('sha256', presented, 'hex'));
  if (key !== undefined) return key;
  throw new GatewayError('invalid_api_key', 'invalid API key');
}

function formatForPath(path: string): ClientFormat {
  return path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
}

function toError(err: unknown, logger: Logger): GatewayError {
  if (err instanceof GatewayError) return err;
  if (isStackOverflow(err)) return tooDeep(err);
  logger.error('unexpected error on the request path', { err });
  return new GatewayError('internal', 'internal error', { cause: err });
}

function destroySocket(req: IncomingMessage): void {
  req.socket.destroy();
}

function onBodyTimeout(read: BodyRead): void {
  read.timedOut();
}

/**
 * Reading one request body: size limit, body-read timeout, then dispatch. One object per request holds
 * the state the listeners share.
 */
class BodyRead {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly gw: GatewayImpl,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly format: ClientFormat,
    private readonly operation: Operation,
    private readonly key: ApiKeyConfig | undefined,
    private readonly table: NamespaceTable,
    private readonly max: number,
    private readonly timeoutMs: number,
  ) {
    if (timeoutMs > 0) this.timer = setTimeout(onBodyTimeout, timeoutMs, this);
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
  }

  /** The client went away mid-upload (or the socket failed): nobody to answer. */
  private readonly onError = (): void => {
    if (!this.done) this.stop();
  };

  private readonly onData = (c: Buffer): void => {
    if (this.done) return;
    this.size += c.length;
    if (this.size > this.max) {
      this.stop();
      this.gw.tooLarge(this.req, this.res, this.format, this.operation, this.key, this.max);
      return;
    }
    this.chunks.push(c);
  };

  private readonly onEnd = (): void => {
    if (this.done) return;
    const chunks = this.chunks;
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size);
    this.stop();
    this.gw.dispatch(this.req, this.res, this.format, this.operation, this.key, this.table, buf);
  };

  timedOut(): void {
    this.timer = undefined;
    if (this.done) return;
    this.stop();
    if (this.req.socket.destroyed) return;
    this.gw.bodyTimedOut(this.req, this.res, this.format, this.operation, this.key, this.timeoutMs);
  }

  private stop(): void {
    this.done = true;
    this.chunks.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
  }
}
