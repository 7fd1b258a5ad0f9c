/**
 * The provider-independent part of a provider in the GatewayConfig: the fields every type has. Each provider
 * type adds its own fields (dataplane/src/providers/<type>/config.ts, `gatewayShape`); gateway-config.ts joins
 * them into one discriminated union by `type`. A leaf module (zod only), so the provider config modules can
 * build on it without importing gateway-config.ts, which imports them.
 */
import { z } from 'zod';

export const WIRE_FORMATS = ['openai', 'anthropic', 'gemini', 'bedrock'] as const;
/** The HTTP dialect a provider speaks upstream (Azure and OpenAI-compatible servers speak `openai`; `gemini` is Google's generateContent, `bedrock` Amazon's Converse). */
export type WireFormat = (typeof WIRE_FORMATS)[number];

export const idSchema = z.string().regex(/^[a-z0-9.-]+\/[a-z0-9.-]+$/, { message: 'must be namespace/name' });

export const PricingSchema = z.object({
  input: z.number().min(0),
  output: z.number().min(0),
  cachedInput: z.number().min(0).optional(),
  cacheWrite: z.number().min(0).optional(),
});
export type Pricing = z.infer<typeof PricingSchema>;

/** A counting window: sliding (ms) or the UTC calendar month. Shared by QuotaPolicy limits and provider capacity. */
export const QuotaWindowSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sliding'), ms: z.number().int().positive() }),
  z.object({ type: z.literal('calendarMonth') }),
]);
export type QuotaWindow = z.infer<typeof QuotaWindowSchema>;

/**
 * The provider account's own rate limit (LLMProvider spec.limits, models[].limits): counted for all replicas like
 * a shared QuotaPolicy, per try on the backend being tried (ADR 0063).
 */
export const CapacityLimitSchema = z.object({
  kind: z.enum(['requests', 'tokens']),
  amount: z.number().int().positive(),
  window: QuotaWindowSchema,
});
export type CapacityLimit = z.infer<typeof CapacityLimitSchema>;

/** Fields of every provider, whatever its type. */
export const providerBaseShape = {
  /** `namespace/name` of the LLMProvider. */
  id: idSchema,
  namespace: z.string(),
  name: z.string(),
  /** Base URL without trailing slash, as the provider SDK takes it (openai: https://api.openai.com/v1). */
  baseUrl: z.string().url(),
  /** Provider credential, resolved from its Secret; absent: none sent. */
  credential: z.string().optional(),
  models: z.array(
    z.object({
      name: z.string(),
      contextWindow: z.number().int().positive().optional(),
      pricing: PricingSchema.optional(),
      /** This model's own capacity limits (on top of the provider's). */
      limits: z.array(CapacityLimitSchema).optional(),
    }),
  ),
  /**
   * The account's capacity limits; present (even empty) turns capacity on for this provider: counters, and
   * learning from the upstream's rate-limit headers (ADR 0063). Absent: the provider pays nothing for it.
   */
  limits: z.array(CapacityLimitSchema).optional(),
  connectTimeoutMs: z.number().int().positive(),
  requestTimeoutMs: z.number().int().positive(),
  /** Most requests in flight to this provider per replica; absent: no cap (routing/concurrency.ts, ADR 0066). */
  maxConcurrency: z.number().int().positive().optional(),
  /** Most requests waiting for a slot when maxConcurrency is reached; set whenever maxConcurrency is. */
  maxQueued: z.number().int().min(0).optional(),
  /** Active health probe (proxy/health-probe.ts, ADR 0067); absent: passive health only. */
  healthCheck: z
    .object({
      intervalMs: z.number().int().positive(),
      timeoutMs: z.number().int().positive(),
      /** `completion`: a one-token chat completion of `model`; `models`: GET the type's models list. */
      request: z.enum(['completion', 'models']),
      /** The model a completion probe asks (set for `completion`). */
      model: z.string().min(1).optional(),
      /** Consecutive failed probes that eject the provider's backends. */
      unhealthyThreshold: z.number().int().positive(),
    })
    .optional(),
  /** metadata.generation of the resource this came from (for Programmed status). */
  generation: z.number().int().optional(),
};
