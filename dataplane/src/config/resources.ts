/**
 * Zod schemas of the user-facing resources (api.md): LLMProvider, LLMRoute, QuotaPolicy and key Secrets.
 * They are the single source for validation in `tollgate run`, in the operator's translate step, and for
 * the generated CRDs in crds/ (every field carries a description for the OpenAPI schema).
 */
import { z } from 'zod';
import { LOAD_BALANCING, MAX_ROUTE_BACKENDS } from '../../../contract/gateway-config.js';
import { PROVIDER_CONFIGS, PROVIDER_TYPES, type ProviderType } from '../providers/configs.js';
import { DURATION_PATTERN } from './duration.js';
import { dnsName } from './resources-raw.js';

export {
  ObjectMeta,
  type RawResource,
  type RawSecret,
  RESOURCE_KINDS,
  type ResourceKind,
  type ResourceSnapshot,
} from './resources-raw.js';

export const API_GROUP = 'tollgate.dev';
export const API_VERSION = 'v1alpha1';
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const API_KEY_LABEL = 'tollgate.dev/api-key';

const duration = (what: string) =>
  z
    .string()
    .regex(new RegExp(DURATION_PATTERN), { message: 'must be a duration like 500ms, 30s, 5m, 1h or 30d' })
    .describe(what);

/**
 * Size caps on lists and strings. The CRDs carry them too (gen-crds derives maxItems/maxLength from these
 * schemas): the API server needs bounds to keep CEL rule cost within its budget, and `tollgate run` must
 * reject what the cluster would reject.
 */
export const LIMITS = {
  /** LLMProvider spec.models */
  providerModels: 256,
  /** LLMRoute spec.models */
  routeModels: 64,
  /** LLMRoute spec.backends: as many as the data plane serves per route (its tried-set is a 31-bit mask). */
  routeBackends: MAX_ROUTE_BACKENDS,
  /** LLMRoute spec.match.headers */
  routeHeaders: 16,
  /** QuotaPolicy spec.models */
  quotaModels: 64,
  /** QuotaPolicy spec.limits */
  quotaLimits: 16,
  /** LLMProvider spec.limits and spec.models[].limits (capacity) */
  providerLimits: 8,
  /** One model name or prefix in LLMRoute / QuotaPolicy spec.models */
  modelNameLength: 256,
} as const;

const atMost = (n: number, what: string) => ({ message: `at most ${n} ${what} allowed` });

/** A model name, or a prefix ending in * (routes and quota policies). */
const modelPattern = z
  .string()
  .min(1)
  .max(LIMITS.modelNameLength, { message: `at most ${LIMITS.modelNameLength} characters` })
  .regex(/^[^*]*\*?$/, { message: 'a * may only stand at the end (prefix match)' });

/** Provider types, from the provider folders (providers/configs.ts). */
export { PROVIDER_TYPES, type ProviderType };

export const SecretKeyRef = z
  .object({
    name: dnsName.describe('Name of a Secret in the same namespace.'),
    key: z.string().min(1).describe('Key inside the Secret data.'),
  })
  .strict();

/** A window: a duration (sliding) or month (calendar month, UTC); QuotaPolicy and provider limits. */
const limitWindow = z
  .string()
  .regex(new RegExp(`^(?:month|${DURATION_PATTERN.slice(1, -1)})$`), {
    message: 'must be a duration like 1m, 1h, 1d, 30d, or month',
  })
  .describe('Window: a duration (sliding) or month (calendar month, UTC).');

/** LLMProvider spec.limits: the provider account's own rate limit (capacity, ADR 0063). */
export const CapacityLimit = z
  .object({
    requests: z.number().int().positive().optional().describe('Number of requests.'),
    tokens: z.number().int().positive().optional().describe('Input + output tokens.'),
    per: limitWindow,
  })
  .strict()
  .refine((l) => (l.requests === undefined) !== (l.tokens === undefined), {
    message: 'a limit needs exactly one of requests or tokens',
  });

