/**
 * Anthropic Messages API: `{baseUrl}/v1/messages`, `x-api-key`, `anthropic-version: 2023-06-01`, and the
 * client's `anthropic-beta` when it sent one. Pure.
 */
import { unsupported } from '../common/json.js';
import type { BuildRequestInput, ProviderAdapter, UpstreamRequest } from '../types.js';
import { anthropicPassthroughRequest } from './anthropic-to-anthropic.js';
import { ANTHROPIC_VERSION } from './config.js';
import { openAiToAnthropicRequest } from './openai-to-anthropic.js';

export { ANTHROPIC_VERSION };

export const anthropicAdapter: ProviderAdapter = {
  wire: 'anthropic',
  buildRequest(input: BuildRequestInput): UpstreamRequest {
    const { provider, operation, clientFormat, body, upstreamModel, stream } = input;
    if (operation !== 'chat')
      throw unsupported('model', 'Anthropic has no embeddings API; route this model to an OpenAI-wire provider');
    const out =
      clientFormat === 'anthropic'
        ? anthropicPassthroughRequest(body, upstreamModel)
        : openAiToAnthropicRequest(body, upstreamModel, stream);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
    };
    if (provider.credential !== undefined) headers['x-api-key'] = provider.credential;
    // The client's opt-in to Anthropic beta features (comma-separated list, as Anthropic takes it).
    const beta = input.clientHeaders?.['anthropic-beta'];
    if (beta !== undefined) headers['anthropic-beta'] = beta;
    return { url: `${provider.baseUrl}/v1/messages`, headers, body: JSON.stringify(out) };
  },
};
