/**
 * The OpenAI-wire adapter base, shared by `openai`, `openai-compatible` and `azure-openai`: they differ only in
 * URL, auth header and which max-tokens field they take. Pure: builds the request, never sends it.
 */
import type { ProviderConfig } from '../../../../contract/gateway-config.js';
import { unsupported } from '../common/json.js';
import type { BuildRequestInput, Operation, ProviderAdapter, UpstreamRequest } from '../types.js';
import { type AnthropicToOpenAiOptions, anthropicToOpenAiRequest } from './anthropic-to-openai-request.js';
import { openAiPassthroughRequest } from './openai-to-openai.js';

export interface OpenAiWireFlavour {
  url(provider: ProviderConfig, operation: Operation, upstreamModel: string): string;
  headers(provider: ProviderConfig): Record<string, string>;
  maxTokensField: AnthropicToOpenAiOptions['maxTokensField'];
}

export function createOpenAiWireAdapter(flavour: OpenAiWireFlavour): ProviderAdapter {
  const options: AnthropicToOpenAiOptions = { maxTokensField: flavour.maxTokensField };
  return {
    wire: 'openai',
    buildRequest(input: BuildRequestInput): UpstreamRequest {
      const { provider, operation, clientFormat, body, upstreamModel, stream } = input;
      let out: Record<string, unknown>;
      if (operation === 'embeddings') {
        if (clientFormat !== 'openai') throw unsupported('model', 'embeddings are only served in the OpenAI format');
        out = { ...body, model: upstreamModel };
      } else if (clientFormat === 'openai') out = openAiPassthroughRequest(body, upstreamModel, stream);
      else out = anthropicToOpenAiRequest(body, upstreamModel, stream, options);
      return {
        url: flavour.url(provider, operation, upstreamModel),
        headers: { 'content-type': 'application/json', ...flavour.headers(provider) },
        body: JSON.stringify(out),
      };
    },
  };
}

function path(operation: Operation): string {
  return operation === 'embeddings' ? '/embeddings' : '/chat/completions';
}

/** `{baseUrl}/chat/completions`, `{baseUrl}/embeddings`, `Authorization: Bearer`. */
export const openAiFlavour: OpenAiWireFlavour = {
  url: (p, op) => p.baseUrl + path(op),
  headers: (p): Record<string, string> =>
    p.credential === undefined ? {} : { authorization: `Bearer ${p.credential}` },
  maxTokensField: 'max_completion_tokens',
};

export const openAiAdapter: ProviderAdapter = createOpenAiWireAdapter(openAiFlavour);
