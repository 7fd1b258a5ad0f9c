/**
 * What one try sends: the provider's adapter builds the upstream request from the client's body (pure
 * translation), the translator for its answer is chosen, and the provider's upstream pool is looked up. A
 * parameter the target cannot take is the client's fault: a failure that is never retried. (ADR 0040)
 */
import { GatewayError } from '../errors.js';
import type { ProviderAdapter, ResponseTranslator } from '../providers/types.js';
import type { CompiledBackend } from '../routing/table.js';
import type { Failure } from './attempt.js';
import { asGatewayError } from './classify.js';
import type { CallShared, RoutedRequest } from './types.js';
import type { UpstreamTarget } from './upstream.js';

export interface PreparedTry {
  readonly upstream: { url: string; headers: Record<string, string>; body: string };
  readonly translator: ResponseTranslator;
  readonly adapter: ProviderAdapter;
  readonly target: UpstreamTarget;
}

const neverRetried = (error: GatewayError): Failure => ({ error, condition: undefined, retryAfterMs: undefined });

export function prepareTry(
  shared: CallShared,
  r: RoutedRequest,
  b: CompiledBackend,
  model: string,
  credential: string | undefined,
): PreparedTry | Failure {
  const provider = b.provider;
  let upstream: PreparedTry['upstream'];
  let translator: ResponseTranslator;
  let adapter: ProviderAdapter;
  try {
    adapter = shared.providers.adapterFor(provider.type);
    upstream = adapter.buildRequest({
      provider,
      operation: r.operation,
      clientFormat: r.format,
      body: r.body,
      upstreamModel: model,
      stream: r.stream,
      clientHeaders: r.clientHeaders,
      credential,
      now: Math.floor(Date.now() / 1000),
    });
    translator = shared.providers.translatorFor(r.format, adapter.wireFor?.(model) ?? adapter.wire, r.operation);
  } catch (err) {
    // A parameter the target cannot take (or a provider type not supported): the client's fault, never retried.
    return neverRetried(asGatewayError(err));
  }
  const target = shared.pools.target(provider.id);
  if (target === undefined)
    return neverRetried(new GatewayError('internal', `provider ${provider.name} has no upstream pool`));
  return { upstream, translator, adapter, target };
}
