/**
 * Usage conversion between the wire formats and the canonical `Usage` (see types.ts: inputTokens includes
 * cache reads and writes, as OpenAI's prompt_tokens does; Anthropic's input_tokens excludes them).
 */
import type { Usage } from '../types.js';
import { isRecord, num } from './json.js';

/** No tokens (a response that reported none, rendered to a client whose format needs a usage object). */
export const ZERO_USAGE: Readonly<Usage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheCreationTokens: 0,
  reasoningTokens: 0,
  estimated: false,
});

export function usageFromOpenAi(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const pd = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : undefined;
  const cd = isRecord(u.completion_tokens_details) ? u.completion_tokens_details : undefined;
  return {
    inputTokens: num(u.prompt_tokens),
    outputTokens: num(u.completion_tokens),
    cachedInputTokens: pd ? num(pd.cached_tokens) : 0,
    cacheCreationTokens: 0,
    reasoningTokens: cd ? num(cd.reasoning_tokens) : 0,
    estimated: false,
  };
}

/**
 * Usage from a wire whose input count EXCLUDES cache reads and writes (Anthropic's input_tokens, Bedrock
 * Converse's inputTokens): canonical inputTokens is the sum of the three.
 */
export function usageFromUncachedInput(uncachedInput: unknown, output: unknown, read: unknown, write: unknown): Usage {
  const r = num(read);
  const w = num(write);
  return {
    inputTokens: num(uncachedInput) + r + w,
    outputTokens: num(output),
    cachedInputTokens: r,
    cacheCreationTokens: w,
    reasoningTokens: 0,
    estimated: false,
  };
}

export function usageFromAnthropic(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  return usageFromUncachedInput(
    u.input_tokens,
    u.output_tokens,
    u.cache_read_input_tokens,
    u.cache_creation_input_tokens,
  );
}

/** Anthropic streams report usage twice: message_start (input) and message_delta (cumulative; may omit input). */
export function mergeAnthropicDeltaUsage(prev: Usage | undefined, u: unknown): Usage | undefined {
  if (!isRecord(u)) return prev;
  const base = prev ?? ZERO_USAGE;
  const read = typeof u.cache_read_input_tokens === 'number' ? u.cache_read_input_tokens : base.cachedInputTokens;
  const write =
    typeof u.cache_creation_input_tokens === 'number' ? u.cache_creation_input_tokens : base.cacheCreationTokens;
  const uncached =
    typeof u.input_tokens === 'number'
      ? u.input_tokens
      : base.inputTokens - base.cachedInputTokens - base.cacheCreationTokens;
  return {
    inputTokens: uncached + read + write,
    outputTokens: typeof u.output_tokens === 'number' ? u.output_tokens : base.outputTokens,
    cachedInputTokens: read,
    cacheCreationTokens: write,
    reasoningTokens: 0,
    estimated: false,
  };
}

export function usageToOpenAi(u: Usage): Record<string, unknown> {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function usageToAnthropic(u: Usage): Record<string, unknown> {
  return {
    input_tokens: Math.max(0, u.inputTokens - u.cachedInputTokens - u.cacheCreationTokens),
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: u.cacheCreationTokens,
    cache_read_input_tokens: u.cachedInputTokens,
  };
}
