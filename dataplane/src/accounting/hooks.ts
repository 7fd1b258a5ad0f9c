/**
 * The accounting side of the request path (implements pipeline/hooks.ts): quota admission and settlement,
 * cost, usage estimation, spans, metrics and the access log. Tables (prices, policies) are rebuilt when a
 * config loads; per request there is one observer object and a few map lookups. Tracing work happens
 * only when an OTLP endpoint is configured.
 */
import type { ApiKeyConfig, GatewayConfig, ProviderConfig, RouteConfig } from '../../../contract/gateway-config.js';
import type { Logger } from '../log.js';
import type {
  AttemptInfo,
  AttemptResult,
  FinishInfo,
  GatewayHooks,
  RejectedInfo,
  RequestInfo,
  RequestObserver,
} from '../pipeline/hooks.js';
import { ZERO_USAGE } from '../providers/common/usage.js';
import type { Operation, Usage } from '../providers/types.js';
import { type AccessLogWriter, type AccessRecord, stdoutAccessLog } from '../telemetry/access-log.js';
import { type ContentLogOptions, contentFields } from '../telemetry/content-log.js';
import { createGatewayMetrics, type GatewayMetrics } from '../telemetry/metrics.js';
import { type Otel, otelSettingsFromEnv, startOtel } from '../telemetry/otel.js';
import { PROMETHEUS_CONTENT_TYPE } from '../telemetry/registry.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK,
  GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI,
  GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
  GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
  type SpanAttributes,
} from '../telemetry/semconv.js';
import { formatTraceparent, parseTraceparent } from '../telemetry/trace-context.js';
import { type Attributes, type Span, SpanKind } from '../telemetry/tracing/span.js';
import type { Tracer } from '../telemetry/tracing/tracer.js';
import { buildPriceIndex, type CostResult, computeCost, lookupPrice, type PriceIndex } from './cost.js';
import { estimateUsage, requestedMaxTokens, requestText, roughInputTokens } from './estimate.js';
import { RedisStore } from './quota/redis-store.js';
import { type QuotaRequest, QuotaService, type QuotaTicket } from './quota/service.js';

export { PROMETHEUS_CONTENT_TYPE };

/** OTel GenAI `gen_ai.provider.name` values for our provider types. */
const GENAI_PROVIDER: Record<ProviderConfig['type'], string> = {
  openai: GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
  'azure-openai': GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI,
  anthropic: GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  'openai-compatible': GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
  gemini: GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
  'vertex-ai': GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI,
  bedrock: GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK,
};

export interface AccountingOptions {
  /** Quota service (its store decides in-process vs Redis); default: in-process. */
  quota?: QuotaService;
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

interface Tables {
  prices: PriceIndex;
  providers: ReadonlyMap<string, ProviderConfig>;
  /** Per provider id: the models whose name may be a metric label (see backendLabel). */
  labelled: ReadonlyMap<string, ProviderLabels>;
}

/** Metric `backend` labels of one provider, built when the config loads. */
interface ProviderLabels {
  /** Model → `<provider>/<model>`: the provider's `models` catalogue, models route backends fix, exact route models. */
  readonly known: Map<string, string>;
  /** `<provider>/*`: any other model (a prefix route passing the client's model name through). */
  readonly other: string;
}

/**
 * The `backend` metric label: `<provider>/<model>` when the model is in the provider's catalogue, fixed by
 * a route backend, or an exact model name of a route passing it to the provider; else `<provider>/*`. Client-chosen model names (prefix routes with no backend model)
 * would otherwise make label sets, and memory, grow without bound. Logs and spans keep the real model.
 */
function backendLabel(tables: Tables, provider: ProviderConfig | undefined, model: string | undefined): string {
  if (provider === undefined) return '';
  const l = tables.labelled.get(provider.id);
  if (l === undefined) return `${provider.name}/*`;
  return (model !== undefined ? l.known.get(model) : undefined) ?? l.other;
}

function buildLabels(config: GatewayConfig): Map<string, ProviderLabels> {
  const out = new Map<string, ProviderLabels>();
  for (const p of config.providers) {
    const known = new Map<string, string>();
    for (const m of p.models) known.set(m.name, `${p.name}/${m.name}`);
    out.set(p.id, { known, other: `${p.name}/*` });
  }
  const add = (l: ProviderLabels, model: string) => {
    if (!l.known.has(model)) l.known.set(model, `${l.other.slice(0, -1)}${model}`);
  };
  for (const r of config.routes)
    for (const b of r.backends) {
      const l = out.get(b.provider);
      if (l === undefined) continue;
      if (b.model !== undefined) add(l, b.model);
      // The client's model passes through: bounded when the route lists it exactly, not for a prefix.
      else for (const m of r.models) if (!m.prefix) add(l, m.name);
    }
  return out;
}

export class AccountingHooks implements GatewayHooks {
  readonly metrics: GatewayMetrics;
  readonly quota: QuotaService;
  readonly otel: Otel | undefined;
  readonly tracer: Tracer | undefined;
  private tables: Tables = { prices: new Map(), providers: new Map(), labelled: new Map() };
  readonly accessLog: AccessLogWriter | undefined;
  readonly logger: Logger | undefined;
  private readonly defaultMaxTokens: number;
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
    this.accessLog = options.accessLog === false ? undefined : (options.accessLog ?? stdoutAccessLog);
    this.defaultMaxTokens = options.defaultMaxTokens ?? 4096;
    this.logContent = this.accessLog ? options.logContent : undefined;
    this.keepOutputText = this.logContent !== undefined;
  }

