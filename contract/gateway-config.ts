/**
 * GatewayConfig: the one contract between the operator (or `tollgate run`'s file loader) and the data plane.
 * Free of Kubernetes types. Durations are milliseconds, references are resolved, credentials are inline
 * (the snapshot only travels over the authenticated config channel), API keys are only hashes.
 * The data plane validates every snapshot with `GatewayConfigSchema` and keeps the last good one.
 */
import { z } from 'zod';
import { PROVIDER_CONFIGS } from '../dataplane/src/providers/configs.js';
import type { AnyProviderTypeConfig } from '../dataplane/src/providers/type-config.js';
import { idSchema, providerBaseShape, QuotaWindowSchema } from './provider.js';

export {
  type CapacityLimit,
  CapacityLimitSchema,
  type Pricing,
  PricingSchema,
  type QuotaWindow,
  QuotaWindowSchema,
  WIRE_FORMATS,
  type WireFormat,
} from './provider.js';

const id = idSchema;

/** One variant of ProviderConfigSchema: the common fields, the type literal and the type's own fields. */
function providerVariant<const C extends AnyProviderTypeConfig>(c: C) {
  return z.object({
    ...providerBaseShape,
    type: z.literal(c.type as C['type']),
    ...(c.gatewayShape as C['gatewayShape']),
  });
}
type ProviderVariants<L extends readonly AnyProviderTypeConfig[]> = {
  -readonly [K in keyof L]: ReturnType<typeof providerVariant<L[K]>>;
};

/**
 * A provider, by `type`: one variant per provider type (providers/<type>/config.ts), so a bedrock provider
 * without `region` or an azure-openai one without `apiVersion` is an invalid snapshot, not a request-time error.
 */
export const ProviderConfigSchema = z.discriminatedUnion(
  'type',
  PROVIDER_CONFIGS.map(providerVariant) as unknown as ProviderVariants<typeof PROVIDER_CONFIGS>,
);
export type ProviderConfig = z.infer<typeof ProviderConfigSchema>;

/**
 * Backends per route the data plane can serve: the attempt loop keeps the backends a request tried as bits of a
 * 32-bit integer (routing/select.ts). The LLMRoute schema and CRD cap spec.backends at this, so nothing is dropped.
 */
export const MAX_ROUTE_BACKENDS = 31;

export const RETRY_CONDITIONS = ['429', '5xx', 'timeout', 'connect-failure'] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

/** How a backend is picked within a priority tier (routing/strategies.ts, ADR 0060); the first is the default. */
export const LOAD_BALANCING = ['weighted', 'least-latency', 'least-busy', 'lowest-cost'] as const;
export type LoadBalancing = (typeof LOAD_BALANCING)[number];

export const RouteConfigSchema = z.object({
  id,
  namespace: z.string(),
  name: z.string(),
  /** Exact model names and prefixes (the trailing * removed). */
  models: z.array(z.object({ name: z.string(), prefix: z.boolean() })).min(1),
  /** Header conditions; names lower-cased. */
  headers: z.array(z.object({ name: z.string(), value: z.string() })),
  backends: z
    .array(
      z.object({
        /** `namespace/name` of an LLMProvider present in `providers`. */
        provider: id,
        /** Upstream model; absent: the model the client sent. */
        model: z.string().optional(),
        weight: z.number().int().min(0),
        priority: z.number().int().min(0),
      }),
    )
    /** May be empty when no backend's provider resolved: the route still answers, with 503. */
    .min(0)
    .max(MAX_ROUTE_BACKENDS),
  retry: z.object({
    attempts: z.number().int().min(1),
    backoffBaseMs: z.number().int().min(0),
    backoffMaxMs: z.number().int().min(0),
    on: z.array(z.enum(RETRY_CONDITIONS)),
  }),
  timeoutMs: z.number().int().positive(),
  /** Absent: `weighted` (a snapshot names it only when the route chose another strategy). */
  loadBalancing: z.enum(LOAD_BALANCING).optional(),
  /** Response cache (LLMRoute spec.cache, ADR 0070); absent: answers are never cached. */
  cache: z
    .object({
      mode: z.enum(['exact', 'semantic']),
      ttlMs: z.number().int().positive(),
      /** namespace: the keys of the route's namespace share entries; perKey: each key has its own. */
      scope: z.enum(['namespace', 'perKey']),
      /** Store answers cut by the token limit (finish_reason length / stop_reason max_tokens) too. */
      includeTruncated: z.boolean(),
      /** mode semantic only. */
      semantic: z
        .object({
          embeddingModel: z.string(),
          threshold: z.number().gt(0).max(1),
          /** Look up requests with tools or tool results too (agent steps); absent: false. */
          includeAgentSteps: z.boolean().optional(),
        })
        .optional(),
    })
    .optional(),
  /** Creation time (RFC 3339) used to order equally specific routes; older wins. */
  createdAt: z.string().optional(),
  generation: z.number().int().optional(),
});
export type RouteConfig = z.infer<typeof RouteConfigSchema>;

export const QuotaPolicyConfigSchema = z.object({
  id,
  namespace: z.string(),
  name: z.string(),
  /** Model names and prefixes it counts; empty: all models. */
  models: z.array(z.object({ name: z.string(), prefix: z.boolean() })),
  scope: z.enum(['perKey', 'shared']),
  limits: z.array(
    z.object({
      kind: z.enum(['requests', 'tokens', 'costUSD']),
      amount: z.number().positive(),
      window: QuotaWindowSchema,
    }),
  ),
  failureMode: z.enum(['open', 'closed']),
  /** Ids (`namespace/name`) of the key Secrets its selector matched, resolved at translate time. */
  keys: z.array(id),
  /** True when the selector is empty: it also governs anonymous requests in open (keyless) mode. */
  matchesAnonymous: z.boolean(),
  generation: z.number().int().optional(),
});
export type QuotaPolicyConfig = z.infer<typeof QuotaPolicyConfigSchema>;

export const ApiKeyConfigSchema = z.object({
  /** `namespace/name` of the key Secret. */
  id,
  namespace: z.string(),
  /** `sha256:<hex>` of the key; the key itself never reaches the data plane. */
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  labels: z.record(z.string(), z.string()),
});
export type ApiKeyConfig = z.infer<typeof ApiKeyConfigSchema>;

export const GatewayConfigSchema = z.object({
  /** Monotonic version assigned by the producer (operator or file loader). */
  version: z.number().int().min(0),
  /** sha256 of the canonical JSON of everything below except version and hash. */
  hash: z.string(),
  providers: z.array(ProviderConfigSchema),
  routes: z.array(RouteConfigSchema),
  quotaPolicies: z.array(QuotaPolicyConfigSchema),
  apiKeys: z.array(ApiKeyConfigSchema),
  /** When false and no keys exist, requests without a key are served (tollgate run with no keys). */
  requireKeys: z.boolean(),
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
