/**
 * Generates crds/*.yaml (apiextensions.k8s.io/v1) from the zod schemas in dataplane/src/config/resources.ts.
 * `npm run gen:crds` writes them; scripts/gen-crds.test.ts checks that the committed files equal the output.
 *
 * zod 4's JSON Schema (draft 2020-12) is turned into a Kubernetes structural schema: no $schema, no
 * additionalProperties:false (unknown fields are pruned by the API server anyway), no propertyNames,
 * exclusiveMinimum as the OpenAPI v3 boolean, a description on every field, and CEL rules
 * (x-kubernetes-validations) for what a schema alone cannot say.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { z } from 'zod';
import {
  API_GROUP,
  API_VERSION,
  CACHE_RULES,
  LLMProviderSpec,
  LLMRouteSpec,
  QuotaPolicySpec,
  type ResourceKind,
} from '../dataplane/src/config/resources.js';
import { PROVIDER_CONFIGS } from '../dataplane/src/providers/configs.js';

export type JsonSchema = { [key: string]: unknown };

/** Descriptions for fields whose zod schema has none (keyed by dotted path below spec; [] = array items). */
const FALLBACK_DESCRIPTIONS: Record<string, string> = {
  'LLMProvider.models[]': 'One model the provider serves.',
  'LLMProvider.models[].pricing': 'Prices in USD per 1M tokens.',
  'LLMProvider.limits[]': 'One capacity limit: exactly one of requests or tokens, per a window.',
  'LLMProvider.models[].limits[]': 'One capacity limit: exactly one of requests or tokens, per a window.',
  'LLMRoute.models[]': 'A model name, or a prefix ending in *.',
  'LLMRoute.match.headers[]': 'A header that must be present with this exact value.',
  'LLMRoute.backends[]': 'One upstream: a provider and the model sent to it.',
  'LLMRoute.retry.retryOn[]': 'A failure kind: 429, 5xx, timeout or connect-failure.',
  'LLMRoute.retry.on[]': 'Ignored: the field is rejected.',
  'LLMRoute.retry.true[]': 'Ignored: the field is rejected.',
  'QuotaPolicy.selector.matchLabels.*': 'Label value.',
  'QuotaPolicy.selector.matchExpressions[]': 'A set-based label requirement.',
  'QuotaPolicy.selector.matchExpressions[].key': 'Label key.',
  'QuotaPolicy.selector.matchExpressions[].operator': 'In, NotIn, Exists or DoesNotExist.',
  'QuotaPolicy.selector.matchExpressions[].values': 'Values for In and NotIn; empty for Exists and DoesNotExist.',
  'QuotaPolicy.selector.matchExpressions[].values[]': 'A label value.',
  'QuotaPolicy.models[]': 'A model name, or a prefix ending in *.',
  'QuotaPolicy.limits[]': 'One limit: exactly one of requests, tokens or costUSD, per a window.',
};

/** Types without a default endpoint (their config.ts has no defaultEndpoint). */
const NEED_ENDPOINT = PROVIDER_CONFIGS.filter((c) => c.defaultEndpoint === undefined).map((c) => c.type);

/**
 * What each provider type's config.ts says about its own spec block, as CEL at spec level: the block is
 * required for its type (when the type needs it) and read by no other type. Translate says the same, in the
 * same words where it can (config/translate-providers.ts).
 */
const PROVIDER_BLOCK_RULES: JsonSchema[] = PROVIDER_CONFIGS.flatMap((c) => {
  const b = c.block;
  if (b === undefined) return [];
  const rules: JsonSchema[] = [];
  if (b.requiredMessage !== undefined)
    rules.push({ rule: `self.type != '${c.type}' || has(self.${b.key})`, message: b.requiredMessage });
  rules.push({
    rule: `!has(self.${b.key}) || self.type == '${c.type}'`,
    message: `spec.${b.key}: only a provider of type ${c.type} reads spec.${b.key}`,
  });
  return rules;
});

/** Extra keywords on the blocks' fields (a region's pattern), keyed like OVERRIDES. */
const PROVIDER_FIELD_OVERRIDES: Record<string, JsonSchema> = Object.fromEntries(
  PROVIDER_CONFIGS.flatMap((c) =>
    Object.entries(c.block?.crdFields ?? {}).map(([field, extra]) => [`LLMProvider.${c.block!.key}.${field}`, extra]),
  ),
);

/**
 * Rules the CRD adds: CEL for what zod's refine() says. Size bounds (maxItems, maxLength), which keep CEL
 * cost estimates small, are not set here: they come from the zod schemas (LIMITS in resources.ts), so
 * `tollgate run` rejects exactly what the API server rejects.
 */