  quotaRejected(policyId: string): void {
    this.metrics.quotaRejections.labels(policyId).inc();
  }

  applyConfig(config: GatewayConfig): void {
    const providers = new Map<string, ProviderConfig>();
    for (const p of config.providers) providers.set(p.id, p);
    this.tables = { prices: buildPriceIndex(config), providers, labelled: buildLabels(config) };
    this.quota.applyPolicies(config.quotaPolicies);
  }

  metricsText(): string {
    return this.metrics.registry.render();
  }

  admit(req: RequestInfo): RequestObserver | Promise<RequestObserver> {
    const tables = this.tables;
    const policies = this.quota.policiesFor(req.key?.id, req.model);
    if (policies.length === 0) return new Observer(this, tables, req, undefined);
    let needsTokens = false;
    let needsCost = false;
    for (const p of policies)
      for (const l of p.limits) {
        if (l.kind === 'tokens') needsTokens = true;
        else if (l.kind === 'costUSD') needsCost = true;
      }
    const q: QuotaRequest = { keyId: req.key?.id, model: req.model, reserveTokens: 0, reserveCostNano: 0, policies };
    if (needsTokens || needsCost) {
      const input = roughInputTokens(requestText(req.operation, req.body).text.length);
      const output = req.operation === 'embeddings' ? 0 : (requestedMaxTokens(req.body) ?? this.defaultMaxTokens);
      q.reserveTokens = input + output;
      if (needsCost) q.reserveCostNano = maxCostNano(tables, req.route, req.model, input, output);
    }
    // In-process counters and credits answer at once (a refusal throws its 429 to the caller): no promise
    // hop; only an admission that goes to Redis is a promise.
    const admitted = this.quota.admitNow(q);
    if (admitted instanceof Promise) return admitted.then((ticket) => new Observer(this, tables, req, ticket));
    return new Observer(this, tables, req, admitted);
  }

  rejected(info: RejectedInfo): void {
    const route = info.route?.id ?? '';
    this.metrics.requests.labels(route, '', String(info.status)).inc();
    const tracer = this.tracer;
    const span = tracer && info.operation ? rejectedSpan(tracer, info.operation, info) : undefined;
    if (this.accessLog) {
      const line: AccessRecord = {
        time: new Date().toISOString(),
        type: 'access',
        route: route || undefined,
        model: info.model,
        status: info.status,
        error: info.errorCode,
        attempts: 0,
        latency_ms: round1(performance.now() - info.startedAt),
        key: info.key?.id,
        team: info.key?.labels.team,
        trace_id: span?.traceId,
      };
      if (this.logContent) Object.assign(line, contentFields(this.logContent, info.body, undefined));
      this.accessLog(line);
    }
  }

  private closing: Promise<void> | undefined;

