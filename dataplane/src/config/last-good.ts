/**
 * Per-resource last good (ADR 0055), pure: an edit that leaves a provider, route or quota policy not clean
 * (Accepted=False, or ResolvedRefs=False such as a route naming a missing provider) is not served; the last
 * clean version of that resource stands in for it, and its status says so. Used by `tollgate run`'s file
 * source and, through lastGoodTranslator, by the operator's reconcile, so both behave the same.
 */
import type { RawResource, ResourceKind, ResourceSnapshot } from './resources.js';
import {
  canonicalJson,
  type ResourceStatus,
  type TranslateOptions,
  type TranslateResult,
  translate,
} from './translate.js';

/** `Kind namespace/name` → the last version of that resource that was clean. */
export type LastGoodVersions = ReadonlyMap<string, RawResource>;

export type TranslateFn = (snapshot: ResourceSnapshot, opts: TranslateOptions) => TranslateResult;

export interface KeptResource {
  /** `Kind namespace/name`. */
  key: string;
  kind: ResourceKind;
  namespace: string;
  name: string;
  /** The conditions of the new version that are not True (why it is not served). */
  problems: ResourceStatus['conditions'];
}

export interface LastGoodResult {
  result: TranslateResult;
  /** Resources whose new version is not served; their last good version is. */
  kept: KeptResource[];
  /** The map to pass to the next call. */
  next: Map<string, RawResource>;
}

export const resourceKeyOf = (kind: string, namespace: string, name: string): string => `${kind} ${namespace}/${name}`;

export const KEPT_PREFIX = 'not applied, its last good version keeps being served: ';

function isClean(s: ResourceStatus | undefined): boolean {
  return s !== undefined && s.conditions.length > 0 && s.conditions.every((c) => c.status === 'True');
}

function resourcesOf(snapshot: ResourceSnapshot): RawResource[] {
  return [...snapshot.providers, ...snapshot.routes, ...snapshot.quotaPolicies];
}

function substitute(snapshot: ResourceSnapshot, standIns: ReadonlyMap<string, RawResource>): ResourceSnapshot {
  const swap = (list: RawResource[]) =>
    list.map((r) => standIns.get(resourceKeyOf(r.kind, r.metadata.namespace, r.metadata.name)) ?? r);
  return {
    providers: swap(snapshot.providers),
    routes: swap(snapshot.routes),
    quotaPolicies: swap(snapshot.quotaPolicies),
    secrets: snapshot.secrets,
  };
}

function statusIndex(result: TranslateResult): Map<string, ResourceStatus> {
  return new Map(result.statuses.map((s) => [resourceKeyOf(s.kind, s.namespace, s.name), s]));
}

/**
 * Translates `snapshot`, standing in the last good version for every resource whose changed spec is not
 * clean, when that version is clean against the current snapshot.
 */
export function translateKeepingLastGood(
  snapshot: ResourceSnapshot,
  opts: TranslateOptions,
  previous: LastGoodVersions,
  fn: TranslateFn = translate,
): LastGoodResult {
  const first = fn(snapshot, opts);
  const firstStatus = statusIndex(first);
  const current = new Map(
    resourcesOf(snapshot).map((r) => [resourceKeyOf(r.kind, r.metadata.namespace, r.metadata.name), r]),
  );

  const standIns = new Map<string, RawResource>();
  for (const [key, r] of current) {
    if (isClean(firstStatus.get(key))) continue;
    const old = previous.get(key);
    if (old === undefined || canonicalJson(old.spec) === canonicalJson(r.spec)) continue;
    standIns.set(key, old);
  }

  let result = first;
  let index = firstStatus;
  while (standIns.size > 0) {
    result = fn(substitute(snapshot, standIns), opts);
    index = statusIndex(result);
    const useless = [...standIns.keys()].filter((k) => !isClean(index.get(k)));
    if (useless.length === 0) break;
    for (const k of useless) standIns.delete(k);
    if (standIns.size === 0) {
      result = first;
      index = firstStatus;
    }
  }

  const kept: KeptResource[] = [];
  let statuses = result.statuses;
  if (standIns.size > 0) {
    statuses = result.statuses.map((s) => {
      const key = resourceKeyOf(s.kind, s.namespace, s.name);
      const mine = standIns.has(key) ? firstStatus.get(key) : undefined;
      if (mine === undefined) return s;
      kept.push({
        key,
        kind: s.kind as ResourceKind,
        namespace: s.namespace,
        name: s.name,
        problems: mine.conditions.filter((c) => c.status !== 'True'),
      });
      return {
        ...mine,
        conditions: mine.conditions.map((c) => (c.status === 'True' ? c : { ...c, message: KEPT_PREFIX + c.message })),
      };
    });
  }

  const next = new Map<string, RawResource>();
  for (const [key, r] of current) {
    const old = standIns.get(key);
    if (old !== undefined) next.set(key, old);
    else if (isClean(index.get(key))) next.set(key, r);
  }
  return { result: { config: result.config, statuses }, kept, next };
}

/** The operator's translate with per-resource last good; keeps the last good versions between calls. */
export function lastGoodTranslator(fn: TranslateFn = translate): TranslateFn {
  let versions: LastGoodVersions = new Map();
  return (snapshot, opts) => {
    const out = translateKeepingLastGood(snapshot, opts, versions, fn);
    versions = out.next;
    return out.result;
  };
}
