/** `azure-openai` as one descriptor (ADR 0046): the OpenAI wire (its translators are openai's). */
import type { ProviderDescriptor } from '../types.js';
import { azureOpenAiAdapter } from './adapter.js';
import { azureOpenAiConfig } from './config.js';

export const azureOpenAiDescriptor: ProviderDescriptor = {
  config: azureOpenAiConfig,
  adapter: azureOpenAiAdapter,
};
