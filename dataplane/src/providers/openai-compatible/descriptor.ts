/** `openai-compatible` as one descriptor (ADR 0046): the OpenAI wire (its translators are openai's). */
import type { ProviderDescriptor } from '../types.js';
import { openAiCompatibleAdapter } from './adapter.js';
import { openAiCompatibleConfig } from './config.js';

export const openAiCompatibleDescriptor: ProviderDescriptor = {
  config: openAiCompatibleConfig,
  adapter: openAiCompatibleAdapter,
};
