/**
 * The chart's least-privilege RBAC is enough: the operator runs with only its ServiceAccount's token
 * (RBAC rendered by `helm template`), creates its PKI and Lease, writes status and serves a data plane.
 */
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { type DataplaneHandle, startDataplane } from '../../dataplane/src/cli/dataplane.js';
import { silentLogger } from '../../dataplane/src/log.js';
import { parseOperatorFlags } from '../../operator/src/flags.js';
import { type OperatorHandle, startOperator } from '../../operator/src/operator.js';
import { adminConfig, createNamespace, REPO_ROOT_DIR, tool } from './kube.js';
import { eventually, installCrds, Resources, serviceAccountToken, tempDir } from './support.js';

let kc: KubeConfig;
let dir: string;
const ops: OperatorHandle[] = [];
const dps: DataplaneHandle[] = [];

beforeAll(async () => {
  kc = adminConfig();
  await installCrds();
  dir = await tempDir();
});

afterAll(async () => {
  for (const dp of dps) await dp.stop();
  for (const op of ops) await op.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Cluster-wide (the default), and namespaced with operator.watchNamespaces, where the operator's own
// namespace is not watched and only the chart's resourceNames rules let it see its Secrets.
it.each([['all namespaces', false] as const, ['watchNamespaces', true] as const])(
  'runs the operator with only the RBAC the chart grants (%s)',
  async (_mode, namespaced) => {
    const system = await createNamespace(kc, 'tg-rbac');
    const apps = new Resources(kc, await createNamespace(kc, 'tg-rbac-ai'));
    const release = 'tg';
    const { stdout } = await tool('helm', [
      'template',
      release,
      join(REPO_ROOT_DIR, 'charts/tollgate'),
      '-n',
      system,
      ...(namespaced ? ['--set', `operator.watchNamespaces={${apps.namespace}}`] : []),
      '--show-only',
      'templates/rbac.yaml',
      '--show-only',
      'templates/serviceaccounts.yaml',
    ]);
    await tool('kubectl', ['apply', '-f', '-'], stdout); // every object names its namespace

    const opSa = `${release}-tollgate-operator`;
    const dpSa = `${release}-tollgate-dataplane`;
    const opToken = readFileSync(await serviceAccountToken(kc, system, opSa, dir), 'utf8');
    const dpTokenFile = await serviceAccountToken(kc, system, dpSa, dir);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no cluster in the admin kubeconfig');
    const kubeconfig = join(dir, 'operator.kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }],
        users: [{ name: 'op', user: { token: opToken } }],
        contexts: [{ name: 'op', context: { cluster: 'c', user: 'op' } }],
        'current-context': 'op',
      }),
    );

    await apps.create('LLMProvider', 'p', { type: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1' });
    await apps.create('LLMRoute', 'r', { models: ['m'], backends: [{ provider: 'p' }] });
    await apps.create('LLMRoute', 'r-missing', { models: ['n'], backends: [{ provider: 'nope' }] });

    const parsed = parseOperatorFlags(
      [
        `--kubeconfig=${kubeconfig}`,
        `--lease-namespace=${system}`,
        `--lease-name=${opSa}`,
        `--tls-secret=${release}-tollgate-operator-tls`,
        `--snapshot-secret=${release}-tollgate-config-snapshot`,
        `--dataplane-service-accounts=${system}/${dpSa}`,
        '--config-listen=127.0.0.1:0',
        '--health-listen=127.0.0.1:0',
        '--retry-period=300ms',
        ...(namespaced ? [`--namespaces=${apps.namespace}`] : []),
      ],
      { env: {}, hostname: 'rbac-operator' },
    );
    if (parsed.help) throw new Error('unexpected help');
    const op = await startOperator(parsed.flags, silentLogger);
    ops.push(op);
    const dp = await startDataplane({
      operatorUrl: `https://127.0.0.1:${op.configPort}`,
      ca: op.caCert,
      tokenFile: dpTokenFile,
      port: 0,
      host: '127.0.0.1',
      podName: 'dp',
      logger: silentLogger,
    });
    dps.push(dp);
    await apps.waitCondition('LLMRoute', 'r', 'Programmed', { status: 'True' });
    // The PKI Secret watch (list/watch by resourceNames + fieldSelector) works with the chart's Role.
    await eventually(async () => {
      if (!op.pkiWatcher.synced) throw new Error('PKI Secret watch has not listed');
    });
    await apps.waitCondition('LLMRoute', 'r-missing', 'ResolvedRefs', { status: 'False' });
    // The snapshot Secret and the Warning Event were written with the same identity.
    const core = kc.makeApiClient(CoreV1Api);
    // The snapshot is persisted after the push, asynchronously: wait for it.
    const snap = await eventually(() =>
      core.readNamespacedSecret({ namespace: system, name: `${release}-tollgate-config-snapshot` }),
    );
    expect(snap.data?.['config.json']).toBeDefined();
    const events = await core.listNamespacedEvent({ namespace: apps.namespace });
    expect(events.items.some((e) => e.involvedObject.name === 'r-missing' && e.type === 'Warning')).toBe(true);
    // A cluster-wide operator also sees other test files' namespaces: do not let it linger.
    dps.splice(dps.indexOf(dp), 1);
    await dp.stop();
    ops.splice(ops.indexOf(op), 1);
    await op.stop();
  },
);
