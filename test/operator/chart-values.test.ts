/**
 * The chart passes the same Redis to the operator (QuotaPolicy status.usage) as to the data plane
 * (quota counters), and nothing when redis.url is empty.
 */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT_DIR, tool } from './kube.js';

interface Doc {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } };
}

async function args(set: string[]): Promise<Record<string, string[]>> {
  const { stdout } = await tool('helm', [
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
  ]);
  const out: Record<string, string[]> = {};
  for (const d of parseAllDocuments(stdout)) {
    const doc = d.toJS() as Doc | null;
    if (doc?.kind !== 'Deployment') continue;
    out[doc.metadata?.name ?? ''] = doc.spec?.template?.spec?.containers?.[0]?.args ?? [];
  }
  return out;
}

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
