/**
 * The CRDs in crds/ on a real API server: each applies and becomes Established, serves a status
 * subresource, and the API server accepts valid resources and rejects invalid ones with a message
 * that names the field (OpenAPI structural schema and CEL rules, as users will meet them).
 *
 * The cases follow the field names of docs in shared/design/api.md. crds/ being empty is a failure,
 * not a skip: these tests exist to hold the generated CRDs to that contract.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './harness.js';
import { adminConfig, createNamespace, eventually, expectApiError, tool, withRetryAfter } from './support.js';

/** jest-circus applies only the global testTimeout, not the project's: every hook and test sets its own. */
const TIMEOUT = 120_000;

const CRD_DIR = join(repoRoot(), 'crds');
const GROUP = 'tollgate.dev';
const VERSION = 'v1alpha1';
const KINDS = ['LLMProvider', 'LLMRoute', 'QuotaPolicy'] as const;
type Kind = (typeof KINDS)[number];

function loadCrds(): V1CustomResourceDefinition[] {
  let files: string[] = [];
  try {
    files = readdirSync(CRD_DIR).filter((f) => /\.ya?ml$/.test(f));
  } catch {
    // no directory: reported by the first test
  }
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(CRD_DIR, file), 'utf8'))
      .map((doc) => doc.toJS() as V1CustomResourceDefinition | null)
      .filter((doc): doc is V1CustomResourceDefinition => doc?.kind === 'CustomResourceDefinition'),
  );
}

const crds = loadCrds();
const plurals = new Map<string, string>(crds.map((crd) => [crd.spec.names.kind, crd.spec.names.plural]));

interface Case {
  name: string;
  kind: Kind;
  spec: Record<string, unknown>;
  /** Absent: the API server must accept it. Present: every pattern must occur in the rejection message. */
  rejected?: RegExp[];
  /** Rejection status; default 422 Invalid (schema and CEL). Strict decoding errors are 400 BadRequest. */
  status?: { code: number; reason: string };
}

const valid: Case[] = [
  { name: 'minimal provider', kind: 'LLMProvider', spec: { type: 'openai' } },
  {
    name: 'provider with endpoint, auth, priced models and timeouts',
    kind: 'LLMProvider',
    spec: {
      type: 'openai',
      endpoint: 'https://api.openai.com/v1',
      auth: { secretRef: { name: 'openai-credentials', key: 'apiKey' } },
      models: [
        { name: 'gpt-4o-mini', contextWindow: 128000, pricing: { input: 0.15, output: 0.6, cachedInput: 0.075 } },
      ],
      timeouts: { connect: '5s', request: '300s' },
    },
  },
  {
    name: 'in-cluster provider by serviceRef',
    kind: 'LLMProvider',
    spec: { type: 'openai-compatible', serviceRef: { name: 'vllm', port: 8000, path: '/v1' } },
  },
  {
    name: 'azure provider with its block',
    kind: 'LLMProvider',
    spec: {
      type: 'azure-openai',
      endpoint: 'https://example.openai.azure.com',
      azure: { apiVersion: '2024-10-21' },
      auth: { secretRef: { name: 'azure', key: 'apiKey' } },
    },
  },
  {
    name: 'bedrock provider with a region',
    kind: 'LLMProvider',
    spec: { type: 'bedrock', bedrock: { region: 'us-east-1' } },
  },
  {
    name: 'vertex-ai provider with its block (domain-scoped project)',
    kind: 'LLMProvider',
    spec: { type: 'vertex-ai', vertex: { project: 'example.com:proj', location: 'global' } },
  },
  {
    name: 'route from the API contract',
    kind: 'LLMRoute',
    spec: {
      models: ['gpt-4o', 'smart'],
      match: { headers: [{ name: 'x-team', value: 'research' }] },
      backends: [
        { provider: 'openai', model: 'gpt-4o', weight: 80, priority: 0 },
        { provider: 'azure', model: 'gpt-4o', weight: 20 },
        { provider: 'anthropic', model: 'claude-sonnet-4-5', priority: 1 },
      ],
      retry: {
        attempts: 3,
        backoff: { base: '100ms', max: '2s' },
        retryOn: ['429', '5xx', 'timeout', 'connect-failure'],
      },
      timeout: '120s',
    },
  },
  {
    name: 'route with a prefix model and one backend',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o*'], backends: [{ provider: 'openai' }] },
  },
  {
    name: 'route choosing by least-latency',
    kind: 'LLMRoute',
    spec: {
      models: ['gpt-4o'],
      backends: [{ provider: 'openai' }, { provider: 'azure' }],
      loadBalancing: 'least-latency',
    },
  },
  {
    name: 'route with an exact cache and one with a semantic cache',
    kind: 'LLMRoute',
    spec: {
      models: ['gpt-4o'],
      backends: [{ provider: 'openai' }],
      cache: {
        mode: 'semantic',
        ttl: '1h',
        scope: 'perKey',
        semantic: { embeddingModel: 'text-embedding-3-small', threshold: 0.95 },
      },
    },
  },
  {
    name: 'quota policy from the API contract',
    kind: 'QuotaPolicy',
    spec: {
      selector: { matchLabels: { team: 'research' } },
      models: ['gpt-4o*'],
      scope: 'shared',
      limits: [
        { requests: 600, per: '1m' },
        { tokens: 2000000, per: '1h' },
        { costUSD: 500, per: 'month' },
      ],
      failureMode: 'open',
    },
  },
  {
    name: 'per-key quota with a set-based selector and a fractional budget',
    kind: 'QuotaPolicy',
    spec: {
      selector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'staging'] }] },
      scope: 'perKey',
      limits: [{ costUSD: 2.5, per: '1d' }],
      failureMode: 'closed',
    },
  },
];

