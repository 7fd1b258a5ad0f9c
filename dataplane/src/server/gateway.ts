/**
 * Entry point of the data plane's HTTP server. `tollgate run`, `tollgate dataplane` and the tests build on
 * `createGateway`. The hot path is node:http + undici (docs/adr/0001).
 *
 * Per request: path/method dispatch → authenticate (sha256 of the key, Map lookup) → the pipeline
 * (pipeline/pipeline.ts: read body → parse → route → admit → attempt loop; docs/pipeline.md, ADR 0043).
 * Refusals and the gateway's own answers go out through the one writer, pipeline/respond.ts.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ApiKeyConfig, GatewayConfig } from '../../../contract/gateway-config.js';
import type { ResponseCache } from '../cache/cache.js';
import { type ClientFormat, GatewayError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { Exchange, type Known } from '../pipeline/exchange.js';
import { type GatewayHooks, noopHooks } from '../pipeline/hooks.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { writeJson, writePlain } from '../pipeline/respond.js';
import type { Stage } from '../pipeline/stage.js';
import { authenticate, type KeyTable } from '../pipeline/stages/authenticate.js';
import { STAGES, stagesWithCache } from '../pipeline/stages/index.js';
import { adapterFor, translatorFor } from '../providers/index.js';
import type { Operation } from '../providers/types.js';
import { type CallShared, endForShutdown, type ProviderRegistry } from '../proxy/call.js';
import { HealthProber, type ProberOptions } from '../proxy/health-probe.js';
import { UpstreamPools } from '../proxy/upstream.js';
import { ConcurrencyRegistry } from '../routing/concurrency.js';
import { type HealthOptions, HealthRegistry } from '../routing/health.js';
import { compileTables, EMPTY_TABLE, type NamespaceTable } from '../routing/table.js';
import { Listener, type ListenerOptions } from './listener.js';

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
  /** Active health checks: the probes' timer (tests inject one) and an observer of each probe's outcome. */
  healthProbes?: Pick<ProberOptions, 'timers' | 'onProbe'>;
  /** The providers' maxConcurrency slots and queues (tests pass one to watch them); default: a new registry. */
  concurrency?: ConcurrencyRegistry;
  /** Random source in [0, 1) for weighted choice and jitter; default Math.random. */
  random?: () => number;
  /** Most connections per provider origin (proxy/upstream.ts); default 256. */
  upstreamConnections?: number;
  /** How long close() lets in-flight requests run before ending them; default 25 s (server/listener.ts). */
  closeGraceMs?: number;
  /** The stages between the body and the admission, in order; default pipeline/stages/index.ts STAGES. */
  stages?: readonly Stage[];
  /** The response cache (ADR 0070); absent: `spec.cache` on a route has no effect. */
  cache?: ResponseCache;
  /** Why a config does not make the gateway ready (`/readyz` 503 with it), undefined when it does. */
  readiness?: (config: GatewayConfig) => string | undefined;
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

/** Everything derived from one config, built once when it is applied (keys: the authenticate stage's table). */
interface Compiled extends KeyTable {
  readonly config: GatewayConfig;
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

const NOTHING_KNOWN: Known = Object.freeze({});

/** Refusals at the endpoint level (method, auth, readiness): only the operation is known. Built once. */
const KNOWN_BY_ENDPOINT: Readonly<Record<Operation | 'models', Known>> = Object.freeze({
  chat: Object.freeze({ operation: 'chat' }),
  embeddings: Object.freeze({ operation: 'embeddings' }),
  models: NOTHING_KNOWN,
});

const NOT_READY = new GatewayError('not_ready', 'the gateway has no configuration yet; try again shortly');

export function createGateway(options: GatewayOptions = {}): Gateway {
  return new GatewayImpl(options);
}

class GatewayImpl implements Gateway {
  readonly server: Server;
  private compiled: Compiled | undefined;
  private readonly logger: Logger;
  private readonly hooks: GatewayHooks;
  private readonly shared: CallShared;
  private readonly pools: UpstreamPools;
  private readonly health: HealthRegistry;
  private readonly concurrency: ConcurrencyRegistry;
  private readonly prober: HealthProber;
  private readonly readiness: GatewayOptions['readiness'];
  private readonly listener: Listener;
  private readonly pipeline: Pipeline;

