/**
 * What the parts of the config translation share (translate.ts puts them together): status and condition
 * types, reasons, defaults, zod error formatting and small helpers. Pure.
 */
import type { z } from 'zod';
import type { RouteConfig } from '../../../contract/gateway-config.js';
import type { ObjectMeta, RawResource, ResourceKind } from './resources.js';

export type ConditionType = 'Accepted' | 'ResolvedRefs';

export interface StatusCondition {
  type: ConditionType;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** Status of one resource as translate sees it; the operator adds Programmed and writes metav1.Conditions. */
export interface ResourceStatus {
  kind: ResourceKind | 'Secret';
  namespace: string;
  name: string;
  generation?: number;
  conditions: StatusCondition[];
}

/** Condition reasons translate emits (stable: users and alerts match on them). */
export const REASONS = {
  accepted: 'Accepted',
  resolved: 'ResolvedRefs',
  invalid: 'Invalid',
  unsupportedType: 'UnsupportedType',
  modelConflict: 'ModelConflict',
  duplicateKey: 'DuplicateKey',
  missingKey: 'MissingKey',
  secretNotFound: 'SecretNotFound',
  keyNotFound: 'KeyNotFound',
  invalidSecretData: 'InvalidSecretData',
  backendNotFound: 'BackendNotFound',
  noMatchingKeys: 'NoMatchingKeys',
} as const;

export const DEFAULTS = {
  routeTimeout: '120s',
  retryAttempts: 3,
  backoffBase: '100ms',
  backoffMax: '2s',
  retryOn: ['429', '5xx', 'timeout', 'connect-failure'] as RouteConfig['retry']['on'],
  connectTimeout: '5s',
  requestTimeout: '300s',
  /** LLMProvider maxQueued when only maxConcurrency is set: waiting places per slot (ADR 0066). */
  queuedPerSlot: 4,
} as const;

/** `spec.retry.attempts: Too big: expected number to be <=10; spec.models[0]: ...` */
export function formatZodError(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
        prefix,
      );
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** A model pattern from a spec: a trailing * makes it a prefix. */
export function parsePattern(p: string): { name: string; prefix: boolean } {
  return p.endsWith('*') ? { name: p.slice(0, -1), prefix: true } : { name: p, prefix: false };
}

export function idOf(meta: Pick<ObjectMeta, 'namespace' | 'name'>): string {
  return `${meta.namespace}/${meta.name}`;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byId(a: { id: string }, b: { id: string }): number {
  return cmp(a.id, b.id);
}

/** Older first: creationTimestamp (RFC 3339 compares as text; missing counts as oldest), then namespace/name. */
export function byAge(a: { metadata: ObjectMeta }, b: { metadata: ObjectMeta }): number {
  return (
    cmp(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    cmp(idOf(a.metadata), idOf(b.metadata))
  );
}

/** The first resource with a given namespace/name wins (the API server cannot hold two; files can). */
export function dedupe(resources: RawResource[]): RawResource[] {
  const seen = new Set<string>();
  return resources.filter((r) => {
    const id = idOf(r.metadata);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export function newStatus(kind: ResourceStatus['kind'], meta: ObjectMeta): ResourceStatus {
  const s: ResourceStatus = { kind, namespace: meta.namespace, name: meta.name, conditions: [] };
  if (meta.generation !== undefined) s.generation = meta.generation;
  return s;
}

/**
 * A resource's spec parsed by its kind's schema: `{ spec }`, or `{ invalid }`, the Accepted=False message naming
 * the fields (`LLMRoute ai/chat is invalid: spec.retry.attempts: ...`).
 */
export function parseSpec<S extends z.ZodType>(
  schema: S,
  kind: ResourceKind,
  id: string,
  spec: unknown,
): { spec: z.infer<S>; invalid?: undefined } | { invalid: string } {
  const parsed = schema.safeParse(spec);
  return parsed.success
    ? { spec: parsed.data }
    : { invalid: `${kind} ${id} is invalid: ${formatZodError(parsed.error, 'spec')}` };
}

export function accept(status: ResourceStatus, ok: boolean, reason: string, message: string): void {
  status.conditions.push({ type: 'Accepted', status: ok ? 'True' : 'False', reason, message });
}

export function resolve(status: ResourceStatus, ok: boolean, reason: string, message: string): void {
  status.conditions.push({ type: 'ResolvedRefs', status: ok ? 'True' : 'False', reason, message });
}
