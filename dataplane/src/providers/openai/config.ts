/** `openai`: OpenAI's API (the config half of its descriptor; ADR 0046). */
import { defineProviderConfig } from '../type-config.js';

export const openAiConfig = defineProviderConfig({
  type: 'openai',
  wire: 'openai',
  genAiName: 'openai',
  gatewayShape: {},
  modelsPath: '/models',
  docs: {
    wire: 'OpenAI',
    url: '`{endpoint}/chat/completions`, `{endpoint}/embeddings`',
    auth: '`Authorization: Bearer`',
  },
  defaultEndpoint: () => 'https://api.openai.com/v1',
});
