/**
 * QuotaPolicies in the config translation: selector checks, the key Secrets a selector matches (resolved
 * here, so the data plane only compares ids) and limits in milliseconds. Pure.
 */
import type { ApiKeyConfig, QuotaPolicyConfig, QuotaWindow } from '../../../contract/gateway-config.js';
import { parseDuration } from './duration.js';
import { API_KEY_LABEL, type LabelSelector, QuotaPolicySpec, type RawResource } from './resources.js';
import {
  accept,
  idOf,
  newStatus,
  parsePattern,
  parseSpec,
  REASONS,
  type ResourceStatus,
  resolve,
} from './translate-common.js';

function selectorIsEmpty(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/** Kubernetes label-selector semantics: all matchLabels and all expressions must hold; empty selects all. */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

function selectorProblem(sel: LabelSelector): string | undefined {
  for (const [i, e] of (sel.matchExpressions ?? []).entries()) {
    const n = e.values?.length ?? 0;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0)
      return `spec.selector.matchExpressions[${i}].values: operator ${e.operator} needs at least one value`;
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0)
      return `spec.selector.matchExpressions[${i}].values: operator ${e.operator} takes no values`;
  }
  return undefined;
}

export function translateQuotaPolicies(
  raw: RawResource[],
  apiKeys: ApiKeyConfig[],
  statuses: ResourceStatus[],
): QuotaPolicyConfig[] {
  const out: QuotaPolicyConfig[] = [];
  for (const r of raw) {
    const id = idOf(r.metadata);
    const ns = r.metadata.namespace;
    const status = newStatus('QuotaPolicy', r.metadata);
    statuses.push(status);
    const parsed = parseSpec(QuotaPolicySpec, 'QuotaPolicy', id, r.spec);
    if (parsed.invalid !== undefined) {
      accept(status, false, REASONS.invalid, parsed.invalid);
      continue;
    }
    const spec = parsed.spec;
    const badModel = (spec.models ?? []).findIndex((m) => m.indexOf('*') !== -1 && m.indexOf('*') !== m.length - 1);
    const problem =
      badModel >= 0
        ? `spec.models[${badModel}]: a * may only stand at the end (prefix match)`
        : selectorProblem(spec.selector);
    if (problem !== undefined) {
      accept(status, false, REASONS.invalid, `QuotaPolicy ${id} is invalid: ${problem}`);
      continue;
    }
    accept(status, true, REASONS.accepted, 'spec is valid');

    const keys = apiKeys
      .filter((k) => k.namespace === ns && selectorMatches(spec.selector, k.labels))
      .map((k) => k.id)
      .sort();
    const matchesAnonymous = selectorIsEmpty(spec.selector);
    if (keys.length === 0 && !matchesAnonymous) {
      resolve(
        status,
        false,
        REASONS.noMatchingKeys,
        `spec.selector matches no API key Secret (label ${API_KEY_LABEL}: "true") in namespace ${ns}; the policy governs nothing until one matches`,
      );
    } else {
      resolve(
        status,
        true,
        REASONS.resolved,
        matchesAnonymous
          ? `empty selector: governs all ${keys.length} API key(s) in namespace ${ns} and anonymous requests`
          : `selector matches ${keys.length} API key(s)`,
      );
    }

    const limits = spec.limits.map((l) => {
      const [kind, amount] =
        l.requests !== undefined
          ? (['requests', l.requests] as const)
          : l.tokens !== undefined
            ? (['tokens', l.tokens] as const)
            : (['costUSD', l.costUSD!] as const);
      const window: QuotaWindow =
        l.per === 'month' ? { type: 'calendarMonth' } : { type: 'sliding', ms: parseDuration(l.per) };
      return { kind, amount, window };
    });
    const policy: QuotaPolicyConfig = {
      id,
      namespace: ns,
      name: r.metadata.name,
      models: [...new Set(spec.models ?? [])].map(parsePattern),
      scope: spec.scope,
      limits,
      failureMode: spec.failureMode,
      keys,
      matchesAnonymous,
    };
    if (r.metadata.generation !== undefined) policy.generation = r.metadata.generation;
    out.push(policy);
  }
  return out;
}