const OVERRIDES: Record<string, JsonSchema> = {
  LLMProvider: {
    'x-kubernetes-validations': [
      {
        rule: '!(has(self.endpoint) && has(self.serviceRef))',
        message: 'endpoint and serviceRef are mutually exclusive',
      },
      {
        rule: '!has(self.maxQueued) || has(self.maxConcurrency)',
        message: 'maxQueued needs maxConcurrency (the queue holds requests past the cap)',
      },
      {
        rule: `!(self.type in [${NEED_ENDPOINT.map((t) => `'${t}'`).join(', ')}]) || has(self.endpoint) || has(self.serviceRef)`,
        message: `${NEED_ENDPOINT.join(' and ')} providers need endpoint or serviceRef`,
      },
      ...PROVIDER_BLOCK_RULES,
    ],
  },
  ...PROVIDER_FIELD_OVERRIDES,
  'LLMProvider.limits[]': {
    'x-kubernetes-validations': [
      {
        rule: '(has(self.requests) ? 1 : 0) + (has(self.tokens) ? 1 : 0) == 1',
        message: 'a limit needs exactly one of requests or tokens',
      },
    ],
  },
  'LLMProvider.models[].limits[]': {
    'x-kubernetes-validations': [
      {
        rule: '(has(self.requests) ? 1 : 0) + (has(self.tokens) ? 1 : 0) == 1',
        message: 'a limit needs exactly one of requests or tokens',
      },
    ],
  },
  'LLMRoute.models': {
    'x-kubernetes-validations': [
      {
        rule: "self.all(m, m.matches('^[^*]*\\\\*?$'))",
        message: 'a * may only stand at the end of a model name (prefix match)',
      },
    ],
  },
  'LLMRoute.cache': {
    'x-kubernetes-validations': [
      { rule: "!has(self.semantic) || self.mode == 'semantic'", message: CACHE_RULES.semanticOnly },
      { rule: "self.mode != 'semantic' || has(self.semantic)", message: CACHE_RULES.semanticNeeded },
    ],
  },
  'QuotaPolicy.models': {
    'x-kubernetes-validations': [
      {
        rule: "self.all(m, m.matches('^[^*]*\\\\*?$'))",
        message: 'a * may only stand at the end of a model name (prefix match)',
      },
    ],
  },
  'QuotaPolicy.limits[]': {
    'x-kubernetes-validations': [
      {
        rule: '(has(self.requests) ? 1 : 0) + (has(self.tokens) ? 1 : 0) + (has(self.costUSD) ? 1 : 0) == 1',
        message: 'a limit needs exactly one of requests, tokens or costUSD',
      },
    ],
  },
};

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Converts one zod JSON Schema node into a structural OpenAPI v3 schema, recursively. */
export function toStructural(node: JsonSchema, path: string): JsonSchema {
  for (const bad of ['anyOf', 'oneOf', 'allOf', '$ref', 'not']) {
    if (bad in node) throw new Error(`${path}: ${bad} cannot be expressed in a structural schema`);
  }
  const out: JsonSchema = {};
  const description = (node.description as string | undefined) ?? FALLBACK_DESCRIPTIONS[path];
  if (description === undefined) throw new Error(`${path}: no description (add one in resources.ts or gen-crds.ts)`);
  out.description = description;
  if (typeof node.type !== 'string') throw new Error(`${path}: needs a single type`);
  out.type = node.type;
  if (node.default !== undefined) out.default = node.default;
  if (Array.isArray(node.enum)) out.enum = node.enum;
  if (typeof node.format === 'string') out.format = node.format;
  if (typeof node.pattern === 'string') out.pattern = node.pattern;
  for (const k of ['minLength', 'maxLength', 'minItems', 'maxItems', 'minimum']) {
    if (typeof node[k] === 'number') out[k] = node[k];
  }
  if (typeof node.maximum === 'number' && node.maximum !== MAX_SAFE) out.maximum = node.maximum;
  if (typeof node.exclusiveMinimum === 'number') {
    out.minimum = node.exclusiveMinimum;
    out.exclusiveMinimum = true;
  }
  if (node.type === 'object') {
    const props = node.properties as Record<string, JsonSchema> | undefined;
    if (props) {
      const converted: Record<string, JsonSchema> = {};
      for (const [name, child] of Object.entries(props)) {
        converted[name] = toStructural(child, `${path}.${name}`);
      }
      out.properties = converted;
      if (Array.isArray(node.required) && node.required.length > 0) out.required = node.required;
    } else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      // A map (record): keep its value schema.
      out.additionalProperties = toStructural(node.additionalProperties as JsonSchema, `${path}.*`);
    }
  }
  if (node.type === 'array') {
    out.items = toStructural(node.items as JsonSchema, `${path}[]`);
  }
  Object.assign(out, OVERRIDES[path]);
  return out;
}

