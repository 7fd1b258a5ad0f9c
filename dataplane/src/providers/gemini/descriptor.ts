/** `gemini` as one descriptor (ADR 0046): config, adapter and the translators of the Gemini wire. */
import type { ProviderDescriptor } from '../types.js';
import { geminiAdapter } from './adapter.js';
import { geminiConfig } from './config.js';
import { geminiToAnthropic } from './gemini-to-anthropic.js';
import { geminiToOpenAi } from './gemini-to-openai.js';

export const geminiDescriptor: ProviderDescriptor = {
  config: geminiConfig,
  adapter: geminiAdapter,
  translators: {
    wire: 'gemini',
    chat: { openai: geminiToOpenAi, anthropic: geminiToAnthropic },
    noEmbeddings: 'model: embeddings from a gemini provider are not implemented yet; route them elsewhere',
  },
};
