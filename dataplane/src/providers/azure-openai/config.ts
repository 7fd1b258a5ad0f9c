/** `azure-openai`: Azure OpenAI deployments (config half of its descriptor; ADR 0046). */
import { z } from 'zod';
import { defineProviderConfig } from '../type-config.js';

/** Used when the LLMProvider has no `azure.apiVersion` (GA version with stream usage and max_completion_tokens). */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export const azureOpenAiConfig = defineProviderConfig({
  type: 'azure-openai',
  wire: 'openai',
  genAiName: 'azure.ai.openai',
  /** The api-version query parameter every request carries (the default when the spec has none). */
  gatewayShape: { apiVersion: z.string().min(1) },
  block: {
    key: 'azure',
    schema: z
      .object({
        apiVersion: z
          .string()
          .min(1)
          .default(DEFAULT_AZURE_API_VERSION)
          .describe('Azure OpenAI api-version query parameter.'),
      })
      .strict(),
    description: 'Azure OpenAI settings.',
  },
  docs: {
    wire: 'OpenAI',
    url: `\`{endpoint}/openai/deployments/{backend model}/chat/completions?api-version=…\` (default \`${DEFAULT_AZURE_API_VERSION}\`)`,
    auth: '`api-key`',
  },
  // No defaultEndpoint: each Azure resource has its own host.
  gatewayFields: (block) => ({ apiVersion: block?.apiVersion ?? DEFAULT_AZURE_API_VERSION }),
});