  constructor(options: GatewayOptions) {
    this.readiness = options.readiness;
    this.pools = new UpstreamPools({ connections: options.upstreamConnections });
    this.logger = options.logger ?? silentLogger;
    this.hooks = options.hooks ?? noopHooks;
    this.health = new HealthRegistry(options.health);
    this.concurrency = options.concurrency ?? new ConcurrencyRegistry();
    this.shared = {
      pools: this.pools,
      providers: options.providers ?? defaultProviders,
      health: this.health,
      random: options.random ?? Math.random,
      logger: this.logger,
      keepOutputText: this.hooks.keepOutputText === true,
      capacity: this.hooks.capacity,
      cache: options.cache,
    };
    this.prober = new HealthProber({
      pools: this.pools,
      providers: this.shared.providers,
      health: this.health,
      logger: this.logger,
      timers: options.healthProbes?.timers,
      onProbe: options.healthProbes?.onProbe,
    });
    this.pipeline = new Pipeline({
      stages: options.stages ?? (options.cache === undefined ? STAGES : stagesWithCache(options.cache)),
      hooks: this.hooks,
      shared: this.shared,
      logger: this.logger,
      limits: {
        maxBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
        timeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
      },
    });
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
    const tables = compileTables(config, this.health, this.concurrency.sync(config.providers));
    const keys = new Map<string, ApiKeyConfig>();
    for (const k of config.apiKeys) keys.set(k.hash.slice('sha256:'.length), k);
    this.pools.sync(config.providers);
    this.prober.sync(config.providers);
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
    this.prober.close();
    await this.listener.close();
    await this.pools.close();
  }

  // ─── request path: endpoint → authenticate → the pipeline (docs/pipeline.md) ─────────────────────────

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const spec = ROUTES[path];
    if (spec === undefined) {
      if (path === '/healthz') writePlain(res, 200, 'ok\n');
      else if (path === '/readyz') {
        const why = this.compiled === undefined ? 'no config yet' : this.readiness?.(this.compiled.config);
        writePlain(res, why === undefined ? 200 : 503, why === undefined ? 'ready\n' : `${why}\n`);
      } else
        this.pipeline.reject(req, res, formatForPath(path), new GatewayError('not_found', `no such endpoint: ${path}`));
      return;
    }
    const known = KNOWN_BY_ENDPOINT[spec.operation];
    if (req.method !== spec.method && !(spec.method === 'GET' && req.method === 'HEAD')) {
      res.setHeader('allow', spec.method === 'GET' ? 'GET, HEAD' : spec.method);
      this.pipeline.reject(
        req,
        res,
        spec.format,
        new GatewayError('method_not_allowed', `${req.method} is not allowed on ${path}; use ${spec.method}`),
        known,
      );
      return;
    }
    const compiled = this.compiled;
    if (compiled === undefined) {
      this.pipeline.reject(req, res, spec.format, NOT_READY, known);
      return;
    }
    const key = authenticate(compiled, req.headers);
    if (key instanceof GatewayError) {
      this.pipeline.reject(req, res, spec.format, key, known);
      return;
    }
    const table = key === undefined ? compiled.all : (compiled.byNamespace.get(key.namespace) ?? EMPTY_TABLE);
    if (spec.operation === 'models') {
      writeJson(res, table.modelsBody);
      return;
    }
    const x = new Exchange(req, res, spec.format, spec.operation, key, table);
    try {
      this.pipeline.start(x);
    } catch (err) {
      // Nothing on the path may end the process (a throw here would reach node:http's 'request' emit).
      this.pipeline.refuse(x, err);
    }
  }
}

function formatForPath(path: string): ClientFormat {
  return path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
}
