/** The proxy's public shapes: what the gateway hands a call (ProxyCall re-exports them from call.ts). */
import type { ApiKeyConfig, ProviderConfig } from '../../../contract/gateway-config.js';
import type { ClientFormat } from '../errors.js';
import type { Logger } from '../log.js';
import type { RequestObserver } from '../pipeline/hooks.js';
import type { Operation, ProviderAdapter, TranslatorFactory, Usage } from '../providers/types.js';
import type { HealthRegistry } from '../routing/health.js';
import type { CompiledRoute } from '../routing/table.js';
import type { SseEvent } from '../sse/sse.js';
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
  /** A cached route's miss: where the answer the client got goes (ADR 0073). Absent: nothing is captured. */
  readonly capture?: AnswerSink | undefined;
}

/** Takes the client-format events of one streamed answer, as the relay writes them (cache/ StreamCapture). */
export interface EventSink {
  event(ev: SseEvent): void;
}

/**
 * The capture seam of a cached route (the cache stages implement it; ADR 0073): it hears only of answers that
 * reached the client whole and successfully; anything else (an error, a truncated or failed stream, a client that
 * left) is never reported, so never stored. Its methods must not throw (the call logs it if one does).
 */
export interface AnswerSink<E extends EventSink = EventSink> {
  /** A fresh sink for one streaming try's events (a try that fails before the first byte is dropped with it). */
  stream(): E;
  /** A whole 2xx answer as sent: the client-format body (after translation), its usage, who produced it. */
  answered(body: unknown, usage: Usage | undefined, responseModel: string | undefined, from: AnswerSource): void;
  /** A stream that ended complete (terminal event, no error event, client still there), with the call's usage. */
  streamed(events: E, usage: Usage | undefined, responseModel: string | undefined, from: AnswerSource): void;
}

/** Who produced a captured answer (what a later hit saved is priced with). */
export interface AnswerSource {
  /** The LLMProvider's id (`<namespace>/<name>`). */
  readonly provider: string;
  readonly upstreamModel: string;
}