  /**
   * Sends what is still pending (quota settlements, spans, metrics) and closes the stores. Idempotent: the
   * server's 'close' and a shutdown path may both call it; both wait for the same work.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.quota.close();
      await this.otel?.shutdown();
    })();
    return this.closing;
  }
}

/**
 * A request's SERVER span (served or refused): child of the client's `traceparent` when it sent one, with
 * the key's Secret id and team label (never the key) added to `attributes`.
 */
function startServerSpan(
  tracer: Tracer,
  name: string,
  startTime: number,
  traceparent: string | undefined,
  key: ApiKeyConfig | undefined,
  attributes: Attributes,
): Span {
  if (key) {
    attributes['tollgate.key'] = key.id;
    if (key.labels.team) attributes['tollgate.key_team'] = key.labels.team;
  }
  return tracer.startSpan(name, SpanKind.SERVER, startTime, parseTraceparent(traceparent), attributes);
}

/** Longest client-sent model name put on a span of a refused request (the body limit is the only other bound). */
const MAX_REFUSED_MODEL = 256;

/**
 * The one SERVER span of a request refused before it had an observer (auth, bad input, unknown model,
 * quota), so 401/404/429 show in traces, parented on the client's traceparent; started and ended at once.
 * Named `<operation> <model>` once the request was routed (the model is one a route serves), else
 * `<operation>`: a model no route knows is client-chosen text, kept (capped) in gen_ai.request.model only.
 */
function rejectedSpan(tracer: Tracer, op: Operation, info: RejectedInfo): Span {
  const model = info.model;
  const attributes: Attributes = {
    'gen_ai.operation.name': op,
    'tollgate.client_format': info.clientFormat,
    'http.response.status_code': info.status,
    'error.type': info.errorCode,
    'tollgate.attempts': 0,
  } satisfies SpanAttributes;
  if (model !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_MODEL] =
      model.length > MAX_REFUSED_MODEL ? model.slice(0, MAX_REFUSED_MODEL) : model;
  if (info.route) attributes['tollgate.route'] = info.route.id;
  const span = startServerSpan(
    tracer,
    info.route && model !== undefined ? `${op} ${model}` : op,
    info.startedAt,
    info.traceparent,
    info.key,
    attributes,
  );
  span.setError(info.errorCode);
  span.end(performance.now());
  return span;
}

/** Upper bound of a request's cost over the route's candidate backends (nano-USD); 0 when none is priced. */
function maxCostNano(tables: Tables, route: RouteConfig, model: string, input: number, output: number): number {
  let max = 0;
  for (const b of route.backends) {
    const price = lookupPrice(tables.prices, b.provider, b.model ?? model);
    if (!price) continue;
    const pico = input * Math.max(price.input, price.cacheWrite) + output * price.output;
    if (pico > max) max = pico;
  }
  return Math.ceil(max / 1000);
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}

class Observer implements RequestObserver {
  readonly headers: Readonly<Record<string, string>> | undefined;
  private span: Span | undefined;
  private attemptSpan: Span | undefined;
  private firstByteAt: number | undefined;
  private done = false;

  constructor(
    private readonly acc: AccountingHooks,
    private readonly tables: Tables,
    private readonly req: RequestInfo,
    private readonly ticket: QuotaTicket | undefined,
  ) {
    this.headers = ticket?.headers;
    const tracer = acc.tracer;
    if (tracer) {
      const op = req.operation;
      this.span = startServerSpan(tracer, `${op} ${req.model}`, req.startedAt, req.traceparent, req.key, {
        'gen_ai.operation.name': op,
        'gen_ai.request.model': req.model,
        'tollgate.route': req.route.id,
        'tollgate.client_format': req.clientFormat,
        'tollgate.stream': req.stream,
      } satisfies SpanAttributes);
    }
  }

  attemptStart(a: AttemptInfo): void {
    const tracer = this.acc.tracer;
    if (!tracer || !this.span) return;
    this.attemptSpan = tracer.startSpan(
      `${this.req.operation} ${a.upstreamModel}`,
      SpanKind.CLIENT,
      a.startedAt,
      this.span.context(),
      {
        'gen_ai.operation.name': this.req.operation,
        'gen_ai.provider.name': GENAI_PROVIDER[a.provider.type],
        'gen_ai.request.model': a.upstreamModel,
        'tollgate.backend': a.backend,
        'tollgate.attempt': a.attempt,
      } satisfies SpanAttributes,
    );
  }

  /** The trace continues upstream: the attempt's span when tracing, else the client's traceparent as is. */
  upstreamHeaders(): Readonly<Record<string, string>> | undefined {
    const s = this.attemptSpan;
    if (s) return { traceparent: formatTraceparent(s.context()) };
    return this.req.traceparent ? { traceparent: this.req.traceparent } : undefined;
  }

  attemptEnd(a: AttemptInfo, r: AttemptResult): void {
    this.acc.metrics.attempts.labels(backendLabel(this.tables, a.provider, a.upstreamModel), r.outcome).inc();
    const s = this.attemptSpan;
    if (s) {
      this.attemptSpan = undefined;
      s.setAttribute('tollgate.outcome', r.outcome);
      if (r.status !== undefined) s.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, r.status);
      if (r.outcome !== 'ok') {
        s.setAttribute(ATTR_ERROR_TYPE, r.outcome);
        s.setError(r.outcome);
      }
      s.end(r.endedAt);
    }
  }

  firstByte(at: number): void {
    if (this.firstByteAt === undefined) this.firstByteAt = at;
  }

  finish(info: FinishInfo): void {
    if (this.done) return;
    this.done = true;
    if (this.attemptSpan) {
      this.attemptSpan.end(info.endedAt);
      this.attemptSpan = undefined;
    }
    if (info.usage) {
      this.complete(info, info.usage);
      return;
    }
    // Something was served but the provider reported no usage (a stream cut short, an upstream that
    // omits it): estimate input from the request and output from the text the client got, with the
    // tokenizer, off the client's path.
    if (info.provider !== undefined && info.status < 400) {
      estimateUsage({
        operation: this.req.operation,
        body: this.req.body,
        outputText: info.outputText,
        model: info.upstreamModel ?? this.req.model,
      })
        .then(
          (u) => this.complete(info, u),
          (err: unknown) => {
            this.acc.logger?.warn('usage estimation failed', { err });
            this.complete(info, undefined);
          },
        )
        .catch((err: unknown) => this.acc.logger?.warn('accounting finish failed', { err }));
      return;
    }
    this.complete(info, undefined);
  }

