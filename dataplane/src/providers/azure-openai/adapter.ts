/**
 * Azure OpenAI: the OpenAI wire on a deployment URL,
 * `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`, with the `api-key` header.
 * The upstream model of a route backend is the deployment name.
 */
import { createOpenAiWireAdapter, openAiFlavour } from '../openai/adapter.js';
import type { ProviderAdapter } from '../types.js';

import { DEFAULT_AZURE_API_VERSION } from './config.js';

export { DEFAULT_AZURE_API_VERSION };

export const azureOpenAiAdapter: ProviderAdapter = createOpenAiWireAdapter({
  url: (p, op, deployment) =>
    `${p.baseUrl}/openai/deployments/${encodeURIComponent(deployment)}/${op === 'embeddings' ? 'embeddings' : 'chat/completions'}?api-version=${encodeURIComponent((p.type === 'azure-openai' ? p.apiVersion : undefined) ?? DEFAULT_AZURE_API_VERSION)}`,
  headers: (p): Record<string, string> => (p.credential === undefined ? {} : { 'api-key': p.credential }),
  maxTokensField: openAiFlavour.maxTokensField,
});
