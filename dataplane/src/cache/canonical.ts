/**
 * The canonical answer (ADR 0073): one chat answer in a form that does not depend on the client format it was
 * captured from, built from what the client was sent (the translated body, or the translated stream events the
 * relay wrote), so there is one capture per client format instead of one per provider wire. Replayed by
 * replay.ts in whichever format a later request asks for. Pure; it runs only on routes with a cache.
 *
 * Only what can be re-rendered faithfully is captured: text, tool calls (id, name, arguments), the stop, the
 * stop sequence and the system fingerprint. An answer with anything else (several choices, logprobs, a model
 * refusal, thinking or server-tool blocks, citations, audio) is not capturable: `undefined`, never stored.
 */
import { isRecord } from '../providers/common/json.js';
import type { Usage } from '../providers/types.js';
import type { CanonicalAnswer, CanonicalStop } from './types.js';

/** Layout version of ChatContent; bump it when the layout changes (older entries then read as misses). */
export const CANONICAL_VERSION = 1;

export interface TextBlock {
  readonly type: 'text';
  readonly text: string;
}

export interface ToolCallBlock {
  readonly type: 'tool_call';
  readonly id: string;
  readonly name: string;
  /** The arguments as the JSON text OpenAI sends (Anthropic `input` serialised); '' for none. */
  readonly arguments: string;
}

export type CanonicalBlock = TextBlock | ToolCallBlock;

/** CanonicalAnswer.content of a chat answer. */
export interface ChatContent {
  /** The model the client was shown (`model` of the body or of the first chunk / message_start). */
  readonly model: string | undefined;
  /** Text and tool calls in the order they came; no empty text blocks. */
  readonly blocks: readonly CanonicalBlock[];
  /** Anthropic `stop_sequence` (the sequence that matched); null when none or unknown (OpenAI never says). */
  readonly stopSequence: string | null;
  /** OpenAI `system_fingerprint`, kept: it describes the system that produced this very answer. */
  readonly systemFingerprint: string | null;
}

export interface ChatAnswer extends CanonicalAnswer {
  readonly content: ChatContent;
}

/** Per-route choices of what is stored. */
export interface CaptureOptions {
  /** Store answers cut by the token limit (stop `length`) too. Default false. */
  readonly storeLength?: boolean;
}

/** OpenAI finish_reason → the canonical stop; undefined: no finish (or one Tollgate does not know). */
export function stopFromOpenAi(finish: unknown): CanonicalStop | undefined {
  switch (finish) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    case null:
    case undefined:
      return undefined;
    default:
      return 'other';
  }
}

/** Anthropic stop_reason → the canonical stop (`pause_turn`: the turn is not over, `other`). */
export function stopFromAnthropic(stop: unknown): CanonicalStop | undefined {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case null:
    case undefined:
      return undefined;
    default:
      return 'other';
  }
}

/**
 * Whether an answer that ended with `stop` is stored: complete answers (`stop`, `tool_calls`), and answers cut by
 * the token limit only when the route says so. Refusals (`content_filter`) and unknown stops never are.
 */
export function storableStop(stop: CanonicalStop, options: CaptureOptions | undefined): boolean {
  switch (stop) {
    case 'stop':
    case 'tool_calls':
      return true;
    case 'length':
      return options?.storeLength === true;
    default:
      return false;
  }
}

/** Tool arguments replay can render for Anthropic clients (an `input` object): '' or a JSON object's text. */
export function renderableArguments(args: string): boolean {
  if (args === '') return true;
  try {
    return isRecord(JSON.parse(args));
  } catch {
    return false;
  }
}

/** The answer, when every block can be replayed and the stop is one that is stored; otherwise undefined. */
export function chatAnswer(
  blocks: CanonicalBlock[],
  stop: CanonicalStop | undefined,
  model: string | undefined,
  stopSequence: string | null,
  systemFingerprint: string | null,
  usage: Usage | undefined,
  responseModel: string | undefined,
  options: CaptureOptions | undefined,
): ChatAnswer | undefined {
  if (stop === undefined || !storableStop(stop, options)) return undefined;
  const kept: CanonicalBlock[] = [];
  for (const b of blocks) {
    if (b.type === 'text') {
      if (b.text !== '') kept.push(b);
    } else if (renderableArguments(b.arguments)) kept.push(b);
    else return undefined;
  }
  return {
    v: CANONICAL_VERSION,
    operation: 'chat',
    responseModel: responseModel ?? model,
    usage,
    stop,
    content: { model, blocks: kept, stopSequence: stop === 'stop' ? stopSequence : null, systemFingerprint },
  };
}

// ─── whole answers ───────────────────────────────────────────────────────────────────────────────────

