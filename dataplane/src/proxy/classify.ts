/**
 * Failure classification, pure: what a failed try was (an upstream status, a transport error, a broken
 * stream) → its hook outcome, the `retry.on` condition it falls under (if any) and whether it counts
 * against the backend's passive health. ONE table (`FAILURES`) holds the rule; the proxy only names the kind.
 * See docs/routing.md "Retries", "Streams", "Passive health" (and ADR 0040).
 */
import type { RetryCondition } from '../../../contract/gateway-config.js';
import { GatewayError } from '../errors.js';
import type { AttemptOutcome } from '../pipeline/hooks.js';
import { parseRetryAfter } from '../routing/select.js';

/** What went wrong with one try. */
export type FailureKind =
  /** Upstream 429 (or a rate-limit error event before the stream's first byte). */
  | 'rate_limited'
  /** Upstream 5xx, or an error event mapped to a 5xx. */
  | 'server_error'
  /** A 4xx that the one upstream-error mapping made a 5xx: the provider refused the gateway's credential (401/403) or said it is overloaded. */
  | 'credential_rejected'
  /** Any other 4xx: the request's fault, passed through. */
  | 'client_error'
  /** The try's or the route's time ran out. */
  | 'timeout'
  /** Refused, DNS, unreachable, connect timeout. */
  | 'connect_failure'
  /** The connection broke after it was made (reset, closed mid-body). */
  | 'reset'
  /** Unparseable body, invalid or undecodable stream event, stream ended before its final event. */
  | 'bad_response'
  /** The provider's credential could not be had (token endpoint down or refusing). */
  | 'credential_unavailable'
  /** The client went away. */
  | 'aborted'
  /** The gateway's shutdown grace ended while the try ran (server/listener.ts): not the client's doing. */
  | 'shutting_down';

export interface FailureClass {
  /** The attempt outcome the hooks see. */
  readonly outcome: AttemptOutcome;
  /** The `retry.on` condition it falls under; undefined: never retried. */
  readonly retryOn: RetryCondition | undefined;
  /** Counts toward passive ejection (backend trouble, not the client's). */
  readonly health: boolean;
}

/** The rule, once. */
export const FAILURES: Readonly<Record<FailureKind, FailureClass>> = {
  rate_limited: { outcome: 'http_429', retryOn: '429', health: false },
  server_error: { outcome: 'http_5xx', retryOn: '5xx', health: true },
  credential_rejected: { outcome: 'http_4xx', retryOn: '5xx', health: true },
  client_error: { outcome: 'http_4xx', retryOn: undefined, health: false },
  timeout: { outcome: 'timeout', retryOn: 'timeout', health: true },
  connect_failure: { outcome: 'connect_failure', retryOn: 'connect-failure', health: true },
  reset: { outcome: 'reset', retryOn: '5xx', health: true },
  bad_response: { outcome: 'bad_response', retryOn: '5xx', health: true },
  credential_unavailable: { outcome: 'http_5xx', retryOn: '5xx', health: true },
  aborted: { outcome: 'aborted', retryOn: undefined, health: false },
  shutting_down: { outcome: 'aborted', retryOn: undefined, health: false },
};

/**
 * An upstream error answer: `status` is the upstream's, `mapped` the status of the GatewayError the
 * provider's error mapping made of it (a 401/403 becomes a 502). For an error event inside a stream both are
 * the mapped status. Retried by what the answer means, not its raw status.
 */
export function httpFailure(status: number, mapped: number): FailureKind {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return mapped >= 500 ? 'credential_rejected' : 'client_error';
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A transport error (undici's onError), before the headers or while reading the body or stream. */
export function transportFailure(
  code: string | undefined,
  timedOut: boolean,
  clientGone: boolean,
  afterHeaders: boolean,
  shuttingDown = false,
): FailureKind {
  if (shuttingDown) return 'shutting_down';
  if (timedOut) return 'timeout';
  if (clientGone) return 'aborted';
  if (!afterHeaders && code !== undefined && CONNECT_CODES.has(code)) return 'connect_failure';
  return 'reset';
}

/** The coded error a transport failure answers with. */
export function transportError(
  kind: FailureKind,
  provider: string,
  code: string | undefined,
  cause: unknown,
): GatewayError {
  switch (kind) {
    case 'timeout':
      return timeoutError(provider);
    case 'aborted':
      return new GatewayError('upstream_error', 'client closed the request', { cause });
    case 'shutting_down':
      return new GatewayError('shutting_down', 'the gateway is shutting down', { cause });
    case 'connect_failure':
      return new GatewayError('upstream_unavailable', `could not connect to provider ${provider} (${code})`, { cause });
    default:
      return new GatewayError('upstream_error', `connection to provider ${provider} failed (${code ?? 'reset'})`, {
        cause,
      });
  }
}

export function timeoutError(provider: string): GatewayError {
  return new GatewayError('upstream_timeout', `provider ${provider} did not answer in time`);
}

/** Retry-After counts on a 429 or a 503 only; ms from `now`, undefined when absent, malformed or not applicable. */
export function retryAfterMs(status: number, header: string | string[] | undefined, now: number): number | undefined {
  return status === 429 || status === 503 ? parseRetryAfter(header, now) : undefined;
}

/** The error code of a transport error (undici wraps socket errors: the cause's code is the telling one). */
export function errCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (e === null || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code;
  if (e.cause && typeof e.cause.code === 'string') return e.cause.code;
  return typeof e.code === 'string' ? e.code : undefined;
}

/** Anything the gateway's own code threw, as a GatewayError (a too-deep body is the client's fault). */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (isStackOverflow(err)) return tooDeep(err);
  return new GatewayError('internal', 'internal error', { cause: err });
}

/** JSON.parse copes with any depth, but serializing or translating a very deeply nested body overflows the stack. */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && err.message.includes('call stack');
}

/** The client's body was nested too deeply to forward: its fault, a 400. */
export function tooDeep(cause: unknown): GatewayError {
  return new GatewayError('invalid_request', 'request body is nested too deeply', { cause });
}
