/** `anthropic` as one descriptor (ADR 0046): config, adapter and the translators of the Anthropic wire. */
import type { ProviderDescriptor } from '../types.js';
import { anthropicAdapter } from './adapter.js';
import { anthropicToAnthropic } from './anthropic-to-anthropic.js';
import { anthropicToOpenAi } from './anthropic-to-openai.js';
import { anthropicConfig } from './config.js';

export const anthropicDescriptor: ProviderDescriptor = {
  config: anthropicConfig,
  adapter: anthropicAdapter,
  translators: {
    wire: 'anthropic',
    chat: { openai: anthropicToOpenAi, anthropic: anthropicToAnthropic },
    noEmbeddings: 'model: Anthropic has no embeddings API; route this model to an OpenAI-wire provider',
  },
};
