/**
 * The chart's data-plane server settings (docs/adr/0057): the timeouts, shutdown grace and upstream cap
 * reach the container as flags; /metrics is on the admin port, which the Service names `metrics`, the
 * Prometheus annotations point at, and the NetworkPolicy opens only to dataplane.metrics.allowFrom while
 * the API port stays open to every client.
 */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT_DIR, tool } from './kube.js';

interface Port {
  name?: string;
  port?: number;
  containerPort?: number;
  targetPort?: string | number;
}
interface Rule {
  from?: unknown[];
  ports?: Port[];
}
interface Doc {
  kind?: string;
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: {
    ports?: Port[];
    ingress?: Rule[];
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: { terminationGracePeriodSeconds?: number; containers?: { args?: string[]; ports?: Port[] }[] };
    };
  };
}

const DATAPLANE = 'tg-tollgate-dataplane';

async function render(set: string[] = [], setJson: string[] = []): Promise<Doc[]> {
  const { stdout } = await tool('helm', [
    'template',
    'tg',
    join(REPO_ROOT_DIR, 'charts/tollgate'),
    '-n',
    'tollgate',
    '--show-only',
    'templates/dataplane.yaml',
    '--show-only',
    'templates/networkpolicy.yaml',
    ...set.flatMap((s) => ['--set', s]),
    ...setJson.flatMap((s) => ['--set-json', s]),
  ]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

const find = (docs: Doc[], kind: string, name: string) =>
  docs.find((d) => d.kind === kind && d.metadata?.name === name);

it('defaults: the flags, the admin port on the container, the Service, the annotations and the NetworkPolicy', async () => {
  const docs = await render();
  const dep = find(docs, 'Deployment', DATAPLANE)!;
  const pod = dep.spec!.template!;
  const c = pod.spec!.containers![0]!;
  expect(c.args).toEqual(
    expect.arrayContaining([
      '--port=8080',
      '--admin-port=9090',
      '--header-timeout=10s',
      '--idle-timeout=65s',
      '--shutdown-grace=25s',
      '--upstream-connections=1024',
    ]),
  );
  expect(c.ports).toContainEqual(expect.objectContaining({ name: 'admin', containerPort: 9090 }));
  expect(pod.spec!.terminationGracePeriodSeconds).toBe(30);
  expect(pod.metadata!.annotations).toEqual({
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': '9090',
    'prometheus.io/path': '/metrics',
  });
  const svc = docs.find((d) => d.kind === 'Service')!;
  expect(svc.spec!.ports).toContainEqual(expect.objectContaining({ name: 'metrics', port: 9090, targetPort: 'admin' }));

  const np = find(docs, 'NetworkPolicy', DATAPLANE)!;
  const rules = np.spec!.ingress!;
  // The API port: from anywhere. The admin port: only from the monitoring namespace.
  expect(rules).toContainEqual({ ports: [{ port: 8080, protocol: 'TCP' }] });
  const admin = rules.filter((r) => r.ports?.some((p) => p.port === 9090));
  expect(admin).toEqual([
    {
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ port: 9090, protocol: 'TCP' }],
    },
  ]);
});

it('an admin port, limits and scrapers of your own; no annotations when turned off; no admin rule without allowFrom', async () => {
  const docs = await render(
    [
      'dataplane.adminPort=9191',
      'dataplane.headerTimeout=3s',
      'dataplane.shutdownGrace=2m',
      'dataplane.terminationGracePeriodSeconds=130',
      'dataplane.upstreamConnections=64',
      'dataplane.metrics.podAnnotations=false',
    ],
    ['dataplane.metrics.allowFrom=[{"podSelector":{"matchLabels":{"app":"prometheus"}}}]'],
  );
  const pod = find(docs, 'Deployment', DATAPLANE)!.spec!.template!;
  expect(pod.spec!.containers![0]!.args).toEqual(
    expect.arrayContaining([
      '--admin-port=9191',
      '--header-timeout=3s',
      '--shutdown-grace=2m',
      '--upstream-connections=64',
    ]),
  );
  expect(pod.spec!.terminationGracePeriodSeconds).toBe(130);
  expect(pod.metadata?.annotations).toBeUndefined();
  const svc = docs.find((d) => d.kind === 'Service')!;
  expect(svc.spec!.ports).toContainEqual(expect.objectContaining({ name: 'metrics', port: 9191 }));
  const rules = find(docs, 'NetworkPolicy', DATAPLANE)!.spec!.ingress!;
  expect(rules.filter((r) => r.ports?.some((p) => p.port === 9191))).toEqual([
    { from: [{ podSelector: { matchLabels: { app: 'prometheus' } } }], ports: [{ port: 9191, protocol: 'TCP' }] },
  ]);

  const closed = await render([], ['dataplane.metrics.allowFrom=[]']);
  const only = find(closed, 'NetworkPolicy', DATAPLANE)!.spec!.ingress!;
  expect(only).toEqual([{ ports: [{ port: 8080, protocol: 'TCP' }] }]);
});

it('refuses a timeout that is not a duration', async () => {
  await expect(render(['dataplane.headerTimeout=soon'])).rejects.toThrow(/headerTimeout/);
});
