/**
 * Routing tables, compiled once per config: per namespace an exact-model Map and a prefix list sorted by
 * length, each entry holding its candidate routes ordered by specificity (more header conditions first,
 * then older first). Matching a request is a Map lookup plus, on a miss, a scan of the prefixes.
 */
import {
  type GatewayConfig,
  type LoadBalancing,
  MAX_ROUTE_BACKENDS,
  type Pricing,
  type ProviderConfig,
  type RouteConfig,
} from '../../../contract/gateway-config.js';
import type { ProviderSlots } from './concurrency.js';
import type { BackendHealth, HealthRegistry } from './health.js';
import type { BackendStats } from './stats.js';

export interface CompiledBackend {
  /** Index in the route's flat backend list (bit in the tried-mask). */
  readonly index: number;
  readonly provider: ProviderConfig;
  /** Upstream model; undefined: the client's model. */
  readonly model: string | undefined;
  readonly weight: number;
  readonly priority: number;
  /** `<provider name>/<model>` when the model is fixed (x-tollgate-backend). */
  readonly label: string | undefined;
  readonly health: BackendHealth;
  /** The provider's concurrency cap (routing/concurrency.ts); undefined: uncapped. */
  readonly slots: ProviderSlots | undefined;
  /** This replica's load stats of the backend (in flight, latency); kept with `health` across reloads. */
  readonly stats: BackendStats;
  /** Declared price of the fixed upstream model (lowest-cost); undefined: not fixed or not priced. */
  readonly pricing: Pricing | undefined;
}

export interface CompiledRoute {
  readonly config: RouteConfig;
  /** `<namespace>/<name>` (x-tollgate-route). */
  readonly id: string;
  readonly headers: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  /** Backends grouped by priority, lowest priority number first. */
  readonly tiers: ReadonlyArray<ReadonlyArray<CompiledBackend>>;
  readonly backends: ReadonlyArray<CompiledBackend>;
  /** spec.loadBalancing, defaulted (routing/strategies.ts). */
  readonly loadBalancing: LoadBalancing;
}

interface PrefixEntry {
  readonly prefix: string;
  readonly routes: CompiledRoute[];
}

export interface NamespaceTable {
  readonly exact: Map<string, CompiledRoute[]>;
  readonly prefixes: PrefixEntry[];
  /** Pre-rendered `GET /v1/models` body. */
  readonly modelsBody: string;
}

export type HeaderGetter = (name: string) => string | string[] | undefined;