  private complete(info: FinishInfo, usage: Usage | undefined): void {
    const acc = this.acc;
    const m = acc.metrics;
    const req = this.req;
    const route = info.route.id;
    const backend = info.backend === undefined ? '' : backendLabel(this.tables, info.provider, info.upstreamModel);
    let cost: CostResult | undefined;
    if (usage && info.provider && info.upstreamModel !== undefined) {
      cost = computeCost(this.tables.prices, info.provider.id, info.upstreamModel, usage);
    }
    const u = usage ?? ZERO_USAGE;
    if (this.ticket) {
      void this.ticket.settle({
        tokens: u.inputTokens + u.outputTokens,
        costNano: cost?.priced ? cost.nano : 0,
      });
    }
    const providerName = info.provider ? GENAI_PROVIDER[info.provider.type] : '';
    const status = String(info.status);
    m.requests.labels(route, backend, status).inc();
    const seconds = (info.endedAt - req.startedAt) / 1000;
    m.operationDuration.labels(req.operation, providerName, route, backend, info.errorCode ?? '').observe(seconds);
    const firstByteAt = info.firstByteAt ?? this.firstByteAt;
    if (firstByteAt !== undefined && info.provider)
      m.ttft.labels(route, backend).observe((firstByteAt - req.startedAt) / 1000);
    if (usage && info.provider) {
      m.tokenUsage.labels('input', req.operation, providerName, route, backend).observe(usage.inputTokens);
      if (req.operation !== 'embeddings')
        m.tokenUsage.labels('output', req.operation, providerName, route, backend).observe(usage.outputTokens);
      if (usage.estimated) m.estimated.labels(backend).inc();
    }
    const team = info.key?.labels.team ?? '';
    if (cost?.priced) m.cost.labels(route, backend, team).inc(cost.nano);
    else if (cost && !cost.priced) m.unpriced.labels(backend).inc();

    const span = this.span;
    if (span) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, info.status);
      span.setAttribute('tollgate.attempts', info.attempts);
      if (info.backend) span.setAttribute('tollgate.backend', info.backend);
      if (info.provider) span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, providerName);
      if (info.responseModel) span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, info.responseModel);
      if (usage) {
        span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, usage.inputTokens);
        span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, usage.outputTokens);
        if (usage.estimated) span.setAttribute('tollgate.usage_estimated', true);
      }
      if (cost?.priced) span.setAttribute('tollgate.cost_usd', cost.usd);
      else if (cost) span.setAttribute('tollgate.unpriced', true);
      if (info.errorCode) {
        span.setAttribute(ATTR_ERROR_TYPE, info.errorCode);
        span.setError(info.errorCode);
      }
      span.end(info.endedAt);
    }

    if (acc.accessLog) {
      const line: AccessRecord = {
        time: new Date().toISOString(),
        type: 'access',
        route,
        backend: info.backend,
        model: req.model,
        response_model: info.responseModel,
        stream: req.stream,
        status: info.status,
        error: info.errorCode,
        attempts: info.attempts,
        input_tokens: usage?.inputTokens,
        output_tokens: usage?.outputTokens,
        cached_input_tokens: usage?.cachedInputTokens || undefined,
        cache_creation_tokens: usage?.cacheCreationTokens || undefined,
        reasoning_tokens: usage?.reasoningTokens || undefined,
        usage_estimated: usage?.estimated || undefined,
        cost_usd: cost?.priced ? cost.usd : undefined,
        unpriced: cost && !cost.priced ? true : undefined,
        latency_ms: round1(info.endedAt - req.startedAt),
        ttft_ms: firstByteAt === undefined ? undefined : round1(firstByteAt - req.startedAt),
        client_aborted: info.clientAborted || undefined,
        key: info.key?.id,
        team: info.key?.labels.team,
        trace_id: span?.traceId,
        quota_store: this.ticket?.store,
      };
      if (acc.logContent)
        Object.assign(
          line,
          contentFields(acc.logContent, req.body, req.operation === 'chat' ? info.outputText : undefined),
        );
      acc.accessLog(line);
    }
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
  hooks = new AccountingHooks({
    quota,
    otel,
    logger: options.logger,
    accessLog: options.accessLog ?? (env.TOLLGATE_ACCESS_LOG === 'off' ? false : undefined),
    defaultMaxTokens: Number.isFinite(maxTok) && maxTok > 0 ? maxTok : undefined,
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
