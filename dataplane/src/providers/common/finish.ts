/**
 * Finish reasons between the client formats. OpenAI's `finish_reason` spelling is the neutral one: wires that
 * are neither OpenAI nor Anthropic (Gemini) map into it, and Anthropic clients get it through
 * stopReasonFromOpenAi. Pure.
 */

/** The neutral finish, spelled as OpenAI's finish_reason (so OpenAI clients get it as it is). */
export type Finish = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** OpenAI finish_reason (or a neutral Finish) → Anthropic stop_reason. */
export function stopReasonFromOpenAi(finish: unknown): string {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** Anthropic stop_reason → OpenAI finish_reason. */
export function finishReasonFromAnthropic(stop: unknown): Finish {
  switch (stop) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn, null
      return 'stop';
  }
}