export const ModelPricing = z
  .object({
    input: z.number().min(0).describe('USD per 1M input tokens.'),
    output: z.number().min(0).describe('USD per 1M output tokens (reasoning tokens are billed as output).'),
    cachedInput: z.number().min(0).optional().describe('USD per 1M cached input tokens (cache reads); default: input.'),
    cacheWrite: z
      .number()
      .min(0)
      .optional()
      .describe('USD per 1M tokens written to the prompt cache (Anthropic cache creation); default: input.'),
  })
  .strict()
  .describe('Prices in USD per 1M tokens.');

export const ProviderModel = z
  .object({
    name: z.string().min(1).describe('Model name as the provider knows it.'),
    contextWindow: z.number().int().positive().optional().describe('Maximum context length in tokens.'),
    pricing: ModelPricing.optional(),
    limits: z
      .array(CapacityLimit)
      .max(LIMITS.providerLimits, atMost(LIMITS.providerLimits, 'limits'))
      .optional()
      .describe("This model's own rate limit at the provider, on top of spec.limits."),
  })
  .strict();

/**
 * The type-specific blocks (spec.azure, spec.bedrock, spec.vertex), each from its provider folder's config.ts,
 * in name order. Each is optional here; translate (config/translate-providers.ts) requires a type's own block
 * when it needs one and rejects a block of another type, and the CRD says the same in CEL (gen-crds.ts).
 */
const TYPE_BLOCKS: Record<string, z.ZodOptional<z.ZodType>> = Object.fromEntries(
  PROVIDER_CONFIGS.flatMap((c) => (c.block === undefined ? [] : [c.block]))
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((b) => [b.key, b.schema.optional().describe(b.description)]),
);

export const LLMProviderSpec = z
  .object({
    type: z.enum(PROVIDER_TYPES).describe('Wire protocol and auth scheme of the upstream.'),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe('Base URL as the provider SDK takes it; defaulted per type (openai: https://api.openai.com/v1).'),
    serviceRef: z
      .object({
        name: dnsName.describe('Service name in the same namespace.'),
        port: z.number().int().min(1).max(65535).describe('Service port.'),
        path: z.string().startsWith('/').optional().describe('Path prefix, for example /v1.'),
      })
      .strict()
      .optional()
      .describe('An in-cluster Service (vLLM, llama.cpp, Ollama, TGI) instead of endpoint.'),
    auth: z
      .object({ secretRef: SecretKeyRef.describe('Secret key holding the provider credential.') })
      .strict()
      .optional()
      .describe('Credential sent upstream; omitted: none (self-hosted backends).'),
    ...TYPE_BLOCKS,
    models: z
      .array(ProviderModel)
      .max(LIMITS.providerModels, atMost(LIMITS.providerModels, 'models'))
      .optional()
      .describe('Catalogue of the models it serves and their prices.'),
    limits: z
      .array(CapacityLimit)
      .max(LIMITS.providerLimits, atMost(LIMITS.providerLimits, 'limits'))
      .optional()
      .describe(
        "The provider account's own rate limit, shared by all replicas; a backend without capacity left is skipped (next backend or tier). Present, even empty: the upstream's rate-limit headers are heeded too.",
      ),
    timeouts: z
      .object({
        connect: duration('Time to establish a connection.').default('5s'),
        request: duration('Time for one upstream attempt, to the last byte.').default('300s'),
      })
      .strict()
      .optional()
      .describe('Per-attempt timeouts.'),
    healthCheck: z
      .object({
        interval: duration('Time between two probes (one timer per provider, per replica).').default('10s'),
        timeout: duration('Time for one probe, to the last byte.').default('2s'),
        request: z
          .enum(['completion', 'models'])
          .default('completion')
          .describe(
            'completion: a one-token chat completion of model (every type); models: GET the models list (openai, openai-compatible, anthropic).',
          ),
        model: z
          .string()
          .min(1)
          .optional()
          .describe('Model a completion probe asks; default: the first of spec.models.'),
        unhealthyThreshold: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(2)
          .describe(
            "Consecutive failed probes that eject the provider's backends; one successful probe readmits them.",
          ),
      })
      .strict()
      .optional()
      .describe(
        'Active health check: a cheap probe at an interval, so a dead backend is ejected before a request hits it and an ejected one returns as soon as it answers. Omitted: passive health only.',
      ),
    maxConcurrency: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        "Most requests in flight to this provider per data-plane replica; the excess waits in a bounded FIFO queue, at most until the route's timeout. Omitted: no cap.",
      ),
    maxQueued: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        'Most requests waiting for a slot per replica when maxConcurrency is reached (past it: 429 queue_full with retry-after). Default: 4 x maxConcurrency. Needs maxConcurrency.',
      ),
  })
  .strict()
  .refine((s) => s.maxQueued === undefined || s.maxConcurrency !== undefined, {
    message: 'maxQueued needs maxConcurrency (the queue holds requests past the cap)',
    path: ['maxQueued'],
  })
  .refine((s) => !(s.endpoint && s.serviceRef), {
    message: 'endpoint and serviceRef are mutually exclusive',
    path: ['serviceRef'],
  });
