/**
 * Every provider type's descriptor, by type (ADR 0046). Only the data plane's request path imports this
 * (providers/index.ts, proxy/credentials.ts): it loads every adapter and translator. The keys are checked
 * against providers/configs.ts by the compiler (one entry per type) and at load (each under its own type).
 * Adding a provider type: its folder, one line in configs.ts and one line here.
 */
import { anthropicDescriptor } from './anthropic/descriptor.js';
import { azureOpenAiDescriptor } from './azure-openai/descriptor.js';
import { bedrockDescriptor } from './bedrock/descriptor.js';
import type { ProviderType } from './configs.js';
import { geminiDescriptor } from './gemini/descriptor.js';
import { openAiDescriptor } from './openai/descriptor.js';
import { openAiCompatibleDescriptor } from './openai-compatible/descriptor.js';
import type { ProviderDescriptor } from './types.js';
import { vertexDescriptor } from './vertex/descriptor.js';

export const DESCRIPTORS: Readonly<Record<ProviderType, ProviderDescriptor>> = {
  openai: openAiDescriptor,
  'azure-openai': azureOpenAiDescriptor,
  anthropic: anthropicDescriptor,
  'openai-compatible': openAiCompatibleDescriptor,
  gemini: geminiDescriptor,
  'vertex-ai': vertexDescriptor,
  bedrock: bedrockDescriptor,
};

for (const [type, d] of Object.entries(DESCRIPTORS)) {
  if (d.config.type !== type)
    throw new Error(`providers/descriptors.ts: the ${d.config.type} descriptor is listed as ${type}`);
}
