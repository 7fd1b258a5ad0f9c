/**
 * The operator's list+watch wiring: one Reflector per watched kind and namespace (the CRDs and every
 * Secret), each feeding the SnapshotStore and calling `changed` when the snapshot moved. No logic beyond
 * building the API paths and list calls.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, Watch } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, RESOURCE_KINDS } from '../../dataplane/src/config/resources.js';
import type { Logger } from '../../dataplane/src/log.js';
import { PLURALS } from './kube-io.js';
import { type ListResult, Reflector } from './reflector.js';
import type { KubeObject, SnapshotStore, WatchedKind } from './store.js';

export interface WatchOptions {
  kc: KubeConfig;
  store: SnapshotStore;
  /** Watched namespaces; undefined or empty: all. */
  namespaces?: readonly string[];
  logger: Logger;
  resyncMs?: number;
  /** The store changed: schedule a reconcile. */
  changed(): void;
}

/** The reflectors for every watched kind in every watched namespace (not started). */
export function createReflectors(o: WatchOptions): Reflector[] {
  const custom = o.kc.makeApiClient(CustomObjectsApi);
  const core = o.kc.makeApiClient(CoreV1Api);
  const watch = new Watch(o.kc);
  const reflectors: Reflector[] = [];
  const add = (kind: WatchedKind, namespace: string | undefined, path: string, list: () => Promise<ListResult>) =>
    reflectors.push(
      new Reflector({
        name: `${kind}${namespace ? ` in ${namespace}` : ''}`,
        path,
        list,
        watch,
        logger: o.logger,
        ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
        onList: (items) => {
          if (o.store.replaceAll(kind, items, namespace)) o.changed();
        },
        onEvent: (type, obj) => {
          const changed = type === 'DELETED' ? o.store.remove(kind, obj) : o.store.apply(kind, obj);
          if (changed) o.changed();
        },
      }),
    );
  const scopes: (string | undefined)[] = o.namespaces?.length ? [...o.namespaces] : [undefined];
  for (const namespace of scopes) {
    for (const kind of RESOURCE_KINDS) {
      const plural = PLURALS[kind];
      const path = namespace
        ? `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${plural}`
        : `/apis/${API_GROUP}/${API_VERSION}/${plural}`;
      const list = async (): Promise<ListResult> => {
        const base = { group: API_GROUP, version: API_VERSION, plural };
        const res = (
          namespace
            ? await custom.listNamespacedCustomObject({ ...base, namespace })
            : await custom.listClusterCustomObject(base)
        ) as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
        return { items: res.items ?? [], resourceVersion: res.metadata?.resourceVersion ?? '' };
      };
      add(kind, namespace, path, list);
    }
    // Secrets: every Secret of the namespace, because a provider may reference any name; the store
    // keeps only key Secrets and referenced ones in the snapshot.
    const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets';
    const list = async (): Promise<ListResult> => {
      const res = namespace
        ? await core.listNamespacedSecret({ namespace })
        : await core.listSecretForAllNamespaces({});
      return { items: res.items as KubeObject[], resourceVersion: res.metadata?.resourceVersion ?? '' };
    };
    add('Secret', namespace, path, list);
  }
  return reflectors;
}