const invalid: Case[] = [
  {
    name: 'provider without a type',
    kind: 'LLMProvider',
    spec: { endpoint: 'https://api.openai.com/v1' },
    rejected: [/spec\.type: Required value/],
  },
  {
    name: 'provider of an unknown type',
    kind: 'LLMProvider',
    spec: { type: 'mistral' },
    rejected: [/spec\.type: Unsupported value: "mistral"/, /"openai-compatible"/],
  },
  {
    name: 'provider with both endpoint and serviceRef',
    kind: 'LLMProvider',
    spec: { type: 'openai-compatible', endpoint: 'http://vllm:8000/v1', serviceRef: { name: 'vllm', port: 8000 } },
    rejected: [/endpoint and serviceRef are mutually exclusive/],
  },
  {
    name: 'provider serviceRef with a port out of range',
    kind: 'LLMProvider',
    spec: { type: 'openai-compatible', serviceRef: { name: 'vllm', port: 70000 } },
    rejected: [/spec\.serviceRef\.port/, /less than or equal to 65535/],
  },
  {
    name: 'provider with a malformed timeout',
    kind: 'LLMProvider',
    spec: { type: 'openai', timeouts: { connect: '5 seconds' } },
    rejected: [/spec\.timeouts\.connect/, /should match|duration/],
  },
  {
    name: 'provider with a negative price',
    kind: 'LLMProvider',
    spec: { type: 'openai', models: [{ name: 'gpt-4o', pricing: { input: -1, output: 1 } }] },
    rejected: [/spec\.models\[0\]\.pricing\.input/, /greater than or equal to 0/],
  },
  {
    name: 'provider secretRef without a key',
    kind: 'LLMProvider',
    spec: { type: 'openai', auth: { secretRef: { name: 'openai-credentials' } } },
    rejected: [/spec\.auth\.secretRef\.key: Required value/],
  },
  // Type-specific blocks: the rules come from providers/<type>/config.ts (gen-crds.ts; ADR 0046).
  {
    name: 'bedrock provider without its region',
    kind: 'LLMProvider',
    spec: { type: 'bedrock' },
    rejected: [/spec\.bedrock\.region: a provider of type bedrock needs spec\.bedrock\.region/],
  },
  {
    name: 'bedrock provider with a region that is not one',
    kind: 'LLMProvider',
    spec: { type: 'bedrock', bedrock: { region: 'us-east-1.evil.com/x' } },
    rejected: [/spec\.bedrock\.region/, /should match/],
  },
  {
    name: 'vertex-ai provider without its block',
    kind: 'LLMProvider',
    spec: { type: 'vertex-ai' },
    rejected: [/spec\.vertex: a provider of type vertex-ai needs spec\.vertex\.project and spec\.vertex\.location/],
  },
  {
    name: 'vertex-ai provider without a project',
    kind: 'LLMProvider',
    spec: { type: 'vertex-ai', vertex: { location: 'us-central1' } },
    rejected: [/spec\.vertex\.project: Required value/],
  },
  {
    name: 'provider with the block of another type',
    kind: 'LLMProvider',
    spec: { type: 'openai', bedrock: { region: 'us-east-1' } },
    rejected: [/spec\.bedrock: only a provider of type bedrock reads spec\.bedrock/],
  },
  {
    name: 'provider with a field the API does not have (strict field validation)',
    kind: 'LLMProvider',
    spec: { type: 'openai', region: 'eu' },
    rejected: [/unknown field "spec\.region"/],
    status: { code: 400, reason: 'BadRequest' },
  },
  {
    name: 'route without backends',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'] },
    rejected: [/spec\.backends: Required value/],
  },
  {
    name: 'route with an empty backend list',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [] },
    rejected: [/spec\.backends/, /at least 1 items/],
  },
  {
    name: 'route without models',
    kind: 'LLMRoute',
    spec: { backends: [{ provider: 'openai' }] },
    rejected: [/spec\.models: Required value/],
  },
  {
    name: 'route backend with a negative weight',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [{ provider: 'openai', weight: -5 }] },
    rejected: [/spec\.backends\[0\]\.weight/, /greater than or equal to 0/],
  },
  {
    name: 'route backend with a weight that is not an integer',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [{ provider: 'openai', weight: 'heavy' }] },
    rejected: [/spec\.backends\[0\]\.weight/, /must be of type integer/],
  },
  {
    name: 'route backend without a provider',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [{ model: 'gpt-4o' }] },
    rejected: [/spec\.backends\[0\]\.provider: Required value/],
  },
  {
    name: 'route retrying more than ten times',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [{ provider: 'openai' }], retry: { attempts: 11 } },
    rejected: [/spec\.retry\.attempts/, /less than or equal to 10/],
  },
  {
    name: 'route retrying on an unknown failure',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [{ provider: 'openai' }], retry: { retryOn: ['418'] } },
    rejected: [/spec\.retry\.retryOn\[0\]: Unsupported value: "418"/],
  },
  {
    name: 'route with an unknown load-balancing strategy',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [{ provider: 'openai' }], loadBalancing: 'round-robin' },
    rejected: [/spec\.loadBalancing: Unsupported value: "round-robin"/, /"least-latency"/],
  },
  {
    name: 'route with a semantic block on an exact cache',
    kind: 'LLMRoute',
    spec: {
      models: ['gpt-4o'],
      backends: [{ provider: 'openai' }],
      cache: { mode: 'exact', semantic: { embeddingModel: 'text-embedding-3-small', threshold: 0.9 } },
    },
    rejected: [/spec\.cache/, /a semantic block is only for mode: semantic/],
  },
  {
    name: 'route with a semantic cache but no semantic block',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [{ provider: 'openai' }], cache: { mode: 'semantic' } },
    rejected: [/spec\.cache/, /mode: semantic needs a semantic block/],
  },
  {
    name: 'route with a semantic threshold above 1',
    kind: 'LLMRoute',
    spec: {
      models: ['gpt-4o'],
      backends: [{ provider: 'openai' }],
      cache: { mode: 'semantic', semantic: { embeddingModel: 'text-embedding-3-small', threshold: 1.5 } },
    },
    rejected: [/spec\.cache\.semantic\.threshold/],
  },
  {
    name: 'route with a malformed timeout',
    kind: 'LLMRoute',
    spec: { models: ['gpt-4o'], backends: [{ provider: 'openai' }], timeout: '2 minutes' },
    rejected: [/spec\.timeout/, /should match|duration/],
  },
  {
    name: 'route with a * inside a model name',
    kind: 'LLMRoute',
    spec: { models: ['gpt*4o'], backends: [{ provider: 'openai' }] },
    rejected: [/spec\.models\[0\]/],
  },
  {
    name: 'quota limit with no amount',
    kind: 'QuotaPolicy',
    spec: { selector: { matchLabels: { team: 'a' } }, limits: [{ per: '1m' }] },
    rejected: [/spec\.limits\[0\]/, /exactly one of requests, tokens or costUSD/],
  },
  {
    name: 'quota limit with two amounts',
    kind: 'QuotaPolicy',
    spec: { selector: { matchLabels: { team: 'a' } }, limits: [{ requests: 10, tokens: 1000, per: '1m' }] },
    rejected: [/spec\.limits\[0\]/, /exactly one of requests, tokens or costUSD/],
  },
  {
    name: 'quota limit with a malformed window',
    kind: 'QuotaPolicy',
    spec: { selector: { matchLabels: { team: 'a' } }, limits: [{ requests: 10, per: 'fortnight' }] },
    rejected: [/spec\.limits\[0\]\.per/],
  },
  {
    name: 'quota limit without a window',
    kind: 'QuotaPolicy',
    spec: { selector: { matchLabels: { team: 'a' } }, limits: [{ requests: 10 }] },
    rejected: [/spec\.limits\[0\]\.per: Required value/],
  },
  {
    name: 'quota limit of zero requests',
    kind: 'QuotaPolicy',
    spec: { selector: { matchLabels: { team: 'a' } }, limits: [{ requests: 0, per: '1m' }] },
    rejected: [/spec\.limits\[0\]\.requests/, /greater than (0|or equal to 1)/],
  },
  {
    name: 'quota policy with an unknown scope',
    kind: 'QuotaPolicy',
    spec: { selector: { matchLabels: { team: 'a' } }, scope: 'global', limits: [{ requests: 1, per: '1m' }] },
    rejected: [/spec\.scope: Unsupported value: "global"/],
  },
  {
    name: 'quota policy with an unknown failure mode',
    kind: 'QuotaPolicy',
    spec: { selector: { matchLabels: { team: 'a' } }, failureMode: 'maybe', limits: [{ requests: 1, per: '1m' }] },
    rejected: [/spec\.failureMode: Unsupported value: "maybe"/],
  },
  {
    name: 'quota policy without a selector',
    kind: 'QuotaPolicy',
    spec: { limits: [{ requests: 1, per: '1m' }] },
    rejected: [/spec\.selector: Required value/],
  },
];

