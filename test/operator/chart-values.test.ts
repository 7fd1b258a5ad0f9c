/**
 * The chart passes the same Redis to the operator (QuotaPolicy status.usage) as to the data plane
 * (quota counters): redis.url as --redis, redis.existingSecret as TOLLGATE_REDIS_URL from the Secret,
 * and nothing when neither is set.
 */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT_DIR, tool } from './kube.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Container {
  args?: string[];
  env?: EnvVar[];
}

interface Doc {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: Container[] } } };
}

const OPERATOR = 'tg-tollgate-operator';
const DATAPLANE = 'tg-tollgate-dataplane';

function template(set: string[], setJson: string[] = []): Promise<{ stdout: string }> {
  return tool('helm', [
    'template',
    'tg',
    join(REPO_ROOT_DIR, 'charts/tollgate'),
    '-n',
    'tollgate',
    '--show-only',
    'templates/operator.yaml',
    '--show-only',
    'templates/dataplane.yaml',
    ...set.flatMap((s) => ['--set', s]),
    ...setJson.flatMap((s) => ['--set-json', s]),
  ]);
}

/** The first container of each Deployment, by Deployment name. */
async function containers(set: string[], setJson: string[] = []): Promise<Record<string, Container>> {
  const { stdout } = await template(set, setJson);
  const out: Record<string, Container> = {};
  for (const d of parseAllDocuments(stdout)) {
    const doc = d.toJS() as Doc | null;
    if (doc?.kind !== 'Deployment') continue;
    out[doc.metadata?.name ?? ''] = doc.spec?.template?.spec?.containers?.[0] ?? {};
  }
  return out;
}

async function args(set: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [name, c] of Object.entries(await containers(set))) out[name] = c.args ?? [];
  return out;
}

const envNamed = (c: Container | undefined, name: string) => c?.env?.find((e) => e.name === name);

it('gives the operator and the data plane the same --redis, and the status interval', async () => {
  const withRedis = await args(['redis.url=redis://redis.tollgate:6379', 'operator.quotaStatusInterval=1m']);
  expect(withRedis['tg-tollgate-operator']).toEqual(
    expect.arrayContaining(['--redis=redis://redis.tollgate:6379', '--quota-status-interval=1m']),
  );
  expect(withRedis['tg-tollgate-dataplane']).toContain('--redis=redis://redis.tollgate:6379');

  const without = await args([]);
  expect(without['tg-tollgate-operator']).toContain('--quota-status-interval=30s');
  expect(without['tg-tollgate-operator']?.some((a) => a.startsWith('--redis'))).toBe(false);
  expect(without['tg-tollgate-dataplane']?.some((a) => a.startsWith('--redis'))).toBe(false);
});

it('passes --log-content to the data plane only when dataplane.logContent.enabled, with its cap', async () => {
  const off = await args([]);
  expect(off['tg-tollgate-dataplane']?.some((a) => a.startsWith('--log-content'))).toBe(false);
  expect(off['tg-tollgate-operator']?.some((a) => a.startsWith('--log-content'))).toBe(false);

  const on = await args(['dataplane.logContent.enabled=true', 'dataplane.logContent.maxBytes=1048576']);
  expect(on['tg-tollgate-dataplane']).toEqual(
    expect.arrayContaining(['--log-content', '--log-content-max-bytes=1048576']),
  );
  expect(on['tg-tollgate-operator']?.some((a) => a.startsWith('--log-content'))).toBe(false);
});

it('takes the Redis URL from redis.existingSecret as TOLLGATE_REDIS_URL in both Deployments, with no --redis', async () => {
  const c = await containers(['redis.existingSecret.name=tollgate-redis']);
  for (const name of [OPERATOR, DATAPLANE]) {
    expect(envNamed(c[name], 'TOLLGATE_REDIS_URL')).toEqual({
      name: 'TOLLGATE_REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'tollgate-redis', key: 'url' } },
    });
    expect(c[name]?.args?.some((a) => a.startsWith('--redis'))).toBe(false);
  }
  const other = await containers(['redis.existingSecret.name=tollgate-redis', 'redis.existingSecret.key=redis-url']);
  expect(envNamed(other[DATAPLANE], 'TOLLGATE_REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({
    name: 'tollgate-redis',
    key: 'redis-url',
  });

  // redis.url alone: the flag, and no env from a Secret.
  const url = await containers(['redis.url=redis://redis.tollgate:6379']);
  for (const name of [OPERATOR, DATAPLANE]) {
    expect(url[name]?.args).toContain('--redis=redis://redis.tollgate:6379');
    expect(envNamed(url[name], 'TOLLGATE_REDIS_URL')).toBeUndefined();
  }
});

it('refuses redis.url and redis.existingSecret.name together', async () => {
  await expect(
    template(['redis.url=redis://redis.tollgate:6379', 'redis.existingSecret.name=tollgate-redis']),
  ).rejects.toThrow('redis.url and redis.existingSecret.name are both set: set only one');
});

it('adds dataplane.extraEnv to the data-plane container only', async () => {
  const extra = [
    { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
    { name: 'TOLLGATE_QUOTA_DEFAULT_MAX_TOKENS', valueFrom: { configMapKeyRef: { name: 'limits', key: 'max' } } },
  ];
  const c = await containers([], [`dataplane.extraEnv=${JSON.stringify(extra)}`]);
  expect(c[DATAPLANE]?.env).toEqual(expect.arrayContaining(extra));
  expect(envNamed(c[DATAPLANE], 'POD_NAME')).toBeDefined();
  expect(envNamed(c[OPERATOR], 'OTEL_TRACES_SAMPLER')).toBeUndefined();
});
