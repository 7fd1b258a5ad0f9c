/**
 * Pieces shared by the Gemini translators (both client formats): request parts, tool declarations, reading a
 * GenerateContentResponse, finish reasons, usage and tool-call ids. Pure.
 *
 * Gemini API (generativelanguage.googleapis.com/v1beta) shapes used here:
 *   request  {contents: [{role: "user"|"model", parts: [Part]}], systemInstruction: {parts}, tools:
 *            [{functionDeclarations}], toolConfig: {functionCallingConfig: {mode, allowedFunctionNames}},
 *            generationConfig: {temperature, topP, topK, maxOutputTokens, stopSequences, ...}}
 *   Part     {text} | {inlineData: {mimeType, data}} | {fileData: {mimeType?, fileUri}} |
 *            {functionCall: {id?, name, args}} | {functionResponse: {id?, name, response}}; `thought: true` marks
 *            reasoning summaries
 *   response {candidates: [{content: {role, parts}, finishReason, index}], promptFeedback?: {blockReason},
 *            usageMetadata, modelVersion, responseId}; a stream sends one such object per SSE `data:`.
 */
import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import type { Finish } from '../common/finish.js';
import {
  badResponse,
  invalidField,
  isRecord,
  type JsonObject,
  num,
  parseUpstreamJson,
  str,
  unsupported,
} from '../common/json.js';
import { mediaUrl } from '../common/openai-request.js';
import { BaseStream } from '../common/stream.js';
import type { ToolBuilder, ToolChoice } from '../common/tools.js';
import type { Usage } from '../types.js';
import { geminiStreamError } from './errors.js';

export type Part = JsonObject;

// ─── usage ──────────────────────────────────────────────────────────────────────────────────────────────

/**
 * usageMetadata → canonical Usage. `promptTokenCount` already includes `cachedContentTokenCount` (as OpenAI's
 * prompt_tokens does); tool-use prompt tokens are input too. `candidatesTokenCount` does NOT include
 * `thoughtsTokenCount` (totalTokenCount = prompt + toolUsePrompt + candidates + thoughts), and thoughts are
 * billed as output, so outputTokens = candidates + thoughts and reasoningTokens = thoughts.
 */
export function usageFromGemini(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const thoughts = num(u.thoughtsTokenCount);
  return {
    inputTokens: num(u.promptTokenCount) + num(u.toolUsePromptTokenCount),
    outputTokens: num(u.candidatesTokenCount) + thoughts,
    cachedInputTokens: num(u.cachedContentTokenCount),
    cacheCreationTokens: 0,
    reasoningTokens: thoughts,
    estimated: false,
  };
}

// ─── finish reasons ─────────────────────────────────────────────────────────────────────────────────────

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'LANGUAGE',
]);

/**
 * Gemini finishReason → neutral finish. Gemini says STOP even when the turn ends in function calls, so a turn
 * with a functionCall part is `tool_calls`. A blocked prompt (promptFeedback.blockReason) is `content_filter`.
 */
export function finishFromGemini(reason: unknown, sawToolCall: boolean): Finish {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  if (sawToolCall) return 'tool_calls';
  return 'stop'; // STOP, OTHER, MALFORMED_FUNCTION_CALL, FINISH_REASON_UNSPECIFIED, unknown
}

// ─── reading responses ──────────────────────────────────────────────────────────────────────────────────

export interface ToolCall {
  id: string;
  name: string;
  args: JsonObject;
}

/** One GenerateContentResponse (a whole body or one stream chunk), first candidate only. */
export interface GeminiChunk {
  text: string;
  toolCalls: ToolCall[];
  /** The candidate's finishReason, or the prompt's blockReason; undefined while a stream is going on. */
  finishReason: string | undefined;
  blocked: boolean;
  usage: Usage | undefined;
  model: string | undefined;
  responseId: string | undefined;
}

/** Anthropic and OpenAI both accept these characters in tool-call ids. */
function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '');
}

/**
 * Gemini's functionCall may carry an `id`; when it does not, one is synthesized from the response id and the
 * call's position in the turn (`call_<responseId>_<n>`). The id only has to pair a tool call with its result:
 * the request translators find the function name by id in the conversation, not in the id.
 */
export function toolCallId(fc: JsonObject, responseId: string | undefined, n: number): string {
  const own = str(fc.id);
  if (own !== undefined && own !== '') return own;
  const rid = responseId === undefined ? '' : safeId(responseId);
  return `call_${rid === '' ? 'gemini' : rid}_${n}`;
}