export type LLMProviderSpec = z.infer<typeof LLMProviderSpec>;

export const RETRY_ON = ['429', '5xx', 'timeout', 'connect-failure'] as const;

export const RouteBackend = z
  .object({
    provider: dnsName.describe('An LLMProvider in the same namespace.'),
    model: z.string().min(1).optional().describe('Model name sent upstream; default: the name the client sent.'),
    weight: z.number().int().min(0).default(1).describe('Share within its priority tier; default 1.'),
    priority: z.number().int().min(0).default(0).describe('0 is tried first; higher numbers are fallback tiers.'),
  })
  .strict();

const RENAMED_ON =
  'renamed to spec.retry.retryOn: write `retryOn: ["429", "5xx", "timeout", "connect-failure"]` (YAML 1.1 parsers such as kubectl read an unquoted `on` as the boolean true)';
const RENAMED_TRUE =
  'this is `on:` as YAML 1.1 (kubectl) reads it, the boolean true; the field is now spec.retry.retryOn: write `retryOn: ["429", "5xx", "timeout", "connect-failure"]`';

const CACHE_SEMANTIC_ONLY = 'a semantic block is only for mode: semantic';
const CACHE_SEMANTIC_NEEDED = 'mode: semantic needs a semantic block (embeddingModel and threshold)';

