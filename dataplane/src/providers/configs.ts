/**
 * Every provider type, as its config half (ADR 0046). The one list of provider types: the GatewayConfig's
 * discriminated union (contract/gateway-config.ts), the LLMProvider spec and CRD (config/resources.ts,
 * scripts/gen-crds.ts), docs/translation.md's table and the OTel provider names are built from it;
 * providers/descriptors.ts must have a descriptor for each (the compiler checks). Adding a provider type:
 * a new folder with config.ts and descriptor.ts, plus one line here and one in descriptors.ts.
 * The order is the order users see (the type enum in the CRD and in error messages).
 */
import { anthropicConfig } from './anthropic/config.js';
import { azureOpenAiConfig } from './azure-openai/config.js';
import { bedrockConfig } from './bedrock/config.js';
import { geminiConfig } from './gemini/config.js';
import { openAiConfig } from './openai/config.js';
import { openAiCompatibleConfig } from './openai-compatible/config.js';
import type { AnyProviderTypeConfig } from './type-config.js';
import { vertexConfig } from './vertex/config.js';

export const PROVIDER_CONFIGS = [
  openAiConfig,
  azureOpenAiConfig,
  anthropicConfig,
  openAiCompatibleConfig,
  geminiConfig,
  vertexConfig,
  bedrockConfig,
] as const;

export type ProviderType = (typeof PROVIDER_CONFIGS)[number]['type'];

export const PROVIDER_TYPES = PROVIDER_CONFIGS.map((c) => c.type) as unknown as readonly [
  ProviderType,
  ...ProviderType[],
];

const BY_TYPE = new Map<string, AnyProviderTypeConfig>(PROVIDER_CONFIGS.map((c) => [c.type, c]));

/** The config half for a type the schema accepted. */
export function providerTypeConfig(type: ProviderType): AnyProviderTypeConfig {
  return BY_TYPE.get(type)!;
}

/** OTel GenAI `gen_ai.provider.name` per provider type. */
export const GENAI_PROVIDER_NAMES = Object.fromEntries(PROVIDER_CONFIGS.map((c) => [c.type, c.genAiName])) as Record<
  ProviderType,
  string
>;
