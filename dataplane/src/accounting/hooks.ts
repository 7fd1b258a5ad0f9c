/**
 * The accounting side of the request path (implements pipeline/hooks.ts), composed of one module per job:
 * quota admission (admission.ts, the admit stage's check), the request's observer (observer.ts: usage
 * estimation, cost, settlement), spans (spans.ts), metrics (request-metrics.ts), the access log (access.ts)
 * and the label tables (labels.ts). Tables (prices, policies) are rebuilt when a config loads; per request
 * there is one observer object and a few map lookups. Tracing work happens only when an OTLP endpoint is
 * configured.
 */
import type { GatewayConfig } from '../../../contract/gateway-config.js';
import type { Logger } from '../log.js';
import type { GatewayHooks, RejectedInfo, RequestInfo, RequestObserver } from '../pipeline/hooks.js';
import { type AccessLogWriter, stdoutAccessLog } from '../telemetry/access-log.js';
import type { ContentLogOptions } from '../telemetry/content-log.js';
import { createGatewayMetrics, type GatewayMetrics } from '../telemetry/metrics.js';
import { type Otel, otelSettingsFromEnv, startOtel } from '../telemetry/otel.js';
import { PROMETHEUS_CONTENT_TYPE } from '../telemetry/registry.js';
import type { Tracer } from '../telemetry/tracing/tracer.js';
import { refusedRecord } from './access.js';
import { QuotaAdmission } from './admission.js';
import { CapacityService, createCapacity } from './capacity/service.js';
import { buildTables, emptyTables, type Tables } from './labels.js';
import { type AccountingSinks, Observer } from './observer.js';
import { RedisStore } from './quota/redis-store.js';
import { QuotaService, type QuotaTicket } from './quota/service.js';
import { recordRefused } from './request-metrics.js';
import { rejectedSpan } from './spans.js';

export { PROMETHEUS_CONTENT_TYPE };

export interface AccountingOptions {
  /** Quota service (its store decides in-process vs Redis); default: in-process. */
  quota?: QuotaService;
  /** Provider capacity (LLMProvider spec.limits); default: in-process counters. */
  capacity?: CapacityService;
  /** Tracer and OTLP metric export; default: from OTEL_* env (nothing when unset). */
  otel?: Otel;
  /** Where access-log lines go; default stdout. `false`: no access log. */
  accessLog?: AccessLogWriter | false;
  logger?: Logger;
  /** Output tokens reserved for token/cost quotas when the request sets no max_tokens. Default 4096. */
  defaultMaxTokens?: number;
  /** Prompts and completions in the access log (`--log-content`); absent: never. */
  logContent?: ContentLogOptions;
}

export class AccountingHooks implements GatewayHooks<QuotaTicket>, AccountingSinks {
  readonly metrics: GatewayMetrics;
  readonly quota: QuotaService;
  /** The admit stage's quota check. */
  readonly admission: QuotaAdmission;
  /** Provider capacity, asked per try by the attempt loop (ADR 0063). */
  readonly capacity: CapacityService;
  readonly otel: Otel | undefined;
  readonly tracer: Tracer | undefined;
  private tables: Tables = emptyTables();
  readonly accessLog: AccessLogWriter | undefined;
  readonly logger: Logger | undefined;
  /** Set when prompts and completions go into the access log. */
  readonly logContent: ContentLogOptions | undefined;
  /** The proxy keeps every completion's text for us only when it is logged. */
  readonly keepOutputText: boolean;

  constructor(options: AccountingOptions = {}) {
    this.otel = options.otel;
    this.tracer = options.otel?.tracer;
    this.metrics = createGatewayMetrics();
    options.otel?.exportMetrics(this.metrics.registry);
    this.logger = options.logger;
    this.quota =
      options.quota ??
      new QuotaService({ logger: options.logger, metrics: { quotaRejected: (p) => this.quotaRejected(p) } });
    this.admission = new QuotaAdmission(this.quota, options.defaultMaxTokens ?? 4096);
    this.capacity =
      options.capacity ?? new CapacityService({ logger: options.logger, defaultMaxTokens: options.defaultMaxTokens });
    this.accessLog = options.accessLog === false ? undefined : (options.accessLog ?? stdoutAccessLog);
    this.logContent = this.accessLog ? options.logContent : undefined;
    this.keepOutputText = this.logContent !== undefined;
  }

  /** A response cache store command failed or timed out (tollgate_cache_errors_total). */
  cacheError(op: 'get' | 'set'): void {
    this.metrics.cacheErrors.labels(op).inc();
  }