const CONDITIONS_SCHEMA: JsonSchema = {
  description: 'Accepted, ResolvedRefs and (providers, routes) Programmed, as standard metav1.Conditions.',
  type: 'array',
  maxItems: 8,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  items: {
    description: 'One condition of the resource.',
    type: 'object',
    required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
    properties: {
      type: { description: 'Condition type: Accepted, ResolvedRefs or Programmed.', type: 'string', maxLength: 316 },
      status: { description: 'True, False or Unknown.', type: 'string', enum: ['True', 'False', 'Unknown'] },
      observedGeneration: {
        description: 'metadata.generation the condition was set from.',
        type: 'integer',
        format: 'int64',
        minimum: 0,
      },
      lastTransitionTime: {
        description: 'When the status last changed.',
        type: 'string',
        format: 'date-time',
      },
      reason: {
        description: 'Machine-readable reason in CamelCase.',
        type: 'string',
        maxLength: 1024,
        minLength: 1,
        pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      },
      message: { description: 'What happened and what to fix.', type: 'string', maxLength: 32768 },
    },
  },
};

const STATUS_SCHEMA: JsonSchema = {
  description: 'Observed state, written by the operator.',
  type: 'object',
  properties: {
    observedGeneration: {
      description: 'metadata.generation of the spec the status describes.',
      type: 'integer',
      format: 'int64',
    },
    conditions: CONDITIONS_SCHEMA,
  },
};

/** QuotaPolicy status: the shared status plus usage per limit, refreshed by the operator (docs/operator.md). */
const QUOTA_STATUS_SCHEMA: JsonSchema = {
  ...STATUS_SCHEMA,
  properties: {
    ...(STATUS_SCHEMA.properties as JsonSchema),
    usage: {
      description:
        'Consumption per limit in the current window, read from the shared Redis counters every --quota-status-interval (absent when the operator has no --redis). perKey policies list the keys that used the most.',
      type: 'array',
      maxItems: 256,
      items: {
        description: 'One limit (and, for perKey, one key).',
        type: 'object',
        required: ['limit', 'kind', 'amount', 'per', 'used', 'remaining', 'scope'],
        properties: {
          limit: { description: 'The limit in words, for example "requests per 1m".', type: 'string' },
          kind: {
            description: 'requests, tokens or costUSD.',
            type: 'string',
            enum: ['requests', 'tokens', 'costUSD'],
          },
          amount: { description: 'The limit as the spec gives it (USD for costUSD).', type: 'number' },
          per: { description: 'The window as the spec gives it: a duration or month.', type: 'string' },
          used: { description: 'Consumed in the current window (USD for costUSD).', type: 'number' },
          remaining: { description: 'amount minus used, never below 0.', type: 'number' },
          scope: { description: 'perKey or shared.', type: 'string', enum: ['perKey', 'shared'] },
          key: { description: 'perKey: name of the key Secret this row counts.', type: 'string' },
          windowResetsAt: {
            description: 'Calendar-month windows: when the counter starts from zero (UTC).',
            type: 'string',
            format: 'date-time',
          },
        },
      },
    },
    lastUpdated: {
      description: 'When usage was read from the counters.',
      type: 'string',
      format: 'date-time',
    },
  },
};

/** LLMProvider status: the shared status plus the capacity in use per limit (ADR 0063, docs/operator.md). */
const PROVIDER_STATUS_SCHEMA: JsonSchema = {
  ...STATUS_SCHEMA,
  properties: {
    ...(STATUS_SCHEMA.properties as JsonSchema),
    capacity: {
      description:
        'Capacity in use per limit of spec.limits and spec.models[].limits in the current window, summed over all gateways, read from the shared Redis counters every --quota-status-interval (absent when the operator has no --redis).',
      type: 'array',
      maxItems: 2056,
      items: {
        description: 'One limit of the provider, or of one of its models.',
        type: 'object',
        required: ['limit', 'kind', 'amount', 'per', 'used', 'remaining'],
        properties: {
          limit: { description: 'The limit in words, for example "tokens per 1m".', type: 'string' },
          kind: { description: 'requests or tokens.', type: 'string', enum: ['requests', 'tokens'] },
          amount: { description: 'The limit as the spec gives it.', type: 'number' },
          per: { description: 'The window as the spec gives it: a duration or month.', type: 'string' },
          used: { description: 'Used (or reserved by tries under way) in the current window.', type: 'number' },
          remaining: { description: 'amount minus used, never below 0.', type: 'number' },
          model: { description: "A model's own limit (spec.models[].limits); absent: the provider's.", type: 'string' },
          windowResetsAt: {
            description: 'Calendar-month windows: when the counter starts from zero (UTC).',
            type: 'string',
            format: 'date-time',
          },
        },
      },
    },
    lastUpdated: {
      description: 'When capacity was read from the counters.',
      type: 'string',
      format: 'date-time',
    },
  },
};

