/** The metrics of the contract (docs/observability.md lists them with their labels). */
import { Registry } from './registry.js';

/** OTel GenAI semantic-convention buckets. */
export const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
] as const;
export const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
] as const;
export const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30] as const;

export function createGatewayMetrics() {
  const r = new Registry();
  const ctx = ['gen_ai_operation_name', 'gen_ai_provider_name', 'route', 'backend'];
  return {
    registry: r,
    tokenUsage: r.histogram(
      'gen_ai_client_token_usage',
      'Tokens used per request, by token type (input, output).',
      ['gen_ai_token_type', ...ctx],
      TOKEN_BUCKETS,
    ),
    operationDuration: r.histogram(
      'gen_ai_client_operation_duration_seconds',
      'Duration of a GenAI request through the gateway, all attempts included.',
      [...ctx, 'error_type'],
      DURATION_BUCKETS,
    ),
    requests: r.counter('tollgate_requests_total', 'Requests answered, by route, backend and HTTP status.', [
      'route',
      'backend',
      'code',
    ]),
    attempts: r.counter('tollgate_upstream_attempts_total', 'Upstream tries, by backend and outcome.', [
      'backend',
      'outcome',
    ]),
    backendSkipped: r.counter(
      'tollgate_backend_skipped_total',
      'Backends passed over for a try, by backend and reason (capacity, rate_limit_headers, unhealthy).',
      ['backend', 'reason'],
    ),
    cost: r.scaledCounter(
      'tollgate_cost_usd_total',
      'Cost in USD of priced responses, by route, backend and the key label team.',
      ['route', 'backend', 'key_team'],
      1e9,
    ),
    unpriced: r.counter(
      'tollgate_unpriced_requests_total',
      'Responses from a model with no price in its LLMProvider (their cost is unknown, not zero).',
      ['backend'],
    ),
    estimated: r.counter(
      'tollgate_estimated_usage_total',
      'Responses whose usage the provider did not report and a tokenizer estimated.',
      ['backend'],
    ),
    quotaRejections: r.counter('tollgate_quota_rejections_total', 'Requests refused by a QuotaPolicy.', ['policy']),
    queueWait: r.histogram(
      'tollgate_queue_wait_seconds',
      'Time a request waited in a provider queue for a free slot of its maxConcurrency, by backend.',
      ['backend'],
      DURATION_BUCKETS,
    ),
    cacheRequests: r.counter(
      'tollgate_cache_requests_total',
      'Requests on routes with a response cache, by route and result (hit, miss, bypass).',
      ['route', 'result'],
    ),
    cacheSaved: r.scaledCounter(
      'tollgate_cache_saved_usd_total',
      'What cache hits would have cost upstream (USD), priced like the answers they replayed.',
      ['route'],
      1e9,
    ),
    cacheErrors: r.counter(
      'tollgate_cache_errors_total',
      'Cache store commands that failed or timed out (the request then went upstream uncached).',
      ['op'],
    ),
    ttft: r.histogram(
      'tollgate_time_to_first_token_seconds',
      'Time from request arrival to the first response byte sent to the client.',
      ['route', 'backend'],
      TTFT_BUCKETS,
    ),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
