/**
 * Azure OpenAI: the OpenAI wire on a deployment URL,
 * `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`, with the `api-key` header.
 * The upstream model of a route backend is the deployment name.
 */
import { createOpenAiWireAdapter, openAiFlavour } from '../openai/adapter.js';
import type { ProviderAdapter } from '../types.js';

/** Used when the LLMProvider has no `azure.apiVersion` (GA version with stream usage and max_completion_tokens). */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export const azureOpenAiAdapter: ProviderAdapter = createOpenAiWireAdapter({
  url: (p, op, deployment) =>
    `${p.baseUrl}/openai/deployments/${encodeURIComponent(deployment)}/${op === 'embeddings' ? 'embeddings' : 'chat/completions'}?api-version=${encodeURIComponent(p.apiVersion ?? DEFAULT_AZURE_API_VERSION)}`,
  headers: (p): Record<string, string> => (p.credential === undefined ? {} : { 'api-key': p.credential }),
  maxTokensField: openAiFlavour.maxTokensField,
});
