/** The proxy's public shapes: what the gateway hands a call (ProxyCall re-exports them from call.ts). */
import type { ApiKeyConfig, ProviderConfig } from '../../../contract/gateway-config.js';
import type { ResponseCache } from '../cache/cache.js';
import type { CacheState } from '../cache/types.js';
import type { ClientFormat } from '../errors.js';
import type { Logger } from '../log.js';
import type { RequestObserver } from '../pipeline/hooks.js';
import type { Operation, ProviderAdapter, TranslatorFactory } from '../providers/types.js';
import type { HealthRegistry } from '../routing/health.js';
import type { CompiledRoute } from '../routing/table.js';
import type { UpstreamPools } from './upstream.js';

/** Where the proxy gets adapters and translators (the providers folder; tests may pass their own). */
export interface ProviderRegistry {
  adapterFor(type: ProviderConfig['type']): ProviderAdapter;
  translatorFor: TranslatorFactory;
}

/** Why a backend was passed over for a try (tollgate_backend_skipped_total{reason}, access log, span). */
export type SkipReason = 'unhealthy' | 'capacity' | 'rate_limit_headers';

/** A backend without capacity for this try: skipped like an unhealthy one, free again in `retryAfterMs`. */
export interface CapacitySkip {
  readonly reason: 'capacity' | 'rate_limit_headers';
  readonly retryAfterMs: number;
}

/** Capacity reserved for one try: replaced by the real tokens when the try ends (once; never throws). */
export interface CapacityHold {
  settle(actual: { tokens: number; costNano: number }): Promise<void>;
}

/**
 * Provider capacity (LLMProvider spec.limits, ADR 0063), asked per try for the backend being tried. Called only
 * for providers whose config has `limits` (routes without them pay nothing). Answers at once from in-process
 * counters, credits or learned headers; a Promise only when it goes to Redis.
 */
export interface CapacityGate {
  admit(
    provider: ProviderConfig,
    model: string,
    tokens: number,
    now: number,
  ): CapacityHold | CapacitySkip | Promise<CapacityHold | CapacitySkip>;
  /** Tokens one try of this request reserves (rough input + requested or default max output); once per request. */
  estimate(operation: Operation, body: Record<string, unknown>): number;
  /** The upstream's rate-limit headers of an answer (undici's raw pairs). */
  learn(provider: ProviderConfig, model: string, raw: readonly Buffer[], now: number): void;
}

/** Per-gateway state every call shares. */
export interface CallShared {
  readonly pools: UpstreamPools;
  readonly providers: ProviderRegistry;
  readonly health: HealthRegistry;
  readonly random: () => number;
  readonly logger: Logger;
  /** Keep the completion text of every answer for the hooks (content logging), not only when usage is missing. */
  readonly keepOutputText: boolean;
  /** Provider capacity; absent: no counters (no provider limits are honoured, nothing is learned). */
  readonly capacity?: CapacityGate | undefined;
  /** The response cache (ADR 0070); absent: no route is cached. */
  readonly cache?: ResponseCache | undefined;
}

/** A request that passed auth, validation, routing and admission. */
export interface RoutedRequest {
  readonly format: ClientFormat;
  readonly operation: Operation;
  readonly body: Record<string, unknown>;
  readonly model: string;
  readonly stream: boolean;
  readonly clientWantsUsage: boolean;
  readonly route: CompiledRoute;
  readonly key: ApiKeyConfig | undefined;
  /** The admission's observer; set by `admitted()` when the call was made before the admission ended. */
  observer: RequestObserver;
  readonly startedAt: number;
  /** Allow-listed client headers for the adapter (providers' forwardedClientHeaders); absent: none. */
  readonly clientHeaders?: Readonly<Record<string, string>> | undefined;
  /** The cache lookup's result on a cached route (pipeline/stages/cache-lookup.ts); undefined: not cached. */
  readonly cache: CacheState | undefined;
}
