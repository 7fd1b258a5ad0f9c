/** `openai-compatible`: vLLM, llama.cpp, Ollama, TGI and hosted OpenAI-compatible APIs (config half; ADR 0046). */
import { defineProviderConfig } from '../type-config.js';

export const openAiCompatibleConfig = defineProviderConfig({
  type: 'openai-compatible',
  wire: 'openai',
  genAiName: 'openai',
  gatewayShape: {},
  modelsPath: '/models',
  docs: {
    wire: 'OpenAI',
    url: 'as `openai` (vLLM, llama.cpp, Ollama, TGI, Groq, Together, Mistral, DeepSeek, OpenRouter)',
    auth: '`Authorization: Bearer`, only when `auth` is set',
  },
  // No defaultEndpoint: spec.endpoint or spec.serviceRef is required.
});
