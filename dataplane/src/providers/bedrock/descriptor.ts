/** `bedrock` as one descriptor (ADR 0046): config, adapter (SigV4 or API key) and the Converse translators. */
import type { ProviderDescriptor } from '../types.js';
import { bedrockAdapter } from './adapter.js';
import { bedrockToAnthropic } from './bedrock-to-anthropic.js';
import { bedrockToOpenAi } from './bedrock-to-openai.js';
import { bedrockConfig } from './config.js';

export const bedrockDescriptor: ProviderDescriptor = {
  config: bedrockConfig,
  adapter: bedrockAdapter,
  translators: {
    wire: 'bedrock',
    chat: { openai: bedrockToOpenAi, anthropic: bedrockToAnthropic },
    noEmbeddings: 'model: embeddings from a bedrock provider are not implemented yet; route them elsewhere',
  },
};
