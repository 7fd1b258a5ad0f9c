/**
 * Hooks: the seam between the proxy core (request path) and accounting (quotas, metrics, traces, cost).
 * The proxy core calls them; accounting implements them. Default: `noopHooks`.
 *
 * Call order for one request that reached a route (the admit stage, pipeline/stages/admit.ts):
 *   admission.admit(req) ─► observe(req, ticket) ─► observer.attemptStart(a1) ─► observer.attemptEnd(a1, outcome)
 *              ─► [attemptStart(a2) ...]
 *              ─► observer.firstByte() (once, when the first response byte goes to the client)
 *              ─► observer.finish(result) (exactly once, also on errors and client aborts)
 * A request that ends before it has an observer (bad input, auth, unknown model, admission refused)
 * gets exactly one `rejected(info)` call instead.
 *
 * Hooks must not throw (except `admission.admit`, which throws or rejects with a GatewayError); the core catches
 * and logs anything they throw and keeps serving. They are called on the hot path: keep them cheap and synchronous.
 */
import type { ApiKeyConfig, GatewayConfig, ProviderConfig, RouteConfig } from '../../../contract/gateway-config.js';
import type { CacheState } from '../cache/types.js';
import type { ClientFormat, ErrorCode } from '../errors.js';
import type { Operation, Usage } from '../providers/types.js';
import type { CapacityGate, SkipReason } from '../proxy/types.js';

/**
 * What the core knows about a request once it is authenticated, validated and routed: the pipeline passes its
 * exchange (pipeline/exchange.ts) itself, so hooks may keep it for the request's life but must not change it.
 */
export interface RequestInfo {
  readonly clientFormat: ClientFormat;
  readonly operation: Operation;
  readonly stream: boolean;
  /** The model the client sent. */
  readonly model: string;
  readonly route: RouteConfig;
  /** The API key used; undefined in open (keyless) mode. */
  readonly key: ApiKeyConfig | undefined;
  /** The client's parsed, validated body (read-only; for token estimation). */
  readonly body: Readonly<Record<string, unknown>>;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** The client's W3C `traceparent` header, if any (accounting continues the trace from it). */
  readonly traceparent?: string | undefined;
  /** On a route with a cache, the lookup's result (a hit reserves no tokens and no cost). ADR 0070. */
  readonly cache?: CacheState | undefined;
}

/** One upstream try. */
export interface AttemptInfo {
  /** 1-based. */
  readonly attempt: number;
  readonly provider: ProviderConfig;
  /** The model sent upstream. */
  readonly upstreamModel: string;
  /** `<provider name>/<model>` (the x-tollgate-backend value; the provider lives in the route's namespace). */
  readonly backend: string;
  /** performance.now() when the try started. */
  readonly startedAt: number;
}

/**
 * How a try ended. `ok`: the upstream answered 2xx (for streams: the stream ended cleanly).
 * `http_429` / `http_5xx` / `http_4xx`: the upstream's status (see `status`). `timeout`: the per-try
 * or route timeout fired. `connect_failure`: no connection. `reset`: the connection broke mid-answer.
 * `bad_response`: unparseable body, invalid or truncated stream. `aborted`: the client went away.
 */
export type AttemptOutcome =
  | 'ok'
  | 'http_429'
  | 'http_5xx'
  | 'http_4xx'
  | 'timeout'
  | 'connect_failure'
  | 'reset'
  | 'bad_response'
  | 'aborted';

export interface AttemptResult {
  readonly outcome: AttemptOutcome;
  /** The upstream HTTP status, when one arrived. */
  readonly status: number | undefined;
  /** performance.now() when the try ended. */
  readonly endedAt: number;
}

/** A backend passed over for a try, and why (provider capacity, ADR 0063). */
export interface BackendSkip {
  readonly provider: ProviderConfig;
  /** The upstream model it would have been asked for. */
  readonly model: string;
  readonly reason: SkipReason;
}

/** The end of a request that had an observer. */
export interface FinishInfo {
  /** The HTTP status the client got (for a stream cut after its headers: still the 200 sent). */
  readonly status: number;
  /** Set when the request failed (also when a stream ended with an error event after 200). */
  readonly errorCode: ErrorCode | undefined;
  /** Usage reported by the provider (undefined when it reported none or the request failed early). */
  readonly usage: Usage | undefined;
  /**
   * The completion text the client received (text, tool names and arguments): for estimating output tokens
   * when `usage` is undefined and something was served (a stream cut short, an upstream that omits usage),
   * and for every served request when the hooks set `keepOutputText` (content logging). Otherwise undefined:
   * nothing is kept or joined.
   */
  readonly outputText?: string | undefined;
  /** The model the provider reported. */
  readonly responseModel: string | undefined;
  readonly attempts: number;
  readonly route: RouteConfig;
  /** The backend that answered (or the last one tried); undefined when no try happened. */
  readonly provider: ProviderConfig | undefined;
  readonly upstreamModel: string | undefined;
  /** `<provider name>/<model>` as in x-tollgate-backend, or undefined. */
  readonly backend: string | undefined;
  readonly key: ApiKeyConfig | undefined;
  /** True when the client disconnected before the answer was complete. */
  readonly clientAborted: boolean;
  /** performance.now() at the end. */
  readonly endedAt: number;
  /** performance.now() when the first byte went to the client, if it did. */
  readonly firstByteAt: number | undefined;
  /** Backends passed over for capacity, in order (at most a few); undefined when none was. */
  readonly skipped?: readonly BackendSkip[] | undefined;
  /** On a route with a cache: hit, miss or bypass, and on a hit the entry (what it saved). ADR 0070. */
  readonly cache?: CacheState | undefined;
}

