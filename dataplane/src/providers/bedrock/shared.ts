/**
 * Pieces shared by the Bedrock Converse translators (both client formats): request content blocks, tool
 * configuration, reading a Converse answer, stop reasons, usage and ids. Pure (ids aside: Converse answers carry
 * none, so one is made from random bytes).
 *
 * Converse API shapes used here (bedrock-runtime `POST /model/{modelId}/converse`):
 *   request  {messages: [{role: "user"|"assistant", content: [Block]}], system: [{text} | {cachePoint}],
 *            inferenceConfig: {maxTokens, temperature, topP, stopSequences},
 *            toolConfig: {tools: [{toolSpec: {name, description, inputSchema: {json}}}],
 *                         toolChoice: {auto: {}} | {any: {}} | {tool: {name}}}}
 *   Block    {text} | {image: {format: png|jpeg|gif|webp, source: {bytes: <base64>}}} |
 *            {toolUse: {toolUseId, name, input}} | {toolResult: {toolUseId, content: [{text} | {image}], status}} |
 *            {cachePoint: {type: "default"}} | {reasoningContent: ...} (answers only; dropped)
 *   response {output: {message: {role, content: [Block]}}, stopReason, usage: {inputTokens, outputTokens,
 *            totalTokens, cacheReadInputTokens?, cacheWriteInputTokens?}, metrics: {latencyMs}}
 *   stream   messageStart {role} · contentBlockStart {contentBlockIndex, start: {toolUse: {toolUseId, name}}} ·
 *            contentBlockDelta {contentBlockIndex, delta: {text} | {toolUse: {input: <partial JSON>}} |
 *            {reasoningContent}} · contentBlockStop {contentBlockIndex} · messageStop {stopReason} ·
 *            metadata {usage, metrics}; exceptions arrive as events named e.g. `throttlingException`.
 */
import { randomBytes } from 'node:crypto';
import { type Finish, finishReasonFromAnthropic } from '../common/finish.js';
import { badResponse, invalidField, isRecord, type JsonObject, str, unsupported } from '../common/json.js';
import { mediaUrl } from '../common/openai-request.js';
import type { ToolBuilder, ToolChoice } from '../common/tools.js';
import { usageFromUncachedInput } from '../common/usage.js';
import type { Usage } from '../types.js';

export type Block = JsonObject;

// ─── usage ──────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Converse usage → canonical Usage. Converse's `inputTokens` does NOT include `cacheReadInputTokens` and
 * `cacheWriteInputTokens` (it counts only the uncached input, like Anthropic's input_tokens; totalTokens is the sum
 * of all four), so inputTokens = inputTokens + cacheRead + cacheWrite.
 */
export function usageFromBedrock(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  return usageFromUncachedInput(u.inputTokens, u.outputTokens, u.cacheReadInputTokens, u.cacheWriteInputTokens);
}

// ─── stop reasons ───────────────────────────────────────────────────────────────────────────────────────

/**
 * Converse stopReason → Anthropic stop_reason. Converse speaks Anthropic's spelling (end_turn, tool_use,
 * max_tokens, stop_sequence, model_context_window_exceeded) plus two reasons of its own for filtered answers;
 * OpenAI clients get it through common/finish.ts. Unknown reasons end the turn.
 */