/**
 * Reads the first candidate of a response. `toolBase` numbers the synthesized tool-call ids across the chunks
 * of one stream. Thought parts (`thought: true`) are reasoning summaries: dropped.
 */
export function readChunk(d: JsonObject, toolBase = 0, responseIdOverride?: string): GeminiChunk {
  const responseId = str(d.responseId) ?? responseIdOverride;
  const out: GeminiChunk = {
    text: '',
    toolCalls: [],
    finishReason: undefined,
    blocked: false,
    usage: usageFromGemini(d.usageMetadata),
    model: str(d.modelVersion),
    responseId,
  };
  const cands = d.candidates;
  if (cands === undefined || (Array.isArray(cands) && cands.length === 0)) {
    const pf = d.promptFeedback;
    if (isRecord(pf) && typeof pf.blockReason === 'string') {
      out.finishReason = pf.blockReason;
      out.blocked = true;
    }
    return out;
  }
  if (!Array.isArray(cands)) throw badResponse('upstream Gemini response has a candidates field that is not an array');
  const c = cands[0];
  if (!isRecord(c)) throw badResponse('upstream Gemini response has a malformed candidate');
  if (typeof c.finishReason === 'string') out.finishReason = c.finishReason;
  const content = c.content;
  if (content === undefined) return out; // SAFETY stops may come with no content
  if (!isRecord(content)) throw badResponse('upstream Gemini candidate content is not an object');
  const parts = content.parts;
  if (parts === undefined) return out;
  if (!Array.isArray(parts)) throw badResponse('upstream Gemini candidate parts is not an array');
  for (const p of parts) {
    if (!isRecord(p)) throw badResponse('upstream Gemini response has a malformed part');
    if (p.thought === true) continue;
    if (typeof p.text === 'string') out.text += p.text;
    else if (p.functionCall !== undefined) {
      const fc = p.functionCall;
      if (!isRecord(fc) || typeof fc.name !== 'string') throw badResponse('upstream Gemini functionCall has no name');
      if (fc.args !== undefined && fc.args !== null && !isRecord(fc.args))
        throw badResponse('upstream Gemini functionCall args is not an object');
      out.toolCalls.push({
        id: toolCallId(fc, responseId, toolBase + out.toolCalls.length),
        name: fc.name,
        args: isRecord(fc.args) ? fc.args : {},
      });
    }
    // executableCode, codeExecutionResult, inlineData (generated images): no chat equivalent, dropped.
  }
  return out;
}

// ─── building requests ──────────────────────────────────────────────────────────────────────────────────

const EXT_MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** A `fileData` part for a URL (Gemini File API URIs, YouTube, public https URLs); mimeType guessed by extension. */
export function fileDataPart(url: string, mimeType?: string): Part {
  const fd: JsonObject = { fileUri: url };
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  const mime = mimeType ?? (ext === undefined ? undefined : EXT_MIME[ext]);
  if (mime !== undefined) fd.mimeType = mime;
  return { fileData: fd };
}

/** A `data:<mime>;base64,<data>` URL → inlineData; an http(s) URL → fileData. */
export function urlPart(url: string, param: string): Part {
  const m = mediaUrl(url, param);
  return 'url' in m ? fileDataPart(m.url) : { inlineData: { mimeType: m.mediaType, data: m.data } };
}

/** A functionDeclaration; the client's JSON Schema goes to `parametersJsonSchema` (full JSON Schema). */
export const functionDeclaration: ToolBuilder = (name, description, schema) => {
  const fd: JsonObject = { name };
  if (typeof description === 'string' && description !== '') fd.description = description;
  if (isRecord(schema)) fd.parametersJsonSchema = schema;
  return fd;
};

/**
 * The Gemini function response for a tool result: `{content}` (or `{error}` for a failed call). Ids are not
 * sent upstream (the Gemini API pairs calls and responses by name and order; its `id` field is optional).
 */
export function functionResponsePart(name: string, text: string, isError: boolean): Part {
  return { functionResponse: { name, response: isError ? { error: text } : { content: text } } };
}

/**
 * Builds `contents`: consecutive turns of one role are merged (Gemini wants the function responses of one
 * model turn in one user turn), empty turns dropped.
 */
export class ContentsBuilder {
  readonly contents: { role: 'user' | 'model'; parts: Part[] }[] = [];
  /** Tool-call id → function name, from the assistant turns seen so far (tool results carry only the id). */
  private readonly names = new Map<string, string>();