/** Per-request observer made by `observe` once the request is admitted. */
export interface RequestObserver {
  /** Headers added to the response, success or error (e.g. x-ratelimit-*). Read once, before headers are sent. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  attemptStart(attempt: AttemptInfo): void;
  /** Headers to add to this try's upstream request (W3C `traceparent`); called right after attemptStart. */
  upstreamHeaders?(attempt: AttemptInfo): Readonly<Record<string, string>> | undefined;
  attemptEnd(attempt: AttemptInfo, result: AttemptResult): void;
  /**
   * The request waited in `provider`'s queue (its maxConcurrency was reached) for `seconds`, whatever ended the
   * wait (a slot, the route's timeout, the client leaving). Absent: not reported. (ADR 0066)
   */
  queueWait?(provider: ProviderConfig, upstreamModel: string, seconds: number): void;
  /** The first response byte (headers + first body chunk for streams) went to the client. */
  firstByte(at: number): void;
  finish(info: FinishInfo): void;
}

/** A request that ended before it had an observer. Fields are known as far as the request got. */
export interface RejectedInfo {
  readonly clientFormat: ClientFormat;
  /** Known when the request was for an operation's endpoint (not /v1/models or an unknown path). */
  readonly operation?: Operation | undefined;
  readonly status: number;
  readonly errorCode: ErrorCode;
  /** Known once the request was routed (e.g. admission rejected it). */
  readonly route: RouteConfig | undefined;
  readonly model: string | undefined;
  readonly key: ApiKeyConfig | undefined;
  /** The client's parsed, validated body (read-only), once it was. */
  readonly body?: Readonly<Record<string, unknown>> | undefined;
  readonly startedAt: number;
  /** The client's W3C `traceparent` header, if any. */
  readonly traceparent?: string | undefined;
}

/** What an admission hands on to the request's observer (a quota ticket: headers, and what settles it at finish). */
export interface AdmissionTicket {
  /** Response headers the admission adds (x-ratelimit-*); the observer decides whether to send them. */
  readonly headers: Readonly<Record<string, string>> | undefined;
}

/** The quota check of the admit stage (accounting/admission.ts implements it over the quota service). */
export interface Admission<T extends AdmissionTicket = AdmissionTicket> {
  /**
   * Once per routed request, before the first try. Answer synchronously when no I/O is needed (the admit
   * stage awaits only a Promise); undefined: admitted, nothing to settle. Throw (when answering synchronously)
   * or reject with GatewayError('quota_exceeded', ..., { headers: { 'retry-after': ... } }) or
   * GatewayError('quota_store_unavailable', ...) to refuse the request; the one writer renders it.
   */
  admit(req: RequestInfo): T | undefined | Promise<T | undefined>;
}

export interface GatewayHooks<T extends AdmissionTicket = AdmissionTicket> {
  /** The quota check of the admit stage; absent: every routed request is admitted. */
  readonly admission?: Admission<T> | undefined;
  /** Provider capacity, asked per try (ADR 0063); absent: provider limits are not counted. */
  readonly capacity?: CapacityGate | undefined;
  /** The observer of an admitted request, with the ticket its admission gave (undefined: none). */
  observe(req: RequestInfo, ticket: T | undefined): RequestObserver;
  rejected(info: RejectedInfo): void;
  /** Called with every config the gateway applies (accounting rebuilds its price and policy tables). */
  applyConfig?(config: GatewayConfig): void;
  /** Prometheus text for GET /metrics; absent: /metrics answers 404. */
  metricsText?(): string;
  /**
   * True: every FinishInfo carries `outputText`, usage or not (content logging is on). Read once when the
   * gateway is created; absent or false: the text is kept only for usage estimation.
   */
  readonly keepOutputText?: boolean;
}

const noop = (): void => {};

/** An observer that does nothing (shared, allocation-free). */
export const noopObserver: RequestObserver = Object.freeze({
  headers: undefined,
  attemptStart: noop,
  attemptEnd: noop,
  firstByte: noop,
  finish: noop,
});

export const noopHooks: GatewayHooks = Object.freeze({
  observe: (): RequestObserver => noopObserver,
  rejected: noop,
});
