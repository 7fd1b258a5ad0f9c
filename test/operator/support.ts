/**
 * Helpers for the operator tests on the real API server: ServiceAccount tokens from the TokenRequest
 * API, CRD installation, resource apply/delete through the admin client, condition polling.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { eventually, REPO_ROOT_DIR, tool } from './kube.js';

export { eventually };

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

const PLURAL: Record<string, string> = {
  LLMProvider: 'llmproviders',
  LLMRoute: 'llmroutes',
  QuotaPolicy: 'quotapolicies',
};

export async function installCrds(): Promise<void> {
  await tool('kubectl', ['apply', '-f', join(REPO_ROOT_DIR, 'crds')]);
  await tool('kubectl', ['wait', '--for=condition=Established', '--timeout=60s', '-f', join(REPO_ROOT_DIR, 'crds')]);
}

/** Creates a ServiceAccount and returns the path of a file holding a fresh token for it (TokenRequest API). */
export async function serviceAccountToken(
  kc: KubeConfig,
  namespace: string,
  name: string,
  dir: string,
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
  const tr = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  const path = join(dir, `${namespace}-${name}.token`);
  await writeFile(path, token, { mode: 0o600 });
  return path;
}

export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tollgate-op-test-'));
}

export class Resources {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async create(kind: string, name: string, spec: unknown): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      group: 'tollgate.dev',
      version: 'v1alpha1',
      namespace: this.namespace,
      plural: PLURAL[kind] as string,
      body: { apiVersion: 'tollgate.dev/v1alpha1', kind, metadata: { name, namespace: this.namespace }, spec },
    });
  }

  async delete(kind: string, name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({
      group: 'tollgate.dev',
      version: 'v1alpha1',
      namespace: this.namespace,
      plural: PLURAL[kind] as string,
      name,
    });
  }

  async get(
    kind: string,
    name: string,
  ): Promise<{
    metadata: { generation?: number };
    status?: { observedGeneration?: number; conditions?: Condition[] };
  }> {
    return (await this.custom.getNamespacedCustomObject({
      group: 'tollgate.dev',
      version: 'v1alpha1',
      namespace: this.namespace,
      plural: PLURAL[kind] as string,
      name,
    })) as { metadata: { generation?: number }; status?: { observedGeneration?: number; conditions?: Condition[] } };
  }

  async patchSpec(kind: string, name: string, mutate: (spec: Record<string, unknown>) => void): Promise<void> {
    const obj = (await this.get(kind, name)) as unknown as { spec: Record<string, unknown> };
    mutate(obj.spec);
    await this.custom.replaceNamespacedCustomObject({
      group: 'tollgate.dev',
      version: 'v1alpha1',
      namespace: this.namespace,
      plural: PLURAL[kind] as string,
      name,
      body: obj,
    });
  }

  async secret(name: string, data: Record<string, string>, labels?: Record<string, string>): Promise<void> {
    const body = { metadata: { name, namespace: this.namespace, ...(labels ? { labels } : {}) }, stringData: data };
    try {
      await this.core.createNamespacedSecret({ namespace: this.namespace, body });
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
      await this.core.replaceNamespacedSecret({ namespace: this.namespace, name, body });
    }
  }

  /** Polls until the resource has a condition matching `want` for its current generation. */
  async waitCondition(
    kind: string,
    name: string,
    type: string,
    want: Partial<Condition>,
    timeoutMs = 30_000,
  ): Promise<Condition> {
    return eventually(async () => {
      const obj = await this.get(kind, name);
      const c = obj.status?.conditions?.find((x) => x.type === type);
      const ok =
        c !== undefined &&
        obj.status?.observedGeneration === obj.metadata.generation &&
        c.observedGeneration === obj.metadata.generation &&
        Object.entries(want).every(([k, v]) => (c as unknown as Record<string, unknown>)[k] === v);
      if (!ok) throw new Error(`${kind} ${name}: ${type} is ${JSON.stringify(c)}, want ${JSON.stringify(want)}`);
      return c as Condition;
    }, timeoutMs);
  }
}
