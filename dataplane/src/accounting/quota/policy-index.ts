/**
 * QuotaPolicies compiled when a config loads: which policies govern a key (or an anonymous request), the
 * model filter, and each limit's counter layout. Nothing here runs per request except `policiesFor`.
 */
import type { QuotaPolicyConfig, QuotaWindow } from '../../../../contract/gateway-config.js';
import { NANO_USD_PER_USD, quotaCounterBase, slidingBuckets } from '../../../../contract/shared-state.js';

export type LimitKind = 'requests' | 'tokens' | 'costUSD';

export interface LimitRt {
  readonly policy: PolicyRt;
  readonly kind: LimitKind;
  /** Limit in counter units: requests, tokens, or nano-USD for costUSD. */
  readonly amount: number;
  /** The amount as the user wrote it (USD for cost), for headers and status. */
  readonly displayAmount: number;
  readonly window: QuotaWindow;
  /** Stable counter name part (contract/shared-state.ts); a changed amount keeps its counter. */
  readonly counterBase: string;
  /** Sliding windows: bucket width and count. */
  readonly bucketMs: number;
  readonly buckets: number;
  /**
   * Tokens admitted only while used + reservation fits the limit (provider capacity, ADR 0063), not while
   * used < limit as a budget is; requests always fit that way.
   */
  readonly strict: boolean;
}

export interface PolicyRt {
  readonly id: string;
  readonly scope: 'perKey' | 'shared';
  readonly failureMode: 'open' | 'closed';
  readonly exactModels: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly limits: readonly LimitRt[];
}

export interface PolicyIndex {
  /** Policies governing this key (undefined: anonymous) for this model; a shared empty array when none. */
  policiesFor(keyId: string | undefined, model: string): readonly PolicyRt[];
  /** Every compiled policy (status reporting). */
  readonly all: readonly PolicyRt[];
}

const NONE: readonly PolicyRt[] = Object.freeze([]);

export function compilePolicy(p: QuotaPolicyConfig, strict = false): PolicyRt {
  const limits: LimitRt[] = [];
  const policy: PolicyRt = {
    id: p.id,
    scope: p.scope,
    failureMode: p.failureMode,
    exactModels: new Set(p.models.filter((m) => !m.prefix).map((m) => m.name)),
    prefixes: p.models.filter((m) => m.prefix).map((m) => m.name),
    limits,
  };
  for (const l of p.limits) {
    const sliding = l.window.type === 'sliding' ? slidingBuckets(l.window.ms) : undefined;
    limits.push({
      policy,
      kind: l.kind,
      amount: l.kind === 'costUSD' ? Math.round(l.amount * NANO_USD_PER_USD) : l.amount,
      displayAmount: l.amount,
      window: l.window,
      counterBase: quotaCounterBase(p.id, l.kind, l.window),
      bucketMs: sliding?.bucketMs ?? 0,
      buckets: sliding?.buckets ?? 1,
      strict,
    });
  }
  return policy;
}

export function modelMatches(p: PolicyRt, model: string): boolean {
  if (p.exactModels.size === 0 && p.prefixes.length === 0) return true;
  if (p.exactModels.has(model)) return true;
  for (const pre of p.prefixes) if (model.startsWith(pre)) return true;
  return false;
}

export function buildPolicyIndex(policies: readonly QuotaPolicyConfig[]): PolicyIndex {
  const byKey = new Map<string, PolicyRt[]>();
  const anonymous: PolicyRt[] = [];
  const all: PolicyRt[] = [];
  for (const cfg of policies) {
    if (cfg.limits.length === 0) continue;
    const p = compilePolicy(cfg);
    all.push(p);
    for (const k of cfg.keys) {
      let list = byKey.get(k);
      if (!list) {
        list = [];
        byKey.set(k, list);
      }
      list.push(p);
    }
    if (cfg.matchesAnonymous) anonymous.push(p);
  }
  const filtered = (list: readonly PolicyRt[] | undefined, model: string): readonly PolicyRt[] => {
    if (!list) return NONE;
    let out: PolicyRt[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (modelMatches(p, model)) {
        if (out === undefined) {
          // Common case: every policy applies; return the prebuilt list without allocating.
          let all = true;
          for (let j = i + 1; j < list.length && all; j++) all = modelMatches(list[j]!, model);
          if (all && i === 0) return list;
          out = [];
        }
        out.push(p);
      }
    }
    return out ?? NONE;
  };
  return {
    all,
    policiesFor: (keyId, model) => filtered(keyId === undefined ? anonymous : byKey.get(keyId), model),
  };
}
