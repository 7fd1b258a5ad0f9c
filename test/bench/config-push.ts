/**
 * Config-push latency: time from a route change written to the API server until every connected
 * data-plane pod has applied a config containing it. Real kube-apiserver (KUBECONFIG, for example from
 * `npm run kube:up`), one operator, N data planes on loopback, each with its own TokenRequest token.
 *
 *   npm run build:bench && KUBECONFIG=.tollgate/kube/kubeconfig node dist/test/bench/config-push.js [--changes 50] [--pods 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { type DataplaneHandle, startDataplane } from '../../dataplane/src/cli/dataplane.js';
import { silentLogger } from '../../dataplane/src/log.js';
import { parseOperatorFlags } from '../../operator/src/flags.js';
import { startOperator } from '../../operator/src/operator.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      changes: { type: 'string', default: '50' },
      pods: { type: 'string', default: '3' },
      kubectl: { type: 'string' },
    },
  });
  const changes = Number(values.changes);
  const podCount = Number(values.pods);
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('set KUBECONFIG (npm run kube:up writes .tollgate/kube/kubeconfig)');
  const kubectl = values.kubectl ?? join(root, '.tollgate/kube/bin/kubectl');
  execFileSync(kubectl, ['apply', '-f', join(root, 'crds')], { stdio: 'ignore' });
  execFileSync(kubectl, ['wait', '--for=condition=Established', '-f', join(root, 'crds')], { stdio: 'ignore' });

  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const suffix = Math.random().toString(16).slice(2, 8);
  const sys = `bench-sys-${suffix}`;
  const ns = `bench-ai-${suffix}`;
  for (const name of [sys, ns]) await core.createNamespace({ body: { metadata: { name } } });
  await core.createNamespacedServiceAccount({ namespace: sys, body: { metadata: { name: 'tollgate-dataplane' } } });
  const tr = await core.createNamespacedServiceAccountToken({
    namespace: sys,
    name: 'tollgate-dataplane',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-'));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, tr.status?.token ?? '');

  const group = { group: 'tollgate.dev', version: 'v1alpha1', namespace: ns };
  await custom.createNamespacedCustomObject({
    ...group,
    plural: 'llmproviders',
    body: {
      apiVersion: 'tollgate.dev/v1alpha1',
      kind: 'LLMProvider',
      metadata: { name: 'p' },
      spec: { type: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1' },
    },
  });
  await custom.createNamespacedCustomObject({
    ...group,
    plural: 'llmroutes',
    body: {
      apiVersion: 'tollgate.dev/v1alpha1',
      kind: 'LLMRoute',
      metadata: { name: 'r' },
      spec: { models: ['m-0'], backends: [{ provider: 'p' }] },
    },
  });

  const parsed = parseOperatorFlags(
    [
      `--kubeconfig=${kubeconfig}`,
      `--namespaces=${ns}`,
      `--lease-namespace=${sys}`,
      '--config-listen=127.0.0.1:0',
      '--health-listen=127.0.0.1:0',
      '--leader-elect=false',
      `--dataplane-service-accounts=${sys}/tollgate-dataplane`,
    ],
    { env: {}, hostname: 'bench-operator' },
  );
  if (parsed.help) throw new Error('unexpected');
  const op = await startOperator(parsed.flags, silentLogger);
  const pods: DataplaneHandle[] = [];
  for (let i = 0; i < podCount; i++) {
    pods.push(
      await startDataplane({
        operatorUrl: `https://127.0.0.1:${op.configPort}`,
        ca: op.caCert,
        tokenFile,
        port: 0,
        host: '127.0.0.1',
        podName: `bench-${i}`,
        logger: silentLogger,
      }),
    );
  }
  const has = (p: DataplaneHandle, model: string) =>
    p.gateway.config?.routes.some((r) => r.models.some((m) => m.name === model)) === true;
  const waitAll = async (model: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pods.every((p) => has(p, model))) {
      if (Date.now() > deadline) throw new Error(`pods did not get ${model}`);
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  await waitAll('m-0');

  const samples: number[] = [];
  for (let i = 1; i <= changes; i++) {
    const model = `m-${i}`;
    let t0 = 0;
    for (;;) {
      // The operator writes status concurrently: re-read and retry on 409, as any client would.
      const obj = (await custom.getNamespacedCustomObject({ ...group, plural: 'llmroutes', name: 'r' })) as {
        spec: { models: string[] };
      };
      obj.spec.models = [model];
      t0 = performance.now();
      try {
        await custom.replaceNamespacedCustomObject({ ...group, plural: 'llmroutes', name: 'r', body: obj });
        break;
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }
    await waitAll(model);
    samples.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 50)); // let status writes settle, as between real edits
  }
  samples.sort((a, b) => a - b);
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `config push, route change → all ${podCount} pods applied, ${changes} changes: ` +
      `p50 ${fmt(pct(samples, 50))}, p90 ${fmt(pct(samples, 90))}, p99 ${fmt(pct(samples, 99))}, max ${fmt(samples[samples.length - 1] ?? 0)}`,
  );

  for (const p of pods) await p.stop();
  await op.stop();
  for (const name of [sys, ns]) await core.deleteNamespace({ name }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
