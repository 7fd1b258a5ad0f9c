import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayConfigSchema } from '../../../contract/gateway-config.js';
import { parseDocuments } from './load-files.js';
import { LIMITS, type ResourceSnapshot } from './resources.js';
import { canonicalJson, selectorMatches, translate } from './translate.js';

const here = dirname(fileURLToPath(import.meta.url));
const testdata = join(here, 'testdata');
const cases = readdirSync(testdata)
  .filter((f) => f.endsWith('.in.yaml'))
  .map((f) => f.slice(0, -'.in.yaml'.length))
  .sort();

/** A case's first line may say `# requireKeys: true`; default false (tollgate run). */
function runCase(name: string) {
  const text = readFileSync(join(testdata, `${name}.in.yaml`), 'utf8');
  const requireKeys = /^# requireKeys: true/m.test(text);
  const { snapshot, ignored } = parseDocuments(text, `${name}.in.yaml`);
  const { config, statuses } = translate(snapshot, { version: 7, requireKeys });
  return { config, statuses, ignored };
}

describe('translate golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
  it('has at least 10 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases)('%s', (name) => {
    const got = runCase(name);
    expect(GatewayConfigSchema.safeParse(got.config).success).toBe(true);
    const out = join(testdata, `${name}.out.json`);
    const text = `${JSON.stringify(got, null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(out, text);
    expect(text).toBe(readFileSync(out, 'utf8'));
  });
});

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'ai', ...extra });
const openai = { kind: 'LLMProvider' as const, metadata: meta('openai'), spec: { type: 'openai' } };

describe('translate properties', () => {
  it('is deterministic and independent of input order', () => {
    const snap = (rev: boolean): ResourceSnapshot => {
      const providers = [openai, { kind: 'LLMProvider' as const, metadata: meta('b'), spec: { type: 'anthropic' } }];
      const routes = [
        {
          kind: 'LLMRoute' as const,
          metadata: meta('r1'),
          spec: { models: ['a'], backends: [{ provider: 'openai' }] },
        },
        { kind: 'LLMRoute' as const, metadata: meta('r2'), spec: { models: ['b'], backends: [{ provider: 'b' }] } },
      ];
      return {
        providers: rev ? providers.reverse() : providers,
        routes: rev ? routes.reverse() : routes,
        quotaPolicies: [],
        secrets: [],
      };
    };
    const a = translate(snap(false), { version: 1, requireKeys: false });
    const b = translate(snap(true), { version: 1, requireKeys: false });
    expect(b).toEqual(a);
    expect(a.config.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('hash ignores version but changes with content', () => {
    const s: ResourceSnapshot = { providers: [openai], routes: [], quotaPolicies: [], secrets: [] };
    const v1 = translate(s, { version: 1, requireKeys: false }).config;
    const v2 = translate(s, { version: 2, requireKeys: false }).config;
    const other = translate(s, { version: 1, requireKeys: true }).config;
    expect(v2.hash).toBe(v1.hash);
    expect(other.hash).not.toBe(v1.hash);
  });

  it('does not mutate its input', () => {
    const s: ResourceSnapshot = {
      providers: [openai],
      routes: [{ kind: 'LLMRoute', metadata: meta('r'), spec: { models: ['x*'], backends: [{ provider: 'openai' }] } }],
      quotaPolicies: [],
      secrets: [],
    };
    const before = JSON.stringify(s);
    translate(s, { version: 1, requireKeys: false });
    expect(JSON.stringify(s)).toBe(before);
  });

  it('never puts a credential or API key in a status', () => {
    const s: ResourceSnapshot = {
      providers: [
        {
          kind: 'LLMProvider',
          metadata: meta('p'),
          spec: { type: 'openai', auth: { secretRef: { name: 'c', key: 'apiKey' } } },
        },
      ],
      routes: [],
      quotaPolicies: [],
      secrets: [
        { kind: 'Secret', metadata: meta('c'), stringData: { apiKey: 'sk-fake-provider-credential' } },
        {
          kind: 'Secret',
          metadata: meta('k1', { labels: { 'tollgate.dev/api-key': 'true' } }),
          stringData: { key: 'tg-fake-key-1' },
        },
        {
          kind: 'Secret',
          metadata: meta('k2', { labels: { 'tollgate.dev/api-key': 'true' } }),
          stringData: { key: 'tg-fake-key-1' },
        },
      ],
    };
    const { config, statuses } = translate(s, { version: 1, requireKeys: true });
    const text = JSON.stringify(statuses);
    expect(text).not.toContain('sk-fake-provider-credential');
    expect(text).not.toContain('tg-fake-key-1');
    expect(JSON.stringify(config.apiKeys)).not.toContain('tg-fake-key-1');
    expect(config.providers[0]!.credential).toBe('sk-fake-provider-credential');
    expect(statuses.find((x) => x.name === 'k2')!.conditions[0]!.reason).toBe('DuplicateKey');
  });

  it('canonical JSON sorts keys and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] })).toBe('{"a":[{"c":"x"}],"b":1}');
  });

  it.each([
    [{ matchLabels: { team: 'a' } }, { team: 'a' }, true],
    [{ matchLabels: { team: 'a' } }, { team: 'b' }, false],
    [{ matchExpressions: [{ key: 'env', operator: 'In' as const, values: ['prod', 'dev'] }] }, { env: 'dev' }, true],
    [{ matchExpressions: [{ key: 'env', operator: 'In' as const, values: ['prod'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn' as const, values: ['prod'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn' as const, values: ['prod'] }] }, { env: 'prod' }, false],
    [{ matchExpressions: [{ key: 'env', operator: 'Exists' as const }] }, { env: '' }, true],
    [{ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' as const }] }, { env: 'x' }, false],
    [{}, { anything: 'x' }, true],
  ])('selector %j on %j → %s', (sel, labels, want) => {
    expect(selectorMatches(sel, labels)).toBe(want);
  });
});

describe('shipped examples translate with every resource accepted and resolved', () => {
  const repo = join(here, '..', '..', '..');
  it.each([
    ['examples/quickstart', 2, 2, 0, 0],
    ['examples/openai-anthropic', 2, 2, 1, 1],
  ])('%s', async (dir, providers, routes, keys, quotas) => {
    const { loadFiles } = await import('./load-files.js');
    const { snapshot, ignored } = await loadFiles([join(repo, dir)]);
    const { config, statuses } = translate(snapshot, { version: 1, requireKeys: false });
    expect(ignored).toEqual([]);
    expect(statuses.flatMap((s) => s.conditions.filter((c) => c.status !== 'True'))).toEqual([]);
    expect([config.providers.length, config.routes.length, config.apiKeys.length, config.quotaPolicies.length]).toEqual(
      [providers, routes, keys, quotas],
    );
  });
});

describe('size caps (the same as the CRDs)', () => {
  const meta = (name: string) => ({ name, namespace: 'ai', generation: 1, creationTimestamp: '2025-01-01T00:00:00Z' });
  const provider = {
    kind: 'LLMProvider' as const,
    metadata: meta('p'),
    spec: { type: 'openai', endpoint: 'https://api.openai.com/v1' },
  };
  const routeWith = (name: string, n: number) => ({
    kind: 'LLMRoute' as const,
    metadata: meta(name),
    spec: { models: [name], backends: Array.from({ length: n }, () => ({ provider: 'p' })) },
  });
  const accepted = (snapshot: ResourceSnapshot, name: string) =>
    translate(snapshot, { version: 1, requireKeys: false })
      .statuses.find((s) => s.name === name)!
      .conditions.find((c) => c.type === 'Accepted')!;

  it('rejects an oversized list with a message naming the field and the cap; the rest is still served', () => {
    const snapshot: ResourceSnapshot = {
      providers: [provider],
      routes: [routeWith('big', LIMITS.routeBackends + 1), routeWith('ok', LIMITS.routeBackends)],
      quotaPolicies: [
        {
          kind: 'QuotaPolicy',
          metadata: meta('q'),
          spec: {
            selector: {},
            models: ['gpt-4o', 'x'.repeat(LIMITS.modelNameLength + 1), 'gpt*4o'],
            limits: Array.from({ length: LIMITS.quotaLimits + 1 }, () => ({ requests: 1, per: '1m' })),
          },
        },
      ],
      secrets: [],
    };
    const big = accepted(snapshot, 'big');
    expect(big.status).toBe('False');
    expect(big.message).toContain(`spec.backends: at most ${LIMITS.routeBackends} backends allowed`);
    expect(accepted(snapshot, 'ok').status).toBe('True');
    const q = accepted(snapshot, 'q');
    expect(q.status).toBe('False');
    expect(q.message).toContain(`spec.models[1]: at most ${LIMITS.modelNameLength} characters`);
    expect(q.message).toContain('spec.models[2]: a * may only stand at the end');
    expect(q.message).toContain(`spec.limits: at most ${LIMITS.quotaLimits} limits allowed`);
    const many = {
      ...provider,
      metadata: meta('many'),
      spec: {
        ...provider.spec,
        models: Array.from({ length: LIMITS.providerModels + 1 }, (_, i) => ({ name: `m${i}` })),
      },
    };
    const p = accepted({ providers: [many], routes: [], quotaPolicies: [], secrets: [] }, 'many');
    expect(p.message).toContain(`spec.models: at most ${LIMITS.providerModels} models allowed`);
  });
});
