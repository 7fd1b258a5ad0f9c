/**
 * Request translation: an Anthropic Messages body (the client's) → a Gemini generateContent body (the wire).
 * Pure. Every drop and rejection is listed in docs/translation.md.
 */

import { validatedAnthropicMessages } from '../../api/parse.js';
import type { AnthropicDocumentSource, AnthropicImageSource } from '../../api/parts.js';
import type { AnthropicMessage, AnthropicMessagesRequest } from '../../api/schemas.js';
import { anthropicSource, anthropicText, rejectAnthropicOnly } from '../common/anthropic-request.js';
import { isRecord, type JsonObject, set, unsupported } from '../common/json.js';
import { stopSequences } from '../common/openai-request.js';
import { fromAnthropicToolChoice, fromAnthropicTools } from '../common/tools.js';
import {
  assemble,
  ContentsBuilder,
  fileDataPart,
  functionDeclaration,
  functionResponsePart,
  geminiToolConfig,
  type Part,
} from './shared.js';

/** The adapters' entry: `body` is the validated client body (BuildRequestInput.body). */
export function anthropicToGeminiRequest(body: Readonly<JsonObject>): JsonObject {
  return fromAnthropicMessages(validatedAnthropicMessages(body));
}

export function fromAnthropicMessages(body: AnthropicMessagesRequest): JsonObject {
  rejectAnthropicOnly(body);

  const system: string[] = [];
  if (body.system !== undefined) {
    const text = anthropicText(body.system, 'system', 'Gemini');
    if (text !== '') system.push(text);
  }
  const b = new ContentsBuilder();
  body.messages.forEach((m, i) => {
    convertMessage(m, `messages[${i}]`, b);
  });

  const gc: JsonObject = {};
  if (set(body.max_tokens)) gc.maxOutputTokens = body.max_tokens;
  if (set(body.temperature)) gc.temperature = body.temperature;
  if (set(body.top_p)) gc.topP = body.top_p;
  if (set(body.top_k)) gc.topK = body.top_k;
  const stop = stopSequences(body.stop_sequences);
  if (stop !== undefined) gc.stopSequences = stop;
  const th = body.thinking;
  if (isRecord(th) && th.type === 'enabled' && typeof th.budget_tokens === 'number')
    gc.thinkingConfig = { thinkingBudget: th.budget_tokens };

  let tools: JsonObject[] | undefined;
  let tc: JsonObject | undefined;
  if (body.tools && body.tools.length > 0) {
    tools = fromAnthropicTools(body.tools, 'Gemini', functionDeclaration);
    tc = geminiToolConfig(fromAnthropicToolChoice(body.tool_choice)?.choice);
  }
  return assemble(b, system, gc, tools, tc);
}

/** image and document blocks: base64 → inlineData, url → fileData, a plain-text document → text. */
function mediaPart(
  kind: 'image' | 'document',
  source: AnthropicImageSource | AnthropicDocumentSource,
  param: string,
): Part {
  const src = anthropicSource(source);
  switch (src.type) {
    case 'base64':
      return { inlineData: { mimeType: src.mediaType, data: src.data } };
    case 'url':
      return fileDataPart(src.url, kind === 'document' ? 'application/pdf' : undefined);
    case 'text':
      return { text: src.data };
    default:
      throw unsupported(
        `${param}.source.type`,
        `${kind} source ${String(src.sourceType)} is not available from Gemini`,
      );
  }
}

function convertMessage(m: AnthropicMessage, param: string, b: ContentsBuilder): void {
  const content = m.content;
  const role = m.role === 'user' ? 'user' : 'model';
  if (typeof content === 'string') {
    if (content !== '') b.push(role, [{ text: content }]);
    return;
  }
  const parts: Part[] = [];
  content.forEach((blk, j) => {
    const bp = `${param}.content[${j}]`;
    switch (blk.type) {
      case 'text':
        if (blk.text !== '') parts.push({ text: blk.text });
        return;
      case 'image':
      case 'document':
        if (role === 'model') break;
        parts.push(mediaPart(blk.type, blk.source, bp));
        return;
      case 'tool_result': {
        if (role === 'model') break;
        const name = b.nameFor(blk.tool_use_id, `${bp}.tool_use_id`);
        const c = blk.content;
        const text = c === undefined || c === null ? '' : anthropicText(c, `${bp}.content`, 'Gemini');
        parts.push(functionResponsePart(name, text, blk.is_error === true));
        return;
      }
      case 'tool_use':
        if (role === 'user') break;
        parts.push(b.functionCall(blk.id, blk.name, blk.input));
        return;
      case 'thinking':
      case 'redacted_thinking':
        if (role === 'model') return; // earlier reasoning is not replayable to Gemini: dropped
        break;
    }
    throw unsupported(`${bp}.type`, `content block type ${String(blk.type)} is not available from Gemini here`);
  });
  b.push(role, parts);
}