  quotaRejected(policyId: string): void {
    this.metrics.quotaRejections.labels(policyId).inc();
  }

  applyConfig(config: GatewayConfig): void {
    this.tables = buildTables(config);
    this.admission.applyTables(this.tables);
    this.quota.applyPolicies(config.quotaPolicies);
    this.capacity.apply(config.providers);
  }

  metricsText(): string {
    return this.metrics.registry.render();
  }

  observe(req: RequestInfo, ticket: QuotaTicket | undefined): RequestObserver {
    return new Observer(this, this.tables, req, ticket);
  }

  rejected(info: RejectedInfo): void {
    const route = info.route?.id ?? '';
    recordRefused(this.metrics, route, info.status);
    const tracer = this.tracer;
    const span = tracer && info.operation ? rejectedSpan(tracer, info.operation, info) : undefined;
    if (this.accessLog) this.accessLog(refusedRecord(info, route, span?.traceId, this.logContent));
  }

  private closing: Promise<void> | undefined;

  /**
   * Sends what is still pending (quota settlements, spans, metrics) and closes the stores. Idempotent: the
   * server's 'close' and a shutdown path may both call it; both wait for the same work.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.quota.close();
      await this.capacity.close();
      await this.otel?.shutdown();
    })();
    return this.closing;
  }
}

export interface CreateAccountingOptions {
  /** `redis://` URL of the shared quota store; absent: limits are enforced in-process. */
  redisUrl?: string;
  /** Per-command Redis timeout (ms); default 250. */
  redisTimeoutMs?: number;
  logger?: Logger;
  accessLog?: AccessLogWriter | false;
  env?: NodeJS.ProcessEnv;
  /** Prompts and completions in the access log (`--log-content`); absent: never. */
  logContent?: ContentLogOptions;
}

/**
 * TOLLGATE_QUOTA_CREDITS: `off` sends every admission to Redis (no credits, ADR 0034); `on` or unset keeps
 * them. Anything else is reported and treated as unset.
 */
export function quotaCredits(env: NodeJS.ProcessEnv, logger?: Logger): boolean {
  const v = (env.TOLLGATE_QUOTA_CREDITS ?? '').trim().toLowerCase();
  if (v === 'off') return false;
  if (v !== '' && v !== 'on')
    logger?.warn(`TOLLGATE_QUOTA_CREDITS=${env.TOLLGATE_QUOTA_CREDITS} is not on or off; credits stay on`);
  return true;
}

/** Accounting wired from flags and env: Redis when a URL is given, OTLP when OTEL_* asks for it. */
export async function createAccounting(options: CreateAccountingOptions = {}): Promise<AccountingHooks> {
  const env = options.env ?? process.env;
  const settings = otelSettingsFromEnv(env);
  const otel = settings.traces || settings.metrics ? startOtel(settings, options.logger) : undefined;
  let hooks: AccountingHooks | undefined;
  const metrics = { quotaRejected: (p: string) => hooks?.quotaRejected(p) };
  let quota: QuotaService;
  if (options.redisUrl) {
    const store = new RedisStore({ url: options.redisUrl, timeoutMs: options.redisTimeoutMs });
    const ok = await store.ready(3000);
    if (!ok) options.logger?.warn('quota store (redis) not reachable yet; failureMode applies until it is');
    quota = new QuotaService({ store, logger: options.logger, metrics, credits: quotaCredits(env, options.logger) });
  } else {
    quota = new QuotaService({ logger: options.logger, metrics });
  }
  const maxTok = Number(env.TOLLGATE_QUOTA_DEFAULT_MAX_TOKENS);
  const defaultMaxTokens = Number.isFinite(maxTok) && maxTok > 0 ? maxTok : undefined;
  const capacity = createCapacity({
    redisUrl: options.redisUrl,
    redisTimeoutMs: options.redisTimeoutMs,
    logger: options.logger,
    defaultMaxTokens,
    credits: quotaCredits(env),
  });
  hooks = new AccountingHooks({
    quota,
    capacity,
    otel,
    logger: options.logger,
    accessLog: options.accessLog ?? (env.TOLLGATE_ACCESS_LOG === 'off' ? false : undefined),
    defaultMaxTokens,
    logContent: options.logContent,
  });
  if (hooks.logContent)
    options.logger?.warn(
      'content logging is on: the access log contains the prompts and completions of every request (personal or confidential data may end up in logs)',
      { maxBytes: hooks.logContent.maxBytes },
    );
  else if (options.logContent)
    options.logger?.warn(
      'content logging was asked for but the access log is off (TOLLGATE_ACCESS_LOG=off): nothing is logged',
    );
  return hooks;
}
