/**
 * LLMProvider capacity for status (ADR 0063): per limit of a provider (spec.limits) and of its models
 * (spec.models[].limits), what the gateways used in the current window, read from the same counters the data
 * plane's capacity service writes (`tollgate:capacity:v1:{<provider id>}…`, contract/shared-state.ts). Each limit
 * set is a shared quota policy in all but name, so the quota usage reader does the reading; this module only maps
 * providers to those policies and the rows back to providers. Read by the operator leader with the quota usage,
 * at --quota-status-interval, never per request.
 */
import type { ProviderConfig, QuotaPolicyConfig } from '../../contract/gateway-config.js';
import { capacityCounterOwner } from '../../contract/shared-state.js';
import type { QuotaUsageStatus, UsageEntry } from './quota-usage.js';

/** One row of LLMProvider status.capacity. */
export type CapacityEntry = Omit<UsageEntry, 'scope' | 'key'> & {
  /** A model's own limit (spec.models[].limits); absent: the provider's. */
  model?: string;
};

export interface CapacityStatus {
  capacity: CapacityEntry[];
  lastUpdated: string;
}

/** The counters to read: one shared policy per provider with limits, and one per model with own limits. */
export function capacityPolicies(
  providers: readonly ProviderConfig[],
): { policy: QuotaPolicyConfig; model?: string; provider: string }[] {
  const out: { policy: QuotaPolicyConfig; model?: string; provider: string }[] = [];
  const policy = (p: ProviderConfig, model: string | undefined, limits: NonNullable<ProviderConfig['limits']>) => ({
    id: capacityCounterOwner(p.id, model),
    namespace: p.namespace,
    name: p.name,
    models: [],
    scope: 'shared' as const,
    limits: limits.map((l) => ({ kind: l.kind, amount: l.amount, window: l.window })),
    failureMode: 'open' as const,
    keys: [],
    matchesAnonymous: false,
  });
  for (const p of providers) {
    if (p.limits === undefined) continue;
    if (p.limits.length > 0) out.push({ policy: policy(p, undefined, p.limits), provider: p.id });
    for (const m of p.models)
      if (m.limits !== undefined && m.limits.length > 0)
        out.push({ policy: policy(p, m.name, m.limits), model: m.name, provider: p.id });
  }
  return out;
}

/** Rows per provider id from the usage read of `capacityPolicies` (keyed by their policy ids). */
export function capacityStatus(
  sets: ReturnType<typeof capacityPolicies>,
  usage: ReadonlyMap<string, QuotaUsageStatus>,
): Map<string, CapacityStatus> {
  const out = new Map<string, CapacityStatus>();
  for (const s of sets) {
    const u = usage.get(s.policy.id);
    if (u === undefined) continue;
    let st = out.get(s.provider);
    if (st === undefined) {
      st = { capacity: [], lastUpdated: u.lastUpdated };
      out.set(s.provider, st);
    }
    for (const { scope: _scope, key: _key, ...row } of u.usage)
      st.capacity.push(s.model === undefined ? row : { ...row, model: s.model });
  }
  return out;
}
