/**
 * OpenAI-compatible servers (vLLM, llama.cpp server, Ollama, TGI, Groq, Together, Mistral, DeepSeek, OpenRouter):
 * the OpenAI base with an optional credential and the classic `max_tokens` field, which they all take.
 */
import { createOpenAiWireAdapter, openAiFlavour } from '../openai/adapter.js';
import type { ProviderAdapter } from '../types.js';

export const openAiCompatibleAdapter: ProviderAdapter = createOpenAiWireAdapter({
  ...openAiFlavour,
  maxTokensField: 'max_tokens',
});