export function stopReasonFromBedrock(stopReason: string | undefined): string {
  switch (stopReason) {
    case 'tool_use':
    case 'max_tokens':
    case 'stop_sequence':
    case 'model_context_window_exceeded':
      return stopReason;
    case 'content_filtered':
    case 'guardrail_intervened':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** Converse stopReason → OpenAI finish_reason (through the Anthropic spelling). */
export function finishFromBedrock(stopReason: string | undefined): Finish {
  return finishReasonFromAnthropic(stopReasonFromBedrock(stopReason));
}

// ─── ids ────────────────────────────────────────────────────────────────────────────────────────────────

/** Converse answers have no id: `chatcmpl-bedrock-<24 hex>` / `msg_bedrock_<24 hex>`. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

// ─── reading answers ────────────────────────────────────────────────────────────────────────────────────

export interface ToolCall {
  id: string;
  name: string;
  input: unknown;
}

export interface ConverseOutput {
  text: string;
  toolCalls: ToolCall[];
  stopReason: string | undefined;
  usage: Usage | undefined;
}

export function readConverse(body: unknown): ConverseOutput {
  if (!isRecord(body) || !isRecord(body.output)) throw badResponse('upstream Bedrock response has no output');
  const msg = body.output.message;
  if (!isRecord(msg) || !Array.isArray(msg.content))
    throw badResponse('upstream Bedrock response has no output.message.content');
  const out: ConverseOutput = {
    text: '',
    toolCalls: [],
    stopReason: str(body.stopReason),
    usage: usageFromBedrock(body.usage),
  };
  for (const b of msg.content) {
    if (!isRecord(b)) throw badResponse('upstream Bedrock response has a malformed content block');
    if (typeof b.text === 'string') out.text += b.text;
    else if (b.toolUse !== undefined) {
      const tu = b.toolUse;
      if (!isRecord(tu) || typeof tu.toolUseId !== 'string' || typeof tu.name !== 'string')
        throw badResponse('upstream Bedrock toolUse block has no toolUseId or name');
      out.toolCalls.push({ id: tu.toolUseId, name: tu.name, input: tu.input ?? {} });
    }
    // reasoningContent, citationsContent, image/document/video outputs: no chat equivalent here, dropped.
  }
  return out;
}

// ─── building requests ──────────────────────────────────────────────────────────────────────────────────

const IMAGE_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** An image block from base64 bytes; Converse takes png, jpeg, gif and webp. */
export function imageBlock(mediaType: string, data: string, param: string): Block {
  const format = IMAGE_FORMATS[mediaType.toLowerCase()];
  if (format === undefined)
    throw unsupported(param, `image type ${mediaType} is not accepted by Bedrock (png, jpeg, gif, webp)`);
  return { image: { format, source: { bytes: data } } };
}

/** A `data:<type>;base64,` URL → image block. Bedrock cannot fetch http(s) URLs (only bytes or S3 locations). */
export function imageUrlBlock(url: string, param: string): Block {
  // Kept apart from the other wires' media URLs: any URL that is not `data:` (http(s) included) is a feature
  // Bedrock lacks (unsupported_parameter), not a malformed field.
  if (!url.startsWith('data:'))
    throw unsupported(param, 'Bedrock does not fetch image URLs; send the image as a base64 data: URL');
  const m = mediaUrl(url, param) as { mediaType: string; data: string };
  return imageBlock(m.mediaType, m.data, param);
}

export const CACHE_POINT: Block = { cachePoint: { type: 'default' } };

/** A Converse tool (the ToolBuilder for common/tools.ts readers); an empty description is left out. */
export const toolSpec: ToolBuilder = (name, description, schema) => {
  const spec: JsonObject = {
    name,
    inputSchema: { json: isRecord(schema) ? schema : { type: 'object', properties: {} } },
  };
  if (typeof description === 'string' && description !== '') spec.description = description;
  return { toolSpec: spec };
};

/** Neutral tool_choice → Converse toolChoice; `none` has no Converse form (see assemble). */
function converseToolChoice(c: ToolChoice): JsonObject | undefined {
  switch (c.type) {
    case 'auto':
      return { auto: {} };
    case 'required':
      return { any: {} };
    case 'tool':
      return { tool: { name: c.name } };
    case 'none':
      return undefined;
  }
}

/** Builds `messages`: consecutive turns of one role are merged (Converse wants roles to alternate). */
export class MessagesBuilder {
  readonly messages: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  /** True once a toolUse or toolResult block went in (Converse then requires a toolConfig). */
  hasToolBlocks = false;

  push(role: 'user' | 'assistant', content: Block[]): void {
    if (content.length === 0) return;
    const last = this.messages[this.messages.length - 1];
    if (last && last.role === role) last.content.push(...content);
    else this.messages.push({ role, content });
  }

  toolUse(id: string, name: string, input: unknown): Block {
    this.hasToolBlocks = true;
    return { toolUse: { toolUseId: id, name, input: isRecord(input) ? input : {} } };
  }

  toolResult(id: string, content: Block[], isError: boolean): Block {
    this.hasToolBlocks = true;
    const tr: JsonObject = { toolUseId: id, content: content.length > 0 ? content : [{ text: '' }] };
    if (isError) tr.status = 'error';
    return { toolResult: tr };
  }
}

/**
 * The neutral pieces both client formats produce. Converse has no tool_choice "none": the tools are then left
 * out, unless the conversation already holds tool blocks (Converse rejects those without a toolConfig), in which
 * case they are sent without a toolChoice.
 */
export function assemble(
  b: MessagesBuilder,
  system: Block[],
  inference: JsonObject,
  tools: Block[] | undefined,
  choice: ToolChoice | undefined,
): JsonObject {
  if (b.messages.length === 0) throw invalidField('messages', 'at least one user or assistant message is required');
  const out: JsonObject = { messages: b.messages };
  if (system.length > 0) out.system = system;
  if (Object.keys(inference).length > 0) out.inferenceConfig = inference;
  if (tools !== undefined && tools.length > 0 && (choice?.type !== 'none' || b.hasToolBlocks)) {
    const tc: JsonObject = { tools };
    const toolChoice = choice === undefined ? undefined : converseToolChoice(choice);
    if (toolChoice !== undefined) tc.toolChoice = toolChoice;
    out.toolConfig = tc;
  }
  return out;
}

/**
 * OpenAI's temperature is 0–2, Converse models take 0–1: clamped, so a fallback to Bedrock keeps working. Bedrock's
 * own rule (clamped at both ends), not the Anthropic translator's (which clamps the top only).
 */
export function temperature(t: number): number {
  return Math.min(1, Math.max(0, t));
}
