/**
 * The configuration half of a provider descriptor (ADR 0046): everything about a provider type that the
 * contract (contract/gateway-config.ts) and the config translation (config/) need, and nothing that sends or
 * translates requests. Each `providers/<type>/config.ts` exports one; `providers/configs.ts` lists them.
 * These modules may import zod, contract/provider.ts and pure credential-shape parsers; never an adapter,
 * a translator or a descriptor (scripts/layering.test.ts walks the imports).
 */
import type { z } from 'zod';
import type { WireFormat } from '../../../contract/provider.js';

/** A CEL rule the LLMProvider CRD carries at spec level (x-kubernetes-validations). */
export interface CrdRule {
  readonly rule: string;
  readonly message: string;
}

/** The spec block only one provider type reads (`spec.bedrock`, `spec.vertex`, `spec.azure`). */
export interface SpecBlock<B> {
  /** Field name under spec. */
  readonly key: string;
  /** Its schema (strict object, every field described: it becomes part of the CRD). */
  readonly schema: z.ZodType<B>;
  readonly description: string;
  /** Set when the type cannot work without the block: the message (field path first) when it is missing. */
  readonly requiredMessage?: string;
  /** Extra OpenAPI keywords per field of the block, for the CRD only (`{ region: { pattern: ... } }`). */
  readonly crdFields?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** How the provider type is described in docs/translation.md's table (scripts/gen-provider-docs.ts). */
export interface ProviderDocs {
  readonly wire: string;
  readonly url: string;
  readonly auth: string;
}

/**
 * One provider type's configuration. `B` is the parsed type of its spec block (`undefined` for types without
 * one). Methods (not function properties) on purpose: a config with a specific `B` is usable where
 * `ProviderTypeConfig<string, unknown>` is expected, and translate hands each config its own block only.
 */
export interface ProviderTypeConfig<T extends string = string, B = unknown, S extends z.ZodRawShape = z.ZodRawShape> {
  readonly type: T;
  /** The wire it speaks (vertex-ai: the default; its adapter picks per model). */
  readonly wire: WireFormat;
  /** OTel GenAI `gen_ai.provider.name`. */
  readonly genAiName: string;
  /** GatewayConfig fields only this type has (bedrock: region), joined into ProviderConfigSchema's variant. */
  readonly gatewayShape: S;
  readonly block?: SpecBlock<B>;
  readonly docs: ProviderDocs;
  /**
   * Base URL when the spec has neither endpoint nor serviceRef; absent: one of them is required. Like
   * `baseUrl`, it gets the block itself only for a type whose block has `requiredMessage` (translate rejects
   * the provider before otherwise); for other types `block` may be undefined at run time.
   */
  defaultEndpoint?(block: B): string;
  /**
   * Path under the base URL of the type's models list (GET, sent with the same auth headers as a chat request),
   * for `spec.healthCheck.request: models`; absent: the type is probed with a completion only.
   */
  readonly modelsPath?: string;
  /** What is wrong with the block, when present (a message naming the field); undefined: fine. */
  check?(block: B): string | undefined;
  /** The base URL from the endpoint (default, spec.endpoint or serviceRef); absent: as it is. */
  baseUrl?(endpoint: string, block: B): string;
  /** The values of `gatewayShape`'s fields, from the block. */
  gatewayFields?(block: B | undefined): Record<string, string>;
  /**
   * What is wrong with a credential Secret value, when the type can tell without calling anyone: the words after
   * `holds ` (`JSON that is not usable AWS keys (...): it has no secretAccessKey string`); undefined: fine.
   */
  credentialProblem?(value: string): string | undefined;
}

/** Any provider type's config, as lists hold them. */
export type AnyProviderTypeConfig = ProviderTypeConfig<string, unknown, z.ZodRawShape>;

/** Checks a config against its own block type `B` (inferred from the block's schema) and keeps `T` and `S` exact. */
export function defineProviderConfig<const T extends string, S extends z.ZodRawShape, B = undefined>(
  config: ProviderTypeConfig<T, B, S>,
): ProviderTypeConfig<T, B, S> {
  return config;
}
