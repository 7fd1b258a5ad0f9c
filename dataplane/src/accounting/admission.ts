/**
 * Quota admission (the admit stage's check, pipeline/stages/admit.ts): which policies govern the request,
 * what it reserves (rough input tokens + requested or default max output; the dearest candidate backend's
 * price for cost limits), then the quota service's answer: a ticket at once from in-process counters or
 * credits, a Promise when it goes to Redis, or a thrown 429/503.
 */
import type { RouteConfig } from '../../../contract/gateway-config.js';
import type { Admission, RequestInfo } from '../pipeline/hooks.js';
import { lookupPrice } from './cost.js';
import { requestedMaxTokens, requestText, roughInputTokens } from './estimate.js';
import { emptyTables, type Tables } from './labels.js';
import type { QuotaRequest, QuotaService, QuotaTicket } from './quota/service.js';

export class QuotaAdmission implements Admission<QuotaTicket> {
  private tables: Tables = emptyTables();

  constructor(
    private readonly quota: QuotaService,
    /** Output tokens reserved for token/cost quotas when the request sets no max_tokens. */
    private readonly defaultMaxTokens: number,
  ) {}

  /** The price tables of the config just applied (policies are the quota service's own). */
  applyTables(tables: Tables): void {
    this.tables = tables;
  }

  admit(req: RequestInfo): QuotaTicket | undefined | Promise<QuotaTicket> {
    const policies = this.quota.policiesFor(req.key?.id, req.model);
    if (policies.length === 0) return undefined;
    let needsTokens = false;
    let needsCost = false;
    for (const p of policies)
      for (const l of p.limits) {
        if (l.kind === 'tokens') needsTokens = true;
        else if (l.kind === 'costUSD') needsCost = true;
      }
    const q: QuotaRequest = {
      keyId: req.key?.id,
      model: req.model,
      reserveTokens: 0,
      reserveCostNano: 0,
      policies,
      requestsOnly: false,
    };
    // A cache hit costs nothing upstream: it counts against request limits only (ADR 0070).
    if (req.cache?.result === 'hit') q.requestsOnly = true;
    else if (needsTokens || needsCost) {
      const input = roughInputTokens(requestText(req.operation, req.body).text.length);
      const output = req.operation === 'embeddings' ? 0 : (requestedMaxTokens(req.body) ?? this.defaultMaxTokens);
      q.reserveTokens = input + output;
      if (needsCost) q.reserveCostNano = maxCostNano(this.tables, req.route, req.model, input, output);
    }
    // In-process counters and credits answer at once (a refusal throws its 429 to the caller): no promise
    // hop; only an admission that goes to Redis is a promise.
    return this.quota.admitNow(q);
  }
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