/** The route for `model` in `table`, or undefined. */
export function matchRoute(table: NamespaceTable, model: string, headers: HeaderGetter): CompiledRoute | undefined {
  const exact = table.exact.get(model);
  if (exact !== undefined) {
    const r = firstMatching(exact, headers);
    if (r !== undefined) return r;
  }
  const prefixes = table.prefixes;
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    if (model.startsWith(p.prefix)) {
      const r = firstMatching(p.routes, headers);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

function firstMatching(routes: CompiledRoute[], headers: HeaderGetter): CompiledRoute | undefined {
  outer: for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    for (let j = 0; j < r.headers.length; j++) {
      const h = r.headers[j]!;
      const v = headers(h.name);
      if (v === undefined) continue outer;
      if (typeof v === 'string' ? v !== h.value : !v.includes(h.value)) continue outer;
    }
    return r;
  }
  return undefined;
}

/** Orders equally model-specific routes: more header conditions first, then older, then by id. */
function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const dh = b.headers.length - a.headers.length;
  if (dh !== 0) return dh;
  const ca = a.config.createdAt ?? '';
  const cb = b.config.createdAt ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function compileRoute(
  route: RouteConfig,
  providers: Map<string, ProviderConfig>,
  registry: HealthRegistry,
  slots?: ReadonlyMap<string, ProviderSlots>,
) {
  // The tried-set is a 31-bit mask. GatewayConfigSchema (and the LLMRoute schema and CRD before it) caps a
  // route's backends at MAX_ROUTE_BACKENDS, so a longer list is a caller's bug: refuse it rather than drop any.
  if (route.backends.length > MAX_ROUTE_BACKENDS)
    throw new RangeError(
      `route ${route.id} has ${route.backends.length} backends; at most ${MAX_ROUTE_BACKENDS} are served per route`,
    );
  const backends: CompiledBackend[] = [];
  for (const b of route.backends) {
    const provider = providers.get(b.provider);
    if (provider === undefined) continue; // unresolved: the translator already reported it in status
    const health = registry.get(provider.id, b.model);
    backends.push({
      index: backends.length,
      provider,
      model: b.model,
      weight: b.weight,
      priority: b.priority,
      label: b.model === undefined ? undefined : `${provider.name}/${b.model}`,
      health,
      slots: slots?.get(provider.id),
      stats: health.stats,
      pricing: b.model === undefined ? undefined : provider.models.find((m) => m.name === b.model)?.pricing,
    });
  }
  const priorities = [...new Set(backends.map((b) => b.priority))].sort((a, b) => a - b);
  const compiled: CompiledRoute = {
    config: route,
    id: route.id,
    headers: route.headers.map((h) => ({ name: h.name.toLowerCase(), value: h.value })),
    tiers: priorities.map((p) => backends.filter((b) => b.priority === p)),
    backends,
    loadBalancing: route.loadBalancing ?? 'weighted',
  };
  return compiled;
}

/**
 * Builds one table per namespace, plus `all` (every namespace, for open mode where no keys exist).
 * Health entries are taken from (and kept in) `health`.
 */
export function compileTables(
  config: GatewayConfig,
  health: HealthRegistry,
  slots?: ReadonlyMap<string, ProviderSlots>,
): { byNamespace: Map<string, NamespaceTable>; all: NamespaceTable } {
  const providers = new Map(config.providers.map((p) => [p.id, p]));
  const routes = config.routes.map((r) => compileRoute(r, providers, health, slots));
  const used = new Set<string>();
  for (const r of routes) for (const b of r.backends) used.add(b.health.key);
  health.retain(used);
  const byNs = new Map<string, CompiledRoute[]>();
  for (const r of routes) {
    let list = byNs.get(r.config.namespace);
    if (list === undefined) {
      list = [];
      byNs.set(r.config.namespace, list);
    }
    list.push(r);
  }
  const byNamespace = new Map<string, NamespaceTable>();
  for (const [ns, list] of byNs) byNamespace.set(ns, buildTable(list));
  return { byNamespace, all: buildTable(routes) };
}

export const EMPTY_TABLE: NamespaceTable = { exact: new Map(), prefixes: [], modelsBody: modelsList([]) };

function buildTable(routes: CompiledRoute[]): NamespaceTable {
  const exact = new Map<string, CompiledRoute[]>();
  const prefixMap = new Map<string, CompiledRoute[]>();
  const models = new Map<string, string>(); // model → owning route namespace
  for (const r of routes) {
    for (const m of r.config.models) {
      const target = m.prefix ? prefixMap : exact;
      let list = target.get(m.name);
      if (list === undefined) {
        list = [];
        target.set(m.name, list);
      }
      if (!list.includes(r)) list.push(r);
      // Prefix patterns are listed as the pattern the user wrote (`gpt-4o*`): clients see what they may send.
      const shown = m.prefix ? `${m.name}*` : m.name;
      if (!models.has(shown)) models.set(shown, r.config.namespace);
    }
  }
  for (const list of exact.values()) list.sort(bySpecificity);
  const prefixes: PrefixEntry[] = [];
  for (const [prefix, list] of prefixMap) prefixes.push({ prefix, routes: list.sort(bySpecificity) });
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length || (a.prefix < b.prefix ? -1 : 1));
  return { exact, prefixes, modelsBody: modelsList([...models].sort((a, b) => (a[0] < b[0] ? -1 : 1))) };
}

function modelsList(models: Array<[string, string]>): string {
  return JSON.stringify({
    object: 'list',
    data: models.map(([id, ns]) => ({ id, object: 'model', created: 0, owned_by: ns })),
  });
}
