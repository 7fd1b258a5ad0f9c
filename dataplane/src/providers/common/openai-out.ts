/**
 * OpenAI chat.completions objects for OpenAI clients of any other wire: the non-streaming body, the
 * `chat.completion.chunk` stream with its usage chunk and `[DONE]`, error events, and the completion text of
 * a body (for usage estimation). Pure.
 */
import { errorBody, type GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import type { Usage } from '../types.js';
import { isRecord, type JsonObject } from './json.js';
import { OutputText } from './stream.js';
import { usageToOpenAi } from './usage.js';

export const DONE: SseEvent = Object.freeze({ data: '[DONE]' });

/** An OpenAI assistant tool call (arguments as the JSON string OpenAI sends). */
export function openAiToolCall(id: string, name: string, args: string): JsonObject {
  return { id, type: 'function', function: { name, arguments: args } };
}

/** A non-streaming `chat.completion` body with one choice. `text` null: no text part. */
export function openAiCompletion(
  id: string,
  created: number,
  model: string,
  text: string | null,
  toolCalls: JsonObject[],
  finish: string,
  usage: Usage | undefined,
): JsonObject {
  const message: JsonObject = { role: 'assistant', content: text, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const out: JsonObject = {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
  };
  if (usage) out.usage = usageToOpenAi(usage);
  return out;
}

/** The error event an OpenAI client gets mid-stream. */
export function openAiErrorEvent(err: GatewayError): SseEvent {
  return { data: JSON.stringify(errorBody(err, 'openai')) };
}

/**
 * Writes one `chat.completion.chunk` stream: id, created and model are set once the upstream named them;
 * text and tool-call deltas are kept for outputText().
 */
export class OpenAiChunkWriter {
  id = '';
  created = 0;
  model: string | undefined;
  private readonly output = new OutputText();

  constructor(
    private readonly wantsUsage: boolean,
    private readonly clientModel: string,
  ) {}

  chunk(delta: JsonObject, finish: string | null = null): SseEvent {
    const c: JsonObject = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model ?? this.clientModel,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (this.wantsUsage) c.usage = null;
    return { data: JSON.stringify(c) };
  }

  /** The first chunk: `role: assistant`. */
  role(): SseEvent {
    return this.chunk({ role: 'assistant', content: '' });
  }

  content(text: string): SseEvent {
    this.output.add(text);
    return this.chunk({ content: text });
  }

  /** The first chunk of tool call `index`: id, type, name and (possibly empty) arguments. */
  toolCallStart(index: number, id: string, name: string, args: string): SseEvent {
    this.output.add(name);
    this.output.add(args);
    return this.chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: args } }] });
  }

  toolCallArguments(index: number, args: string): SseEvent {
    this.output.add(args);
    return this.chunk({ tool_calls: [{ index, function: { arguments: args } }] });
  }

  /** The end of the stream: the usage chunk (when the client asked for usage and there is some), `[DONE]`. */
  tail(usage: Usage | undefined): SseEvent[] {
    if (!this.wantsUsage || !usage) return [DONE];
    const usageChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model ?? this.clientModel,
      choices: [],
      usage: usageToOpenAi(usage),
    };
    return [{ data: JSON.stringify(usageChunk) }, DONE];
  }

  outputText(): string {
    return this.output.text();
  }
}

/** The completion text of an OpenAI chat.completion body (message text, refusals, tool names and arguments). */
export function openAiBodyText(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.choices)) return '';
  const out = new OutputText();
  for (const c of body.choices) {
    const m = isRecord(c) ? c.message : undefined;
    if (!isRecord(m)) continue;
    if (typeof m.content === 'string') out.add(m.content);
    if (typeof m.refusal === 'string') out.add(m.refusal);
    if (Array.isArray(m.tool_calls)) for (const tc of m.tool_calls) addOpenAiToolCall(tc, out);
  }
  return out.text();
}

/** A tool call (whole or a stream delta): its name and arguments. */
export function addOpenAiToolCall(tc: unknown, out: OutputText): void {
  const f = isRecord(tc) ? tc.function : undefined;
  if (!isRecord(f)) return;
  if (typeof f.name === 'string') out.add(f.name);
  if (typeof f.arguments === 'string') out.add(f.arguments);
}
