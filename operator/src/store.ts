/**
 * The in-memory snapshot the watchers fill (pure: no I/O). Reconcile always rebuilds from the whole
 * store, so any burst of watch events collapses into one run. `apply`/`remove` report whether the
 * change matters for the config (a status-only update of our own does not), which keeps status writes
 * from triggering reconcile loops.
 */
import {
  API_KEY_LABEL,
  type ObjectMeta,
  type RawResource,
  type RawSecret,
  type ResourceKind,
  type ResourceSnapshot,
} from '../../dataplane/src/config/resources.js';
import type { ResourceStatus } from './conditions.js';

export type WatchedKind = ResourceKind | 'Secret';

/** An object as the API server returns it (only the fields the operator reads). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: unknown;
  status?: unknown;
  data?: Record<string, string>;
  type?: string;
}

export interface StoredResource {
  kind: ResourceKind;
  meta: ObjectMeta;
  spec: unknown;
  status?: ResourceStatus;
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function metaOf(obj: KubeObject): ObjectMeta | undefined {
  const m = obj.metadata;
  if (!m?.name || !m.namespace) return undefined;
  const created = m.creationTimestamp instanceof Date ? m.creationTimestamp.toISOString() : m.creationTimestamp;
  const meta: ObjectMeta = { name: m.name, namespace: m.namespace };
  if (m.uid !== undefined) meta.uid = m.uid;
  if (m.generation !== undefined) meta.generation = m.generation;
  if (m.resourceVersion !== undefined) meta.resourceVersion = m.resourceVersion;
  if (created !== undefined) meta.creationTimestamp = created;
  if (m.labels) meta.labels = { ...m.labels };
  return meta;
}

export class SnapshotStore {
  private readonly resources: Record<ResourceKind, Map<string, StoredResource>> = {
    LLMProvider: new Map(),
    LLMRoute: new Map(),
    QuotaPolicy: new Map(),
  };
  private readonly secrets = new Map<string, RawSecret>();

  /** Adds or updates an object. Returns true when the config may change (not a status-only update). */
  apply(kind: WatchedKind, obj: KubeObject): boolean {
    const meta = metaOf(obj);
    if (!meta) return false;
    const key = keyOf(meta.namespace, meta.name);
    if (kind === 'Secret') {
      const before = this.secrets.get(key);
      const secret: RawSecret = { kind: 'Secret', metadata: meta, data: { ...(obj.data ?? {}) } };
      this.secrets.set(key, secret);
      return this.secretMatters(before) || this.secretMatters(secret);
    }
    const map = this.resources[kind];
    const before = map.get(key);
    const stored: StoredResource = { kind, meta, spec: obj.spec };
    const status = obj.status as ResourceStatus | undefined;
    if (status && Array.isArray(status.conditions)) stored.status = status;
    map.set(key, stored);
    if (!before) return true;
    // Spec changes bump metadata.generation; labels matter too (not for these kinds today, but cheap).
    return (
      before.meta.generation !== meta.generation ||
      before.meta.uid !== meta.uid ||
      JSON.stringify(before.spec) !== JSON.stringify(obj.spec)
    );
  }

  remove(kind: WatchedKind, obj: KubeObject): boolean {
    const meta = metaOf(obj);
    if (!meta) return false;
    const key = keyOf(meta.namespace, meta.name);
    if (kind === 'Secret') {
      const before = this.secrets.get(key);
      this.secrets.delete(key);
      return this.secretMatters(before);
    }
    return this.resources[kind].delete(key);
  }

  /**
   * Replaces every object of a kind (after a relist), in one namespace or (undefined) in all.
   * Returns true when anything relevant changed.
   */
  replaceAll(kind: WatchedKind, objs: readonly KubeObject[], namespace?: string): boolean {
    let changed = false;
    const seen = new Set<string>();
    for (const obj of objs) {
      const meta = metaOf(obj);
      if (!meta) continue;
      seen.add(keyOf(meta.namespace, meta.name));
      if (this.apply(kind, obj)) changed = true;
    }
    const map: Map<string, unknown> = kind === 'Secret' ? this.secrets : this.resources[kind];
    for (const key of [...map.keys()]) {
      if (seen.has(key)) continue;
      const [ns, name] = key.split('/') as [string, string];
      if (namespace !== undefined && ns !== namespace) continue;
      if (this.remove(kind, { metadata: { namespace: ns, name } })) changed = true;
    }
    return changed;
  }

  get(kind: ResourceKind, namespace: string, name: string): StoredResource | undefined {
    return this.resources[kind].get(keyOf(namespace, name));
  }

  /** Records the status the operator just wrote (and its new resourceVersion) without a watch round trip. */
  setStatus(kind: ResourceKind, namespace: string, name: string, status: ResourceStatus, resourceVersion?: string) {
    const r = this.resources[kind].get(keyOf(namespace, name));
    if (!r) return;
    r.status = status;
    if (resourceVersion) r.meta.resourceVersion = resourceVersion;
  }

  /** uid of a watched Secret (for Events about it). */
  secretUid(namespace: string, name: string): string | undefined {
    return this.secrets.get(keyOf(namespace, name))?.metadata.uid;
  }

  all(kind: ResourceKind): StoredResource[] {
    return [...this.resources[kind].values()];
  }

  /** A key Secret (labelled) or a Secret some provider references. */
  private secretMatters(secret: RawSecret | undefined): boolean {
    if (!secret) return false;
    if (secret.metadata.labels?.[API_KEY_LABEL] === 'true') return true;
    return this.referencedSecrets().has(keyOf(secret.metadata.namespace, secret.metadata.name));
  }

  private referencedSecrets(): Set<string> {
    const refs = new Set<string>();
    for (const p of this.resources.LLMProvider.values()) {
      const name = (p.spec as { auth?: { secretRef?: { name?: unknown } } } | undefined)?.auth?.secretRef?.name;
      if (typeof name === 'string') refs.add(keyOf(p.meta.namespace, name));
    }
    return refs;
  }

  /** The consistent snapshot translate takes: resources plus only the Secrets that matter. */
  snapshot(): ResourceSnapshot {
    const raw = (kind: ResourceKind): RawResource[] =>
      [...this.resources[kind].values()].map((r) => ({
        apiVersion: 'tollgate.dev/v1alpha1',
        kind,
        metadata: { ...r.meta },
        spec: r.spec,
      }));
    const refs = this.referencedSecrets();
    const secrets = [...this.secrets.values()].filter(
      (s) => s.metadata.labels?.[API_KEY_LABEL] === 'true' || refs.has(keyOf(s.metadata.namespace, s.metadata.name)),
    );
    return {
      providers: raw('LLMProvider'),
      routes: raw('LLMRoute'),
      quotaPolicies: raw('QuotaPolicy'),
      secrets,
    };
  }
}