export const RouteCache = z
  .object({
    mode: z
      .enum(['exact', 'semantic'])
      .describe('exact: the same normalised request; semantic: a similar prompt, by embeddings.'),
    ttl: duration('How long an answer is kept.').default('1h'),
    scope: z
      .enum(['namespace', 'perKey'])
      .default('namespace')
      .describe('namespace: keys of the namespace share entries; perKey: each key has its own.'),
    includeTruncated: z
      .boolean()
      .default(false)
      .describe('Also store answers cut by the max-tokens limit (default: only answers that ended on their own).'),
    semantic: z
      .object({
        embeddingModel: z
          .string()
          .min(1)
          .max(LIMITS.modelNameLength)
          .describe('Embedding model, served by a route of the same namespace.'),
        threshold: z.number().gt(0).max(1).describe('Cosine similarity needed for a hit, in (0, 1].'),
        includeAgentSteps: z
          .boolean()
          .default(false)
          .describe('Also look up requests with tools or tool results (agent steps); default: only plain prompts.'),
      })
      .strict()
      .optional()
      .describe('mode: semantic only.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.mode !== 'semantic' && c.semantic !== undefined)
      ctx.addIssue({ code: 'custom', path: ['semantic'], message: CACHE_SEMANTIC_ONLY });
    if (c.mode === 'semantic' && c.semantic === undefined)
      ctx.addIssue({ code: 'custom', path: ['semantic'], message: CACHE_SEMANTIC_NEEDED });
  });
export const CACHE_RULES = { semanticOnly: CACHE_SEMANTIC_ONLY, semanticNeeded: CACHE_SEMANTIC_NEEDED };

export const LLMRouteSpec = z
  .object({
    models: z
      .array(modelPattern)
      .min(1)
      .max(LIMITS.routeModels, atMost(LIMITS.routeModels, 'models'))
      .describe('Model names clients send; a trailing * matches a prefix.'),
    match: z
      .object({
        headers: z
          .array(
            z
              .object({
                name: z.string().min(1).describe('Header name (case-insensitive).'),
                value: z.string().describe('Exact header value.'),
              })
              .strict(),
          )
          .max(LIMITS.routeHeaders, atMost(LIMITS.routeHeaders, 'header conditions'))
          .optional()
          .describe('Headers that must all be present with these values.'),
      })
      .strict()
      .optional()
      .describe('Extra conditions; all must hold.'),
    backends: z
      .array(RouteBackend)
      .min(1)
      .max(LIMITS.routeBackends, atMost(LIMITS.routeBackends, 'backends'))
      .describe('Where matching requests go.'),
    retry: z
      .object({
        attempts: z.number().int().min(1).max(10).default(3).describe('Total tries per request, across backends.'),
        backoff: z
          .object({
            base: duration('First backoff.').default('100ms'),
            max: duration('Largest backoff.').default('2s'),
          })
          .strict()
          .optional()
          .describe('Exponential backoff with jitter between tries.'),
        retryOn: z
          .array(z.enum(RETRY_ON))
          .default([...RETRY_ON])
          .describe('Failures that are retried: 429, 5xx, timeout, connect-failure.'),
        // The old name, kept in the schema (and the CRD) only so that a resource still using it is stored and
        // told to write retryOn, rather than pruned or refused with "unknown field spec.retry.true".
        on: z.array(z.string()).optional().describe('Renamed to retryOn: a resource that sets it is rejected.'),
        true: z
          .array(z.string())
          .optional()
          .describe('An unquoted `on:` as YAML 1.1 (kubectl) reads it; renamed to retryOn: rejected.'),
      })
      .strict()
      .superRefine((retry, ctx) => {
        if (retry.on !== undefined) ctx.addIssue({ code: 'custom', path: ['on'], message: RENAMED_ON });
        if (retry.true !== undefined) ctx.addIssue({ code: 'custom', path: ['true'], message: RENAMED_TRUE });
      })
      .optional()
      .describe('Retry and fallback policy.'),
    timeout: duration('Whole request, all attempts.').optional(),
    loadBalancing: z
      .enum(LOAD_BALANCING)
      .optional()
      .describe(
        'How a backend is picked within a priority tier: weighted (default), least-latency, least-busy or lowest-cost.',
      ),
    cache: RouteCache.optional().describe('Answer repeated requests without calling a provider (ADR 0070).'),
  })
  .strict();
export type LLMRouteSpec = z.infer<typeof LLMRouteSpec>;

export const LabelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional().describe('Labels that must all match.'),
    matchExpressions: z
      .array(
        z
          .object({
            key: z.string().min(1),
            operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
            values: z.array(z.string()).optional(),
          })
          .strict(),
      )
      .optional()
      .describe('Set-based requirements.'),
  })
  .strict();
export type LabelSelector = z.infer<typeof LabelSelector>;

export const QuotaLimit = z
  .object({
    requests: z.number().int().positive().optional().describe('Number of requests.'),
    tokens: z.number().int().positive().optional().describe('Input + output tokens.'),
    costUSD: z.number().positive().optional().describe('Spend in USD.'),
    per: z
      .string()
      .regex(new RegExp(`^(?:month|${DURATION_PATTERN.slice(1, -1)})$`), {
        message: 'must be a duration like 1m, 1h, 1d, 30d, or month',
      })
      .describe('Window: a duration (sliding) or month (calendar month, UTC).'),
  })
  .strict()
  .refine((l) => [l.requests, l.tokens, l.costUSD].filter((v) => v !== undefined).length === 1, {
    message: 'a limit needs exactly one of requests, tokens or costUSD',
  });

export const QuotaPolicySpec = z
  .object({
    selector: LabelSelector.describe('The API keys it governs: a label selector on key Secrets.'),
    models: z
      .array(modelPattern)
      .max(LIMITS.quotaModels, atMost(LIMITS.quotaModels, 'models'))
      .optional()
      .describe('Only requests for these models count (trailing * = prefix).'),
    scope: z.enum(['perKey', 'shared']).default('perKey').describe('perKey: a counter per key; shared: one for all.'),
    limits: z
      .array(QuotaLimit)
      .min(1)
      .max(LIMITS.quotaLimits, atMost(LIMITS.quotaLimits, 'limits'))
      .describe('Limits that all apply.'),
    failureMode: z.enum(['open', 'closed']).default('open').describe('When the counter store is unreachable.'),
  })
  .strict();
export type QuotaPolicySpec = z.infer<typeof QuotaPolicySpec>;
