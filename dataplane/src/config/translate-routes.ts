/**
 * LLMRoutes in the config translation: spec checks the schema cannot make (backoff base <= max), model
 * claims (the older route wins a pattern with the same header match), backends resolved against the
 * translated providers. Pure.
 */
import type { ProviderConfig, RouteConfig } from '../../../contract/gateway-config.js';
import { parseDuration } from './duration.js';
import { LLMRouteSpec, type RawResource } from './resources.js';
import {
  accept,
  byAge,
  cmp,
  DEFAULTS,
  idOf,
  newStatus,
  parsePattern,
  parseSpec,
  REASONS,
  type ResourceStatus,
  resolve,
} from './translate-common.js';
import type { ProviderProblem } from './translate-providers.js';

export function translateRoutes(
  raw: RawResource[],
  providers: Map<string, ProviderConfig>,
  providerProblems: Map<string, ProviderProblem>,
  statuses: ResourceStatus[],
): RouteConfig[] {
  const routes: RouteConfig[] = [];
  /** `namespace \0 pattern \0 header-set` → id of the route that claimed it first (oldest). */
  const claims = new Map<string, string>();
  for (const r of [...raw].sort(byAge)) {
    const id = idOf(r.metadata);
    const ns = r.metadata.namespace;
    const status = newStatus('LLMRoute', r.metadata);
    statuses.push(status);

    const parsed = parseSpec(LLMRouteSpec, 'LLMRoute', id, r.spec);
    if (parsed.invalid !== undefined) {
      accept(status, false, REASONS.invalid, parsed.invalid);
      continue;
    }
    const spec = parsed.spec;
    const base = parseDuration(spec.retry?.backoff?.base ?? DEFAULTS.backoffBase);
    const max = parseDuration(spec.retry?.backoff?.max ?? DEFAULTS.backoffMax);
    if (base > max) {
      accept(
        status,
        false,
        REASONS.invalid,
        `spec.retry.backoff: base (${spec.retry?.backoff?.base ?? DEFAULTS.backoffBase}) must not exceed max (${spec.retry?.backoff?.max ?? DEFAULTS.backoffMax})`,
      );
      continue;
    }

    const headers = dedupeHeaders(
      (spec.match?.headers ?? []).map((h) => ({ name: h.name.toLowerCase(), value: h.value })),
    );
    const headerKey = headers.map((h) => `${h.name}=${h.value}`).join('\u0001');
    const patterns = [...new Set(spec.models)];
    const conflicts: string[] = [];
    for (const p of patterns) {
      const holder = claims.get(`${ns}\u0000${p}\u0000${headerKey}`);
      if (holder !== undefined && holder !== id)
        conflicts.push(`"${p}" is already claimed by the older LLMRoute ${holder}`);
    }
    if (conflicts.length > 0) {
      accept(
        status,
        false,
        REASONS.modelConflict,
        `model ${conflicts.join(', ')} with the same header match; rename the model, add a distinguishing spec.match.headers entry, or remove one route`,
      );
      continue;
    }
    for (const p of patterns) claims.set(`${ns}\u0000${p}\u0000${headerKey}`, id);
    accept(status, true, REASONS.accepted, 'spec is valid');

    const backends: RouteConfig['backends'] = [];
    const missing: string[] = [];
    let anyNotFound = false;
    for (const [i, b] of spec.backends.entries()) {
      const providerId = `${ns}/${b.provider}`;
      if (providers.has(providerId)) {
        backends.push({
          provider: providerId,
          ...(b.model !== undefined ? { model: b.model } : {}),
          weight: b.weight,
          priority: b.priority,
        });
        continue;
      }
      const problem = providerProblems.get(providerId);
      if (problem === undefined) {
        anyNotFound = true;
        missing.push(`spec.backends[${i}]: LLMProvider ${providerId} not found`);
      } else if (problem.state === 'rejected') {
        missing.push(`spec.backends[${i}]: LLMProvider ${providerId} is not accepted (${problem.reason})`);
      } else {
        missing.push(`spec.backends[${i}]: LLMProvider ${providerId} has unresolved references (${problem.reason})`);
      }
    }
    if (missing.length > 0) {
      const tail =
        backends.length === 0
          ? 'no backend is usable, so requests for this route get 503 until one resolves'
          : 'those backends are left out; the others are served';
      resolve(
        status,
        false,
        anyNotFound ? REASONS.backendNotFound : 'BackendNotReady',
        `${missing.join('; ')}; ${tail}`,
      );
    } else {
      resolve(status, true, REASONS.resolved, 'all backends resolved');
    }

    const route: RouteConfig = {
      id,
      namespace: ns,
      name: r.metadata.name,
      models: patterns.map(parsePattern),
      headers,
      backends,
      retry: {
        attempts: spec.retry?.attempts ?? DEFAULTS.retryAttempts,
        backoffBaseMs: base,
        backoffMaxMs: max,
        on: [...(spec.retry?.retryOn ?? DEFAULTS.retryOn)],
      },
      timeoutMs: parseDuration(spec.timeout ?? DEFAULTS.routeTimeout),
    };
    // weighted, the default, is left out: a route that names it compiles to the same snapshot as one that does not.
    if (spec.loadBalancing !== undefined && spec.loadBalancing !== 'weighted') route.loadBalancing = spec.loadBalancing;
    if (spec.cache !== undefined) route.cache = routeCache(spec.cache);
    if (r.metadata.creationTimestamp !== undefined) route.createdAt = r.metadata.creationTimestamp;
    if (r.metadata.generation !== undefined) route.generation = r.metadata.generation;
    routes.push(route);
  }
  return routes;
}

function routeCache(c: NonNullable<LLMRouteSpec['cache']>): NonNullable<RouteConfig['cache']> {
  const out: NonNullable<RouteConfig['cache']> = {
    mode: c.mode,
    ttlMs: parseDuration(c.ttl),
    scope: c.scope,
    includeTruncated: c.includeTruncated,
  };
  const sem = c.semantic;
  if (sem !== undefined) {
    out.semantic = { embeddingModel: sem.embeddingModel, threshold: sem.threshold };
    // Written only when set, so snapshots of routes that do not opt in stay as they were.
    if (sem.includeAgentSteps) out.semantic.includeAgentSteps = true;
  }
  return out;
}

function dedupeHeaders(headers: Array<{ name: string; value: string }>): Array<{ name: string; value: string }> {
  const seen = new Map<string, { name: string; value: string }>();
  for (const h of headers) seen.set(`${h.name}=${h.value}`, h);
  return [...seen.values()].sort((a, b) => cmp(a.name, b.name) || cmp(a.value, b.value));
}