interface KindInfo {
  kind: ResourceKind;
  plural: string;
  shortName: string;
  description: string;
  spec: z.ZodType;
  columns: JsonSchema[];
  /** Default: STATUS_SCHEMA. */
  status?: JsonSchema;
}

const READY = (condition: string): JsonSchema => ({
  name: 'Ready',
  type: 'string',
  description: `Status of the ${condition} condition.`,
  jsonPath: `.status.conditions[?(@.type=="${condition}")].status`,
});
const AGE: JsonSchema = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const KINDS: KindInfo[] = [
  {
    kind: 'LLMProvider',
    plural: 'llmproviders',
    shortName: 'llmp',
    description: `An upstream that serves models; spec.type is one of ${PROVIDER_CONFIGS.map((c) => c.type).join(', ')}.`,
    spec: LLMProviderSpec,
    status: PROVIDER_STATUS_SCHEMA,
    columns: [
      { name: 'Type', type: 'string', description: 'Provider type.', jsonPath: '.spec.type' },
      {
        name: 'Endpoint',
        type: 'string',
        description: 'Base URL (empty: the default for the type).',
        jsonPath: '.spec.endpoint',
      },
      READY('Programmed'),
      AGE,
    ],
  },
  {
    kind: 'LLMRoute',
    plural: 'llmroutes',
    shortName: 'llmr',
    description: 'Which requests go where: model names (and headers) to weighted, prioritised provider backends.',
    spec: LLMRouteSpec,
    columns: [
      { name: 'Models', type: 'string', description: 'Model names and prefixes.', jsonPath: '.spec.models' },
      { name: 'Backends', type: 'string', description: 'Providers.', jsonPath: '.spec.backends[*].provider' },
      READY('Programmed'),
      AGE,
    ],
  },
  {
    kind: 'QuotaPolicy',
    plural: 'quotapolicies',
    shortName: 'qp',
    description: 'Who may spend how much: request, token and cost limits on the API keys a label selector picks.',
    spec: QuotaPolicySpec,
    status: QUOTA_STATUS_SCHEMA,
    columns: [
      { name: 'Scope', type: 'string', description: 'perKey or shared.', jsonPath: '.spec.scope' },
      { name: 'Limits', type: 'string', description: 'Limits, in words.', jsonPath: '.status.usage[*].limit' },
      { name: 'Used', type: 'string', description: 'Consumed per limit.', jsonPath: '.status.usage[*].used' },
      READY('Accepted'),
      AGE,
    ],
  },
];

export function crdFor(info: KindInfo): JsonSchema {
  const json = z.toJSONSchema(info.spec, { io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  delete json.$schema;
  const spec = toStructural({ ...json, description: 'Desired state.' }, info.kind);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${info.plural}.${API_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'tollgate' },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.kind.toLowerCase(),
        shortNames: [info.shortName],
        categories: ['tollgate'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.columns,
          schema: {
            openAPIV3Schema: {
              description: info.description,
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { description: 'APIVersion of this object (tollgate.dev/v1alpha1).', type: 'string' },
                kind: { description: `Kind of this object (${info.kind}).`, type: 'string' },
                metadata: { type: 'object' },
                spec,
                status: info.status ?? STATUS_SCHEMA,
              },
            },
          },
        },
      ],
    },
  };
}

const HEADER =
  '# Generated by scripts/gen-crds.ts from dataplane/src/config/resources.ts (npm run gen:crds). Do not edit.\n';

/** The CRD files: name → YAML text. */
export function generateCrds(): Array<{ file: string; yaml: string }> {
  return KINDS.map((info) => ({
    file: `${info.plural}.${API_GROUP}.yaml`,
    yaml: HEADER + stringify(crdFor(info), { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' }),
  }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Run from the repository root (npm run gen:crds). The chart ships the same files (helm installs
  // charts/tollgate/crds/ first); both are written here so they cannot drift.
  for (const { file, yaml } of generateCrds()) {
    for (const dir of ['crds', join('charts', 'tollgate', 'crds')]) {
      const path = join(process.cwd(), dir, file);
      writeFileSync(path, yaml);
      console.log(`wrote ${path}`);
    }
  }
}