  push(role: 'user' | 'model', parts: Part[]): void {
    if (parts.length === 0) return;
    const last = this.contents[this.contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else this.contents.push({ role, parts });
  }

  functionCall(id: string, name: string, args: unknown): Part {
    this.names.set(id, name);
    return { functionCall: { name, args: isRecord(args) ? args : {} } };
  }

  nameFor(id: string, param: string): string {
    const n = this.names.get(id);
    if (n === undefined)
      throw invalidField(param, `no earlier assistant tool call has id ${JSON.stringify(id)} (Gemini needs its name)`);
    return n;
  }
}

const MODE: Record<ToolChoice['type'], string> = { auto: 'AUTO', none: 'NONE', required: 'ANY', tool: 'ANY' };

/** Neutral tool_choice → toolConfig (a named tool: ANY limited to it); undefined when absent. */
export function geminiToolConfig(c: ToolChoice | undefined): JsonObject | undefined {
  if (c === undefined) return undefined;
  const fcc: JsonObject = { mode: MODE[c.type] };
  if (c.type === 'tool') fcc.allowedFunctionNames = [c.name];
  return { functionCallingConfig: fcc };
}

/** The neutral pieces of a request both client formats produce. */
export function assemble(
  b: ContentsBuilder,
  system: string[],
  generationConfig: JsonObject,
  tools: JsonObject[] | undefined,
  tc: JsonObject | undefined,
): JsonObject {
  if (b.contents.length === 0) throw invalidField('messages', 'at least one user or assistant message is required');
  const out: JsonObject = { contents: b.contents };
  if (system.length > 0) out.systemInstruction = { parts: system.map((text) => ({ text })) };
  if (tools !== undefined && tools.length > 0) {
    out.tools = [{ functionDeclarations: tools }];
    if (tc !== undefined) out.toolConfig = tc;
  }
  if (Object.keys(generationConfig).length > 0) out.generationConfig = generationConfig;
  return out;
}

/** OpenAI reasoning_effort → thinkingConfig.thinkingBudget (the values Google's own OpenAI endpoint uses). */
export const THINKING_BUDGET: Record<string, number> = { none: 0, minimal: 0, low: 1024, medium: 8192, high: 24576 };

export function reasoningBudget(effort: unknown): number {
  const b = typeof effort === 'string' ? THINKING_BUDGET[effort] : undefined;
  if (b === undefined)
    throw unsupported('reasoning_effort', `value ${JSON.stringify(effort)} is not mapped for Gemini`);
  return b;
}

// ─── streams ────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A streamGenerateContent translator, either client format: each SSE `data:` is a whole response; the chunk
 * with a finishReason (or a prompt block) is the last, and since Gemini sends no end marker the closing
 * events are written when the upstream closes after it (`end`). An `{"error": …}` chunk ends the stream.
 */
export abstract class GeminiStream extends BaseStream {
  // `done`: true once a chunk carried a finishReason (or a prompt block): Gemini's last chunk.
  /** The response id (from the first chunk); numbers synthesized tool-call ids across chunks. */
  protected id = '';
  protected started = false;
  /** Function calls so far. */
  protected tools = 0;
  private finishReason: string | undefined;
  private closed = false;

  /** The client-format error event. */
  protected abstract errorEvent(err: GatewayError): SseEvent;
  /** Client events for one chunk (the first one opens the message). */
  protected abstract write(c: GeminiChunk, out: SseEvent[]): void;
  /** The closing events. */
  protected abstract closing(finish: Finish): SseEvent[];

  event(ev: SseEvent): SseEvent[] {
    if (this.error !== undefined || this.closed) return [];
    const d = parseUpstreamJson(ev.data, 'stream chunk');
    if (d.error !== undefined) {
      const err = geminiStreamError(d.error);
      this.error = err;
      this.done = true;
      return [this.errorEvent(err)];
    }
    const c = readChunk(d, this.tools, this.id === '' ? undefined : this.id);
    if (c.usage) this.u = c.usage;
    const out: SseEvent[] = [];
    this.write(c, out);
    if (c.finishReason !== undefined) {
      this.finishReason = c.finishReason;
      this.done = true;
    }
    return out;
  }

  override end(): SseEvent[] {
    if (!this.done || this.error !== undefined || this.closed) return [];
    this.closed = true;
    return this.closing(finishFromGemini(this.finishReason, this.tools > 0));
  }
}
