/** `anthropic`: Anthropic's Messages API (config half of its descriptor; ADR 0046). */
import { defineProviderConfig } from '../type-config.js';

export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropicConfig = defineProviderConfig({
  type: 'anthropic',
  wire: 'anthropic',
  genAiName: 'anthropic',
  gatewayShape: {},
  modelsPath: '/v1/models',
  docs: {
    wire: 'Anthropic',
    url: `\`{endpoint}/v1/messages\`, \`anthropic-version: ${ANTHROPIC_VERSION}\``,
    auth: '`x-api-key`',
  },
  defaultEndpoint: () => 'https://api.anthropic.com',
});
