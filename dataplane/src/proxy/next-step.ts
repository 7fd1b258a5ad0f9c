/**
 * The retry/fallback policy, pure apart from the random source passed in: after a failed try, whether to
 * try again, on which backend and after how long. docs/routing.md "Retries" (and ADR 0040).
 */
import type { RetryCondition } from '../../../contract/gateway-config.js';
import { backoffMs, pickBackend } from '../routing/select.js';
import type { PickRequest } from '../routing/strategies.js';
import type { CompiledBackend, CompiledRoute } from '../routing/table.js';

/** The next try: its backend and the wait before it. */
export interface NextTry {
  readonly backend: CompiledBackend;
  readonly delayMs: number;
}

/** What the policy needs of the failed try. */
export interface TriedFailure {
  /** The `retry.on` condition it falls under (classify.ts); undefined: never retried. */
  readonly condition: RetryCondition | undefined;
  /** The upstream's Retry-After, in ms, when it sent one on a 429/503. */
  readonly retryAfterMs: number | undefined;
}

/**
 * Undefined: give up, the client gets the failed try's error. `attempts` tries were made so far, `tried` is the
 * bit-mask of backend indexes used, `last` the backend of the failed try; `remainingMs` is left of the route's
 * `timeout`; `now` is the health clock; `skip` the bit-mask of backends without capacity (never picked); `req`
 * the request (for the route's load balancing).
 */
export function nextStep(
  route: CompiledRoute,
  failure: TriedFailure,
  attempts: number,
  tried: number,
  last: CompiledBackend,
  remainingMs: number,
  now: number,
  random: () => number,
  skip = 0,
  req?: PickRequest,
): NextTry | undefined {
  const retry = route.config.retry;
  if (attempts >= retry.attempts || failure.condition === undefined || !retry.on.includes(failure.condition))
    return undefined;
  const backend = pickBackend(route, tried, now, random, skip, req);
  if (backend === undefined) return undefined;
  let delayMs: number;
  if (backend === last && failure.retryAfterMs !== undefined) {
    // The same backend asked us to wait: honour it when it fits the budget, else give up now (no wasted wait).
    if (failure.retryAfterMs >= remainingMs) return undefined;
    delayMs = failure.retryAfterMs;
  } else delayMs = backoffMs(retry, attempts, random);
  // Never sleep past the route's time budget.
  if (delayMs >= remainingMs) return undefined;
  return { backend, delayMs };
}