/** Every property path an OpenAPI schema declares, e.g. `spec.retry.retryOn`, `spec.backends[].weight`. */
function propertyPaths(schema: unknown, prefix = ''): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const node = schema as { properties?: Record<string, unknown>; items?: unknown };
  const paths: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    paths.push(path, ...propertyPaths(child, path));
  }
  if (node.items) paths.push(...propertyPaths(node.items, `${prefix}[]`));
  return paths.sort();
}

function establishedCondition(crd: V1CustomResourceDefinition, type: string) {
  return crd.status?.conditions?.find((c) => c.type === type);
}

describe('CRDs in crds/', () => {
  const admin = adminConfig();
  const extensions = admin.makeApiClient(ApiextensionsV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  let namespace: string;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'crds');
    // With kubectl, as users do: its YAML reading (YAML 1.1, via sigs.k8s.io/yaml) is the one that counts.
    if (crds.length > 0) {
      await tool('kubectl', [
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager=tollgate-tests',
        '-f',
        CRD_DIR,
      ]);
    }
    for (const crd of crds) {
      const name = crd.metadata?.name ?? '';
      await eventually(async () => {
        const live = await extensions.readCustomResourceDefinition({ name });
        if (establishedCondition(live, 'Established')?.status !== 'True') {
          throw new Error(`CRD ${name} is not Established: ${JSON.stringify(live.status?.conditions)}`);
        }
      });
    }
  }, TIMEOUT);

  test(
    'crds/ defines LLMProvider, LLMRoute and QuotaPolicy in tollgate.dev/v1alpha1',
    () => {
      const defined = crds.map((crd) => `${crd.spec.group}/${crd.spec.names.kind}`).sort();
      if (crds.length === 0) {
        throw new Error(`no CustomResourceDefinition found in ${CRD_DIR}: the CRDs must be generated into crds/*.yaml`);
      }
      expect(defined).toEqual(expect.arrayContaining(KINDS.map((kind) => `${GROUP}/${kind}`)));
      for (const crd of crds) {
        expect(crd.spec.scope).toBe('Namespaced');
        expect(crd.spec.versions.map((v) => v.name)).toContain(VERSION);
      }
    },
    TIMEOUT,
  );

  test(
    'every CRD is Established with its names accepted and a status subresource',
    async () => {
      expect(crds.length).toBeGreaterThan(0);
      for (const crd of crds) {
        const live = await extensions.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
        expect(establishedCondition(live, 'Established')?.status).toBe('True');
        expect(establishedCondition(live, 'NamesAccepted')?.status).toBe('True');
        // A structural schema: the API server reports no NonStructuralSchema condition.
        expect(establishedCondition(live, 'NonStructuralSchema')).toBeUndefined();
        for (const version of live.spec.versions) expect(version.subresources?.status).toBeDefined();
      }
    },
    TIMEOUT,
  );

  test(
    'kubectl reads the same schema from crds/ as a YAML 1.2 parser (no YAML 1.1 booleans such as on/off/yes/no as keys)',
    async () => {
      expect(crds.length).toBeGreaterThan(0);
      for (const crd of crds) {
        const live = await extensions.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
        for (const version of crd.spec.versions) {
          const served = live.spec.versions.find((v) => v.name === version.name);
          expect({
            crd: crd.metadata?.name,
            version: version.name,
            fields: propertyPaths(served?.schema?.openAPIV3Schema),
          }).toEqual({
            crd: crd.metadata?.name,
            version: version.name,
            fields: propertyPaths(version.schema?.openAPIV3Schema),
          });
        }
      }
    },
    TIMEOUT,
  );

  function create(c: Case, name: string, dryRun: boolean) {
    const plural = plurals.get(c.kind);
    if (!plural) throw new Error(`crds/ has no CRD for kind ${c.kind}`);
    return withRetryAfter(() =>
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: c.kind, metadata: { name }, spec: c.spec },
        dryRun: dryRun ? 'All' : undefined,
        fieldValidation: 'Strict',
      }),
    );
  }

  test(
    'the table has at least ten invalid cases',
    () => {
      expect(invalid.length).toBeGreaterThanOrEqual(10);
    },
    TIMEOUT,
  );

  test.each(valid.map((c) => [c.name, c] as const))(
    'accepts %s',
    async (_name, c) => {
      const created = (await create(c, 'valid', true)) as { spec: Record<string, unknown> };
      expect(created.spec).toMatchObject(c.spec);
    },
    TIMEOUT,
  );

  test.each(invalid.map((c) => [c.name, c] as const))(
    'rejects %s',
    async (_name, c) => {
      const error = await expectApiError(create(c, 'invalid', true));
      expect({ code: error.code, reason: error.reason }).toEqual(c.status ?? { code: 422, reason: 'Invalid' });
      for (const pattern of c.rejected ?? []) expect(error.message).toMatch(pattern);
    },
    TIMEOUT,
  );

  test(
    'an LLMProvider stores status through the status subresource only',
    async () => {
      const plural = plurals.get('LLMProvider');
      if (!plural) throw new Error('crds/ has no CRD for kind LLMProvider');
      const base = { group: GROUP, version: VERSION, namespace, plural, name: 'status-check' };
      const created = (await create(valid[0]!, 'status-check', false)) as {
        metadata: { generation: number; resourceVersion: string };
      };
      const condition = {
        type: 'Accepted',
        status: 'True',
        reason: 'Valid',
        message: 'spec is valid',
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        observedGeneration: created.metadata.generation,
      };
      const withStatus = await withRetryAfter(() =>
        custom.replaceNamespacedCustomObjectStatus({
          ...base,
          body: { ...created, spec: { type: 'anthropic' }, status: { observedGeneration: 1, conditions: [condition] } },
        }),
      );
      const read = (await withRetryAfter(() => custom.getNamespacedCustomObject(base))) as {
        metadata: { generation: number };
        spec: { type: string };
        status: { conditions: unknown[] };
      };
      expect(read.status.conditions).toEqual([condition]);
      // The status endpoint ignores spec changes and does not bump the generation.
      expect(read.spec.type).toBe('openai');
      expect(read.metadata.generation).toBe(created.metadata.generation);
      expect(withStatus).toBeDefined();
    },
    TIMEOUT,
  );
});
