/**
 * The response cache's metrics at a request's finish (ADR 0070): its result, and on a hit what it saved,
 * priced with the provider and model that produced the entry (the price table of the config now served).
 */
import { savedUsage } from '../cache/serve.js';
import type { CacheState } from '../cache/types.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { computeCost } from './cost.js';
import type { Tables } from './labels.js';

export function recordCache(metrics: GatewayMetrics, tables: Tables, route: string, s: CacheState): void {
  metrics.cacheRequests.labels(route, s.result).inc();
  const saved = savedUsage(s);
  if (saved === undefined) return;
  const cost = computeCost(tables.prices, saved.provider, saved.upstreamModel, saved.usage);
  if (cost.priced && cost.nano > 0) metrics.cacheSaved.labels(route).inc(cost.nano);
}
