/** `openai` as one descriptor (ADR 0046): config, adapter and the translators of the OpenAI wire. */
import type { ProviderDescriptor } from '../types.js';
import { openAiAdapter } from './adapter.js';
import { openAiConfig } from './config.js';
import { openAiToAnthropic } from './openai-to-anthropic-response.js';
import { openAiEmbeddings, openAiToOpenAi } from './openai-to-openai.js';

export const openAiDescriptor: ProviderDescriptor = {
  config: openAiConfig,
  adapter: openAiAdapter,
  translators: {
    wire: 'openai',
    chat: { openai: openAiToOpenAi, anthropic: openAiToAnthropic },
    embeddings: { openai: openAiEmbeddings },
    noEmbeddings: 'embeddings are only served in the OpenAI format',
  },
};
