/** The proxy's public shapes: what the gateway hands a call (ProxyCall re-exports them from call.ts). */
import type { ApiKeyConfig, ProviderConfig } from '../../../contract/gateway-config.js';
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

/** Per-gateway state every call shares. */
export interface CallShared {
  readonly pools: UpstreamPools;
  readonly providers: ProviderRegistry;
  readonly health: HealthRegistry;
  readonly random: () => number;
  readonly logger: Logger;
  /** Keep the completion text of every answer for the hooks (content logging), not only when usage is missing. */
  readonly keepOutputText: boolean;
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
}
