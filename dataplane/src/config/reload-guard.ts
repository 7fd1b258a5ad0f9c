/**
 * Pure checks on a reload (ADR 0054): what a candidate config removes from the served one (a removing
 * change waits until the files are provably complete), and whether a config makes `tollgate run` ready.
 */
import type { GatewayConfig } from '../../../contract/gateway-config.js';

export interface Removals {
  routes: string[];
  providers: string[];
  quotaPolicies: string[];
  /** Ids (`namespace/name` of the Secret) of API keys no longer served, or now holding another key. */
  apiKeys: string[];
  /** The served config needs keys and the candidate serves requests without one. */
  opens: boolean;
}

const gone = (before: readonly { id: string }[], after: readonly { id: string }[]): string[] => {
  const kept = new Set(after.map((x) => x.id));
  return before.filter((x) => !kept.has(x.id)).map((x) => x.id);
};

const isOpen = (c: GatewayConfig): boolean => !c.requireKeys && c.apiKeys.length === 0;

export function removals(served: GatewayConfig, candidate: GatewayConfig): Removals {
  // A key whose value changed (a cut mid-value looks like that) is a key removed: its holders lose access.
  const keyId = (k: { id: string; hash: string }) => ({ id: `${k.id}\u0000${k.hash}` });
  const lostKeys = gone(served.apiKeys.map(keyId), candidate.apiKeys.map(keyId)).map((id) => id.split('\u0000')[0]!);
  return {
    routes: gone(served.routes, candidate.routes),
    providers: gone(served.providers, candidate.providers),
    quotaPolicies: gone(served.quotaPolicies, candidate.quotaPolicies),
    apiKeys: lostKeys,
    opens: !isOpen(served) && isOpen(candidate),
  };
}

export function removesAnything(r: Removals): boolean {
  return r.opens || r.routes.length + r.providers.length + r.quotaPolicies.length + r.apiKeys.length > 0;
}

/** Why `tollgate run` is not ready with this config, or undefined when it is (it serves at least one route). */
export function runReadiness(config: GatewayConfig): string | undefined {
  if (config.routes.some((r) => r.backends.length > 0)) return undefined;
  return config.routes.length === 0
    ? 'the config serves no route: every request would get 404; add an LLMRoute'
    : 'no route has a usable backend: every request would get 503; see the log for the unresolved references';
}
