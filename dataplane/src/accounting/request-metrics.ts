/** The Prometheus series of a request: served (requests, duration, first token, tokens, cost) or refused. */
import type { FinishInfo, RequestInfo } from '../pipeline/hooks.js';
import type { Usage } from '../providers/types.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { CostResult } from './cost.js';

/** The series of a request that had an observer; `backend` is its bounded label (labels.ts). */
export function recordServed(
  m: GatewayMetrics,
  req: RequestInfo,
  info: FinishInfo,
  backend: string,
  providerName: string,
  usage: Usage | undefined,
  cost: CostResult | undefined,
  firstByteAt: number | undefined,
): void {
  const route = info.route.id;
  m.requests.labels(route, backend, String(info.status)).inc();
  const seconds = (info.endedAt - req.startedAt) / 1000;
  m.operationDuration.labels(req.operation, providerName, route, backend, info.errorCode ?? '').observe(seconds);
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
}

/** A request refused before it had an observer: counted with its route (if routed) and no backend. */
export function recordRefused(m: GatewayMetrics, route: string, status: number): void {
  m.requests.labels(route, '', String(status)).inc();
}
