/**
 * Reading an OpenAI chat.completions request for a wire that is not OpenAI: the parameters no other wire
 * takes, message walking (roles, text, tool calls, tool results), text and image parts. The request is typed
 * (api/schemas.ts checked its shape); what is left here are translation rules. Pure.
 */
import type { OpenAIContent, OpenAIContentPart } from '../../api/parts.js';
import type { OpenAIChatRequest, OpenAIMessage } from '../../api/schemas.js';
import { invalidField, isRecord, type JsonObject, set, unsupported } from './json.js';

/** Rejects what no translated wire can answer the same way; `target` names the provider in errors. */
export function rejectOpenAiOnly(body: OpenAIChatRequest, target: string): void {
  if (set(body.n) && body.n !== 1) throw unsupported('n', `${target} returns one choice; n must be 1`);
  if (body.logprobs === true) throw unsupported('logprobs', `${target} does not return log probabilities`);
  if (set(body.top_logprobs)) throw unsupported('top_logprobs', `${target} does not return log probabilities`);
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0)
    throw unsupported('logit_bias', `${target} has no token biasing`);
  if (set(body.functions) || set(body.function_call))
    throw unsupported(set(body.functions) ? 'functions' : 'function_call', 'deprecated; use tools and tool_choice');
  if (set(body.audio)) throw unsupported('audio', `${target} has no audio output`);
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== 'text'))
    throw unsupported('modalities', `${target} produces text only`);
  if (set(body.prediction)) throw unsupported('prediction', `${target} has no predicted outputs`);
  if (set(body.web_search_options)) throw unsupported('web_search_options', 'not available through translation');
}

/** `max_completion_tokens`, else `max_tokens` (either may be absent). */
export function openAiMaxTokens(body: OpenAIChatRequest): number | undefined {
  return body.max_completion_tokens ?? body.max_tokens ?? undefined;
}

/** `stop` / `stop_sequences`: a string or an array of strings → an array; undefined when absent or empty. */
export function stopSequences(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  if (typeof stop === 'string') return [stop];
  return stop.length > 0 ? stop : undefined;
}

/** Text content (system, assistant and tool messages): a string, or text/refusal parts joined with newlines. */
export function openAiText(content: OpenAIContent, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  let s = '';
  content.forEach((p, j) => {
    let t: string;
    if (p.type === 'text') t = p.text;
    else if (p.type === 'refusal') t = p.refusal;
    else throw unsupported(`${param}[${j}]`, 'only text parts are accepted here');
    s += s === '' ? t : `\n${t}`;
  });
  return s;
}

/** The URL of an `image_url` part (`{url}` or, leniently, a bare string). */
export function openAiImageUrl(part: Extract<OpenAIContentPart, { type: 'image_url' }>): string {
  const iu = part.image_url;
  return typeof iu === 'string' ? iu : iu.url;
}

/** A media URL: `data:<type>;base64,<data>` → its type and data; http(s) → the URL; anything else → 400. */
export function mediaUrl(url: string, param: string): { mediaType: string; data: string } | { url: string } {
  if (url.startsWith('data:')) {
    const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
    if (!m) throw invalidField(param, 'a data: URL must be base64 (data:<media type>;base64,...)');
    return { mediaType: m[1]!, data: m[2]! };
  }
  if (/^https?:\/\//i.test(url)) return { url };
  throw invalidField(param, 'must be an http(s) URL or a base64 data: URL');
}

/** An assistant tool call, its arguments parsed. */
export interface ToolCallIn {
  id: string;
  name: string;
  args: JsonObject;
}

/** Other wires take tool-call arguments as an object: the client's string must hold one. */
function parseArguments(args: string | null | undefined, param: string): JsonObject {
  if (args === undefined || args === null || args === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    if (!isRecord(v)) throw new Error('not an object');
    return v;
  } catch {
    throw invalidField(param, 'must be a JSON object encoded as a string');
  }
}

/** What a wire does with each message, in order. `param` is the message's (`messages[i]`). */
export interface OpenAiMessageSink {
  /** A system or developer message's text (non-empty). */
  system(text: string): void;
  /** A user message's content, as sent (parts are the wire's to convert). */
  user(content: OpenAIContent, param: string): void;
  /** An assistant turn: its text ('' for none; a refusal stands in for missing text) and tool calls. */
  assistant(text: string, toolCalls: ToolCallIn[]): void;
  /** A tool result; its content is read by the sink (openAiText). */
  tool(toolCallId: string, content: OpenAIContent, param: string): void;
}

/** Walks `messages` and hands each message to the sink. */
export function readOpenAiMessages(messages: readonly OpenAIMessage[], sink: OpenAiMessageSink): void {
  messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = openAiText(m.content, `${param}.content`);
        if (text !== '') sink.system(text);
        return;
      }
      case 'user':
        sink.user(m.content, param);
        return;
      case 'assistant': {
        let text = openAiText(m.content, `${param}.content`);
        if (text === '' && typeof m.refusal === 'string') text = m.refusal;
        const calls: ToolCallIn[] = [];
        m.tool_calls?.forEach((tc, k) => {
          const tp = `${param}.tool_calls[${k}]`;
          if (tc.type === 'custom') throw invalidField(tp, 'must be a function tool call');
          calls.push({
            id: tc.id,
            name: tc.function.name,
            args: parseArguments(tc.function.arguments, `${tp}.function.arguments`),
          });
        });
        sink.assistant(text, calls);
        return;
      }
      case 'tool':
        sink.tool(m.tool_call_id, m.content, param);
        return;
      case 'function':
        throw unsupported(`${param}.role`, 'role function is deprecated; use tools and role tool');
    }
  });
}
