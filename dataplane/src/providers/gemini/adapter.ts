/**
 * Gemini API (Google AI Studio keys): `{baseUrl}/models/{model}:generateContent`, streams from
 * `{baseUrl}/models/{model}:streamGenerateContent?alt=sse`, the key in `x-goog-api-key` (never in the URL, so it
 * cannot reach access logs). baseUrl defaults to https://generativelanguage.googleapis.com/v1beta. Pure.
 */
import { unsupported } from '../common/json.js';
import type { BuildRequestInput, ProviderAdapter, UpstreamRequest } from '../types.js';
import { anthropicToGeminiRequest } from './anthropic-to-gemini.js';
import { openAiToGeminiRequest } from './openai-to-gemini.js';

/** The path segment of a model: `gemini-2.5-flash` and `models/gemini-2.5-flash` both name the same model. */
export function geminiModelPath(model: string): string {
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  return `models/${encodeURIComponent(name)}`;
}

export const geminiAdapter: ProviderAdapter = {
  wire: 'gemini',
  buildRequest(input: BuildRequestInput): UpstreamRequest {
    const { provider, operation, clientFormat, body, upstreamModel, stream } = input;
    if (operation !== 'chat')
      throw unsupported('model', 'embeddings from a gemini provider are not implemented yet; route them elsewhere');
    const out = clientFormat === 'openai' ? openAiToGeminiRequest(body) : anthropicToGeminiRequest(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (provider.credential !== undefined) headers['x-goog-api-key'] = provider.credential;
    const method = stream ? ':streamGenerateContent?alt=sse' : ':generateContent';
    return {
      url: `${provider.baseUrl}/${geminiModelPath(upstreamModel)}${method}`,
      headers,
      body: JSON.stringify(out),
    };
  },
};
