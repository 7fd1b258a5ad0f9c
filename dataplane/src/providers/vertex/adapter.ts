/**
 * Google Cloud Vertex AI. `provider.baseUrl` is `{endpoint}/v1/projects/{project}/locations/{location}` (built
 * by the config translation). The publisher is chosen by the backend model name:
 * - `claude-*` → publisher `anthropic`: `…/publishers/anthropic/models/{model}:rawPredict` (streams:
 *   `:streamRawPredict`), an Anthropic Messages body without `model` and with
 *   `anthropic_version: "vertex-2023-10-16"`; answers are Anthropic's (wire `anthropic`).
 * - anything else → publisher `google`: `…/publishers/google/models/{model}:generateContent` (streams:
 *   `:streamGenerateContent?alt=sse`), the Gemini API body (wire `gemini`).
 * Auth is `Authorization: Bearer <access token>`; the token is resolved before (proxy/credentials.ts) and
 * passed in as `input.credential`. Pure.
 */
import type { WireFormat } from '../../../../contract/gateway-config.js';
import { GatewayError } from '../../errors.js';
import { anthropicPassthroughRequest } from '../anthropic/anthropic-to-anthropic.js';
import { openAiToAnthropicRequest } from '../anthropic/openai-to-anthropic.js';
import { unsupported } from '../common/json.js';
import { anthropicToGeminiRequest } from '../gemini/anthropic-to-gemini.js';
import { openAiToGeminiRequest } from '../gemini/openai-to-gemini.js';
import type { BuildRequestInput, ProviderAdapter, UpstreamRequest } from '../types.js';
import { isServiceAccountJson } from './service-account.js';

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export type VertexPublisher = 'google' | 'anthropic';

/** `claude-*` models are Anthropic's on Vertex; every other model is Google's (Gemini). */
export function vertexPublisher(model: string): VertexPublisher {
  return model.startsWith('claude-') ? 'anthropic' : 'google';
}

/** A model as a path segment: `models/` prefix accepted, `@` (Claude versions: `claude-sonnet-4-5@20250929`) kept. */
function modelSegment(model: string): string {
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  return encodeURIComponent(name).replace(/%40/g, '@');
}

export const vertexAdapter: ProviderAdapter = {
  wire: 'gemini',
  wireFor(upstreamModel: string): WireFormat {
    return vertexPublisher(upstreamModel) === 'anthropic' ? 'anthropic' : 'gemini';
  },
  buildRequest(input: BuildRequestInput): UpstreamRequest {
    const { provider, operation, clientFormat, body, upstreamModel, stream } = input;
    if (operation !== 'chat')
      throw unsupported('model', 'embeddings from a vertex-ai provider are not implemented yet; route them elsewhere');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let bearer = input.credential;
    if (bearer === undefined && provider.credential !== undefined) {
      // A service-account key must have been exchanged for a token; it is never sent as it is.
      if (isServiceAccountJson(provider.credential))
        throw new GatewayError('internal', `provider ${provider.id}: access token was not resolved`);
      bearer = provider.credential;
    }
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    const model = modelSegment(upstreamModel);

    if (vertexPublisher(upstreamModel) === 'anthropic') {
      const translated =
        clientFormat === 'anthropic'
          ? anthropicPassthroughRequest(body, upstreamModel)
          : openAiToAnthropicRequest(body, upstreamModel, stream);
      // Vertex takes the model from the URL and the API version from the body.
      const { model: _model, ...rest } = translated;
      const out = { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest };
      const beta = input.clientHeaders?.['anthropic-beta'];
      if (beta !== undefined) headers['anthropic-beta'] = beta;
      return {
        url: `${provider.baseUrl}/publishers/anthropic/models/${model}:${stream ? 'streamRawPredict' : 'rawPredict'}`,
        headers,
        body: JSON.stringify(out),
      };
    }
    const out = clientFormat === 'openai' ? openAiToGeminiRequest(body) : anthropicToGeminiRequest(body);
    return {
      url: `${provider.baseUrl}/publishers/google/models/${model}${stream ? ':streamGenerateContent?alt=sse' : ':generateContent'}`,
      headers,
      body: JSON.stringify(out),
    };
  },
};
