/**
 * The pure translation from user resources (LLMProvider, LLMRoute, QuotaPolicy, key and credential Secrets)
 * to the data plane's GatewayConfig plus one status per resource. No I/O, no clock, no randomness: the same
 * snapshot always gives the same output (sorted), so the operator and `tollgate run` share one code path.
 *
 * One invalid resource never blocks the others: it gets Accepted=False (or ResolvedRefs=False) with a
 * message naming the field to fix, and is left out; everything else is served. The work is split by kind:
 * translate-secrets (API keys), translate-providers, translate-routes, translate-quota; translate-common
 * holds what they share. None of them imports a provider adapter (ADR 0046).
 */
import { createHash } from 'node:crypto';
import { type GatewayConfig, GatewayConfigSchema } from '../../../contract/gateway-config.js';
import { canonicalJson } from './canonical-json.js';
import type { ResourceSnapshot } from './resources.js';
import { byId, cmp, dedupe, formatZodError, type ResourceStatus } from './translate-common.js';
import { translateProviders } from './translate-providers.js';
import { translateQuotaPolicies } from './translate-quota.js';
import { translateRoutes } from './translate-routes.js';
import { indexSecrets, translateKeys } from './translate-secrets.js';

export {
  type ConditionType,
  DEFAULTS,
  formatZodError,
  REASONS,
  type ResourceStatus,
  type StatusCondition,
} from './translate-common.js';
export { selectorMatches } from './translate-quota.js';

export interface TranslateOptions {
  /** Monotonic version stamped on the config. */
  version: number;
  /** When false and no keys exist, the data plane serves requests without a key (`tollgate run`). */
  requireKeys: boolean;
}

export interface TranslateResult {
  config: GatewayConfig;
  statuses: ResourceStatus[];
}

const KIND_ORDER: Record<ResourceStatus['kind'], number> = { LLMProvider: 0, LLMRoute: 1, QuotaPolicy: 2, Secret: 3 };

export function translate(snapshot: ResourceSnapshot, opts: TranslateOptions): TranslateResult {
  const statuses: ResourceStatus[] = [];
  const secrets = indexSecrets(snapshot.secrets);

  const apiKeys = translateKeys(snapshot.secrets, statuses);
  const { providers, providerProblems } = translateProviders(dedupe(snapshot.providers), secrets, statuses);
  const routes = translateRoutes(dedupe(snapshot.routes), providers, providerProblems, statuses);
  const quotaPolicies = translateQuotaPolicies(dedupe(snapshot.quotaPolicies), apiKeys, statuses);

  const body = {
    providers: [...providers.values()].sort(byId),
    routes: routes.sort(byId),
    quotaPolicies: quotaPolicies.sort(byId),
    apiKeys: apiKeys.sort(byId),
    requireKeys: opts.requireKeys,
  };
  const config: GatewayConfig = { version: opts.version, hash: configHash(body), ...body };
  const checked = GatewayConfigSchema.safeParse(config);
  if (!checked.success) {
    // A bug in translate, not a user error: every user error is caught above and reported in a status.
    throw new Error(`translate produced an invalid GatewayConfig: ${formatZodError(checked.error)}`);
  }
  statuses.sort(
    (a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || cmp(a.namespace, b.namespace) || cmp(a.name, b.name),
  );
  return { config, statuses };
}

/** sha256 over the canonical JSON (keys sorted, undefined dropped) of the config without version and hash. */
export function configHash(body: Omit<GatewayConfig, 'version' | 'hash'>): string {
  return `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}

export { canonicalJson } from './canonical-json.js';
