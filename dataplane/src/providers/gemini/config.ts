/** `gemini`: Google's Gemini API with an AI Studio key (config half of its descriptor; ADR 0046). */
import { defineProviderConfig } from '../type-config.js';

const DEFAULT_ENDPOINT = 'https://generativelanguage.googleapis.com/v1beta';

export const geminiConfig = defineProviderConfig({
  type: 'gemini',
  wire: 'gemini',
  genAiName: 'gcp.gemini',
  gatewayShape: {},
  docs: {
    wire: 'Gemini',
    url: `\`{endpoint}/models/{model}:generateContent\`, \`…:streamGenerateContent?alt=sse\` (default endpoint \`${DEFAULT_ENDPOINT}\`)`,
    auth: '`x-goog-api-key`',
  },
  defaultEndpoint: () => DEFAULT_ENDPOINT,
});
