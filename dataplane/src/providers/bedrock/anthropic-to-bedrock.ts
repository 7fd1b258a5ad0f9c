/**
 * Request translation: an Anthropic Messages body (the client's) → a Bedrock Converse body (the wire).
 * Pure. `cache_control` on a system, text, image or tool block becomes a Converse `cachePoint` after it.
 * Every drop and rejection is listed in docs/translation.md.
 */

import { validatedAnthropicMessages } from '../../api/parse.js';
import type { AnthropicImageBlock, AnthropicToolResultBlock } from '../../api/parts.js';
import type { AnthropicMessage, AnthropicMessagesRequest } from '../../api/schemas.js';
import { anthropicSource, rejectAnthropicOnly } from '../common/anthropic-request.js';
import { isRecord, type JsonObject, set, unsupported } from '../common/json.js';
import { stopSequences } from '../common/openai-request.js';
import { fromAnthropicToolChoice, fromAnthropicTools } from '../common/tools.js';
import { assemble, type Block, CACHE_POINT, imageBlock, MessagesBuilder, toolSpec } from './shared.js';

/** The adapters' entry: `body` is the validated client body (BuildRequestInput.body). */
export function anthropicToBedrockRequest(body: Readonly<JsonObject>): JsonObject {
  return fromAnthropicMessages(validatedAnthropicMessages(body));
}

export function fromAnthropicMessages(body: AnthropicMessagesRequest): JsonObject {
  rejectAnthropicOnly(body);

  // Read block by block rather than with anthropicText: a block's cache_control becomes a cachePoint after it.
  const system: Block[] = [];
  if (typeof body.system === 'string') {
    if (body.system !== '') system.push({ text: body.system });
  } else if (body.system !== undefined) {
    body.system.forEach((blk, j) => {
      if (blk.type !== 'text') throw unsupported(`system[${j}]`, 'only text blocks are accepted in system');
      if (blk.text !== '') system.push({ text: blk.text });
      if (isRecord(blk.cache_control)) system.push(CACHE_POINT);
    });
  }

  const b = new MessagesBuilder();
  body.messages.forEach((m, i) => {
    convertMessage(m, `messages[${i}]`, b);
  });

  const inf: JsonObject = {};
  if (set(body.max_tokens)) inf.maxTokens = body.max_tokens;
  if (set(body.temperature)) inf.temperature = body.temperature;
  if (set(body.top_p)) inf.topP = body.top_p;
  const stop = stopSequences(body.stop_sequences);
  if (stop !== undefined) inf.stopSequences = stop;

  const defs = body.tools;
  if (defs === undefined || defs.length === 0) return assemble(b, system, inf, undefined, undefined);
  const specs = fromAnthropicTools(defs, 'Bedrock', toolSpec);
  const tools: Block[] = [];
  specs.forEach((spec, i) => {
    tools.push(spec);
    if (isRecord(defs[i]!.cache_control)) tools.push(CACHE_POINT);
  });
  // Converse has no parallel-call switch: disable_parallel_tool_use is dropped.
  return assemble(b, system, inf, tools, fromAnthropicToolChoice(body.tool_choice)?.choice);
}

/** Converse takes image bytes only (it fetches no URLs). */
function imageOf(blk: AnthropicImageBlock, param: string): Block {
  const src = anthropicSource(blk.source);
  if (src.type === 'base64') return imageBlock(src.mediaType, src.data, `${param}.source.media_type`);
  const type = src.type === 'other' ? src.sourceType : src.type;
  throw unsupported(
    `${param}.source.type`,
    `image source ${String(type)} is not available from Bedrock (it does not fetch URLs); send base64`,
  );
}

/** tool_result content: a string, or text and image blocks (Converse tool results take images, unlike anthropicText). */
function resultContent(v: string | AnthropicToolResultBlock[] | null | undefined, param: string): Block[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v === '' ? [] : [{ text: v }];
  const out: Block[] = [];
  v.forEach((blk, j) => {
    const p = `${param}[${j}]`;
    if (blk.type === 'text') out.push({ text: blk.text });
    else if (blk.type === 'image') out.push(imageOf(blk, p));
    else throw unsupported(`${p}.type`, `block type ${String(blk.type)} is not accepted in a Bedrock tool result`);
  });
  return out;
}

function convertMessage(m: AnthropicMessage, param: string, b: MessagesBuilder): void {
  const role = m.role;
  const content = m.content;
  if (typeof content === 'string') {
    if (content !== '') b.push(role, [{ text: content }]);
    return;
  }
  const blocks: Block[] = [];
  content.forEach((blk, j) => {
    const bp = `${param}.content[${j}]`;
    let out: Block | undefined;
    switch (blk.type) {
      case 'text':
        if (blk.text !== '') out = { text: blk.text };
        break;
      case 'image':
        if (role === 'assistant') throw unsupported(`${bp}.type`, 'images in assistant turns are not accepted');
        out = imageOf(blk, bp);
        break;
      case 'tool_result':
        if (role === 'assistant') throw unsupported(`${bp}.type`, 'tool_result belongs in a user turn');
        out = b.toolResult(blk.tool_use_id, resultContent(blk.content, `${bp}.content`), blk.is_error === true);
        break;
      case 'tool_use':
        if (role === 'user') throw unsupported(`${bp}.type`, 'tool_use belongs in an assistant turn');
        out = b.toolUse(blk.id, blk.name, blk.input);
        break;
      case 'thinking':
      case 'redacted_thinking':
        if (role === 'assistant') return; // earlier reasoning is not replayed to Bedrock: dropped
        throw unsupported(`${bp}.type`, `${blk.type} blocks belong in assistant turns`);
      default:
        throw unsupported(`${bp}.type`, `content block type ${String(blk.type)} is not available from Bedrock`);
    }
    if (out !== undefined) blocks.push(out);
    if (isRecord(blk.cache_control) && blocks.length > 0) blocks.push(CACHE_POINT);
  });
  b.push(role, blocks);
}
