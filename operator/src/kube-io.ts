/**
 * Every write the operator makes to the API server lives here: status (through the status subresource,
 * re-read and retried on 409 Conflict), Events for rejections, the PKI Secret and the persisted snapshot
 * Secret. Nothing here decides anything; the controller passes in what to write.
 */
import type { CoreV1Api, CustomObjectsApi, V1Secret } from '@kubernetes/client-node';
import type { GatewayConfig } from '../../contract/gateway-config.js';
import { API_GROUP, API_VERSION, type ResourceKind } from '../../dataplane/src/config/resources.js';
import type { Pki } from './certs.js';
import type { ResourceStatus } from './conditions.js';

export const PLURALS: Record<ResourceKind, string> = {
  LLMProvider: 'llmproviders',
  LLMRoute: 'llmroutes',
  QuotaPolicy: 'quotapolicies',
};

export function statusCode(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown } | null;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

interface CustomObject {
  metadata?: { resourceVersion?: string; generation?: number; uid?: string };
  status?: ResourceStatus;
  [k: string]: unknown;
}

/**
 * Writes status.{observedGeneration,conditions} with optimistic concurrency: PUT to /status with the
 * cached resourceVersion; on 409 re-read the object and try again (up to `attempts`). Returns the new
 * resourceVersion, or undefined when the object is gone.
 */
export async function writeStatus(
  api: CustomObjectsApi,
  kind: ResourceKind,
  namespace: string,
  name: string,
  status: ResourceStatus,
  cached?: CustomObject,
  attempts = 5,
): Promise<string | undefined> {
  const plural = PLURALS[kind];
  let obj = cached;
  for (let i = 0; i < attempts; i++) {
    try {
      if (!obj) {
        obj = (await api.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural,
          name,
        })) as CustomObject;
      }
      const body = { ...obj, status: { ...(obj.status ?? {}), ...status } };
      const out = (await api.replaceNamespacedCustomObjectStatus({
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural,
        name,
        body,
      })) as CustomObject;
      return out.metadata?.resourceVersion;
    } catch (error) {
      const code = statusCode(error);
      if (code === 404) return undefined;
      if (code === 409 && i < attempts - 1) {
        obj = undefined; // re-read and retry
        continue;
      }
      throw error;
    }
  }
  return undefined;
}

/** A Warning (or Normal) Event on a Tollgate resource, in core/v1. Message must not carry secrets. */
export async function recordEvent(
  core: CoreV1Api,
  involved: { kind: ResourceKind | 'Secret'; namespace: string; name: string; uid?: string; generation?: number },
  type: 'Warning' | 'Normal',
  reason: string,
  message: string,
  component: string,
  /** Which replica reported it (the pod name); default: the component. */
  instance: string = component,
): Promise<void> {
  const now = new Date();
  await core.createNamespacedEvent({
    namespace: involved.namespace,
    body: {
      metadata: { generateName: `${involved.name}.`, namespace: involved.namespace },
      involvedObject: {
        apiVersion: involved.kind === 'Secret' ? 'v1' : `${API_GROUP}/${API_VERSION}`,
        kind: involved.kind,
        name: involved.name,
        namespace: involved.namespace,
        ...(involved.uid ? { uid: involved.uid } : {}),
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component },
      reportingComponent: component,
      reportingInstance: instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  });
}

async function getSecret(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name });
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

/** Creates the Secret or replaces its data (last writer wins; only the leader writes). */
export async function putSecret(
  core: CoreV1Api,
  namespace: string,
  name: string,
  data: Record<string, string>,
  labels: Record<string, string>,
): Promise<void> {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
  for (let i = 0; i < 5; i++) {
    const existing = await getSecret(core, namespace, name);
    try {
      if (!existing) {
        await core.createNamespacedSecret({
          namespace,
          body: { metadata: { name, namespace, labels }, type: 'Opaque', data: encoded },
        });
      } else {
        await core.replaceNamespacedSecret({
          namespace,
          name,
          body: {
            ...existing,
            metadata: { ...existing.metadata, labels: { ...existing.metadata?.labels, ...labels } },
            data: encoded,
          },
        });
      }
      return;
    } catch (error) {
      const code = statusCode(error);
      if ((code === 409 || code === 404) && i < 4) continue;
      throw error;
    }
  }
}

export async function readPkiSecret(core: CoreV1Api, namespace: string, name: string): Promise<Pki | undefined> {
  const s = await getSecret(core, namespace, name);
  return pkiFromData(s?.data);
}

/** The four PEMs of a PKI Secret's data (base64), or undefined when any is missing. */
export function pkiFromData(data: Record<string, string> | undefined): Pki | undefined {
  const d = data ?? {};
  const caCert = unb64(d['ca.crt']);
  const caKey = unb64(d['ca.key']);
  const cert = unb64(d['tls.crt']);
  const key = unb64(d['tls.key']);
  if (!caCert || !caKey || !cert || !key) return undefined;
  return { caCert, caKey, cert, key };
}

/** Creates the PKI Secret unless one exists; returns whichever PKI won (another replica may have raced). */
export async function createPkiSecret(core: CoreV1Api, namespace: string, name: string, pki: Pki): Promise<Pki> {
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'tollgate-operator' } },
        type: 'Opaque',
        data: {
          'ca.crt': b64(pki.caCert),
          'ca.key': b64(pki.caKey),
          'tls.crt': b64(pki.cert),
          'tls.key': b64(pki.key),
        },
      },
    });
    return pki;
  } catch (error) {
    if (statusCode(error) !== 409) throw error;
    const existing = await readPkiSecret(core, namespace, name);
    if (!existing) throw error;
    return existing;
  }
}

export async function writePkiSecret(core: CoreV1Api, namespace: string, name: string, pki: Pki): Promise<void> {
  await putSecret(
    core,
    namespace,
    name,
    { 'ca.crt': pki.caCert, 'ca.key': pki.caKey, 'tls.crt': pki.cert, 'tls.key': pki.key },
    { 'app.kubernetes.io/managed-by': 'tollgate-operator' },
  );
}

/** Persists the served snapshot (credentials included, hence a Secret) for pods that boot while the operator is down. */
export async function persistSnapshot(
  core: CoreV1Api,
  namespace: string,
  name: string,
  config: GatewayConfig,
): Promise<void> {
  await putSecret(
    core,
    namespace,
    name,
    { 'config.json': JSON.stringify(config) },
    {
      'app.kubernetes.io/managed-by': 'tollgate-operator',
    },
  );
}
