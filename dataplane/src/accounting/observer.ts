/**
 * The observer of one admitted request: its tries, first byte and finish. At finish: usage (estimated off
 * the client's path when the provider reported none), cost, the quota settlement, then the metrics, the
 * span and the access line. One object per request.
 */
import type { Logger } from '../log.js';
import type {
  AttemptInfo,
  AttemptResult,
  BackendSkip,
  FinishInfo,
  RequestInfo,
  RequestObserver,
} from '../pipeline/hooks.js';
import { ZERO_USAGE } from '../providers/common/usage.js';
import type { Usage } from '../providers/types.js';
import type { AccessLogWriter } from '../telemetry/access-log.js';
import type { ContentLogOptions } from '../telemetry/content-log.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { formatTraceparent } from '../telemetry/trace-context.js';
import type { Span } from '../telemetry/tracing/span.js';
import type { Tracer } from '../telemetry/tracing/tracer.js';
import { servedRecord } from './access.js';
import { recordCache } from './cache-metrics.js';
import { type CostResult, computeCost } from './cost.js';
import { estimateUsage } from './estimate.js';
import { backendLabel, GENAI_PROVIDER, type Tables } from './labels.js';
import type { QuotaTicket } from './quota/service.js';
import { recordServed } from './request-metrics.js';
import { endAttemptSpan, endRequestSpan, startAttemptSpan, startRequestSpan } from './spans.js';

/** What every observer of one AccountingHooks shares (the hooks object itself). */
export interface AccountingSinks {
  readonly metrics: GatewayMetrics;
  readonly tracer: Tracer | undefined;
  readonly accessLog: AccessLogWriter | undefined;
  readonly logContent: ContentLogOptions | undefined;
  readonly logger: Logger | undefined;
}

export class Observer implements RequestObserver {
  readonly headers: Readonly<Record<string, string>> | undefined;
  private span: Span | undefined;
  private attemptSpan: Span | undefined;
  private firstByteAt: number | undefined;
  private done = false;

  constructor(
    private readonly acc: AccountingSinks,
    private readonly tables: Tables,
    private readonly req: RequestInfo,
    private readonly ticket: QuotaTicket | undefined,
  ) {
    this.headers = ticket?.headers;
    const tracer = acc.tracer;
    if (tracer) this.span = startRequestSpan(tracer, req);
  }

  attemptStart(a: AttemptInfo): void {
    const tracer = this.acc.tracer;
    if (!tracer || !this.span) return;
    this.attemptSpan = startAttemptSpan(tracer, this.span, this.req.operation, a);
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
      endAttemptSpan(s, r);
    }
  }

  queueWait(provider: AttemptInfo['provider'], upstreamModel: string, seconds: number): void {
    this.acc.metrics.queueWait.labels(backendLabel(this.tables, provider, upstreamModel)).observe(seconds);
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
    if (info.cache !== undefined) recordCache(acc.metrics, this.tables, info.route.id, info.cache);
    const providerName = info.provider ? GENAI_PROVIDER[info.provider.type] : '';
    const firstByteAt = info.firstByteAt ?? this.firstByteAt;
    recordServed(acc.metrics, this.req, info, backend, providerName, usage, cost, firstByteAt);
    const span = this.span;
    // Backends passed over for capacity: counted by bounded label, listed in the span and the access line.
    const skipped = info.skipped === undefined ? undefined : recordSkips(acc, this.tables, info.skipped);
    if (span) {
      if (skipped !== undefined) span.setAttribute('tollgate.skipped', skipped);
      endRequestSpan(span, info, usage, cost, providerName);
    }
    if (acc.accessLog) {
      const line = servedRecord(
        this.req,
        info,
        usage,
        cost,
        firstByteAt,
        span?.traceId,
        this.ticket?.store,
        acc.logContent,
      );
      if (skipped !== undefined) line.skipped = skipped;
      acc.accessLog(line);
    }
  }
}

/** Counts each skip (tollgate_backend_skipped_total) and lists them as `<backend>:<reason>,...`. */
function recordSkips(acc: AccountingSinks, tables: Tables, skips: readonly BackendSkip[]): string {
  let text = '';
  for (const s of skips) {
    const label = backendLabel(tables, s.provider, s.model);
    acc.metrics.backendSkipped.labels(label, s.reason).inc();
    text += `${text === '' ? '' : ','}${label}:${s.reason}`;
  }
  return text;
}