/** A non-streaming OpenAI chat.completion as sent to the client. */
export function fromOpenAiBody(
  body: unknown,
  usage: Usage | undefined,
  options?: CaptureOptions,
): ChatAnswer | undefined {
  if (!isRecord(body) || !Array.isArray(body.choices) || body.choices.length !== 1) return undefined;
  const choice = body.choices[0];
  if (!isRecord(choice) || (choice.logprobs !== undefined && choice.logprobs !== null)) return undefined;
  const m = choice.message;
  if (!isRecord(m) || !plainOpenAiMessage(m)) return undefined;
  const blocks: CanonicalBlock[] = [];
  if (typeof m.content === 'string') blocks.push({ type: 'text', text: m.content });
  else if (m.content !== null && m.content !== undefined) return undefined;
  if (Array.isArray(m.tool_calls))
    for (const tc of m.tool_calls) {
      const f = isRecord(tc) ? tc.function : undefined;
      if (!isRecord(tc) || typeof tc.id !== 'string' || !isRecord(f) || typeof f.name !== 'string') return undefined;
      const args = typeof f.arguments === 'string' ? f.arguments : '';
      blocks.push({ type: 'tool_call', id: tc.id, name: f.name, arguments: args });
    }
  const fp = typeof body.system_fingerprint === 'string' ? body.system_fingerprint : null;
  return chatAnswer(blocks, stopFromOpenAi(choice.finish_reason), str(body.model), null, fp, usage, undefined, options);
}

/** A message with nothing replay would lose: no refusal text, audio, annotations or legacy function_call. */
function plainOpenAiMessage(m: Record<string, unknown>): boolean {
  if (typeof m.refusal === 'string' && m.refusal !== '') return false;
  if (m.audio !== undefined && m.audio !== null) return false;
  if ((m.function_call !== undefined && m.function_call !== null) || hasReasoning(m)) return false;
  return !(Array.isArray(m.annotations) && m.annotations.length > 0);
}

/**
 * Reasoning text some OpenAI-compatible servers add to a message or delta (`reasoning_content`: DeepSeek, vLLM;
 * `reasoning`: OpenRouter), passed through to OpenAI clients: the form does not carry it, so such an answer is
 * not captured.
 */
export function hasReasoning(m: Record<string, unknown>): boolean {
  return (
    (typeof m.reasoning_content === 'string' && m.reasoning_content !== '') ||
    (typeof m.reasoning === 'string' && m.reasoning !== '')
  );
}

/** A non-streaming Anthropic message as sent to the client. */
export function fromAnthropicBody(
  body: unknown,
  usage: Usage | undefined,
  options?: CaptureOptions,
): ChatAnswer | undefined {
  if (!isRecord(body) || body.type !== 'message' || !Array.isArray(body.content)) return undefined;
  const blocks: CanonicalBlock[] = [];
  for (const b of body.content) {
    const block = anthropicBlock(b);
    if (block === undefined) return undefined;
    blocks.push(block);
  }
  const seq = typeof body.stop_sequence === 'string' ? body.stop_sequence : null;
  return chatAnswer(blocks, stopFromAnthropic(body.stop_reason), str(body.model), seq, null, usage, undefined, options);
}

/** A text or tool_use content block (whole, or as a stream's content_block_start); anything else: undefined. */
export function anthropicBlock(b: unknown): CanonicalBlock | undefined {
  if (!isRecord(b)) return undefined;
  if (b.type === 'text') {
    if (typeof b.text !== 'string' || (Array.isArray(b.citations) && b.citations.length > 0)) return undefined;
    return { type: 'text', text: b.text };
  }
  if (b.type === 'tool_use') {
    if (typeof b.id !== 'string' || typeof b.name !== 'string' || !isRecord(b.input)) return undefined;
    const args = Object.keys(b.input).length === 0 ? '' : JSON.stringify(b.input);
    return { type: 'tool_call', id: b.id, name: b.name, arguments: args };
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * True when a stored answer has this version's chat layout (the store reads JSON from Redis: an entry written by
 * another version, or damaged, must be a miss, never a misrendered answer).
 */
export function isChatAnswer(a: unknown): a is ChatAnswer {
  if (!isRecord(a) || a.v !== CANONICAL_VERSION || a.operation !== 'chat' || typeof a.stop !== 'string') return false;
  const c = a.content;
  if (!isRecord(c) || !Array.isArray(c.blocks)) return false;
  if (!(c.model === undefined || typeof c.model === 'string')) return false;
  if (!(c.stopSequence === null || typeof c.stopSequence === 'string')) return false;
  if (!(c.systemFingerprint === null || typeof c.systemFingerprint === 'string')) return false;
  for (const b of c.blocks) {
    if (!isRecord(b)) return false;
    if (b.type === 'text' ? typeof b.text !== 'string' : !isToolCall(b)) return false;
  }
  return true;
}

function isToolCall(b: Record<string, unknown>): boolean {
  return (
    b.type === 'tool_call' &&
    typeof b.id === 'string' &&
    typeof b.name === 'string' &&
    typeof b.arguments === 'string' &&
    renderableArguments(b.arguments)
  );
}
