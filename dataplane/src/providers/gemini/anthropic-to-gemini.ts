/**
 * Request translation: an Anthropic Messages body (the client's) → a Gemini generateContent body (the wire).
 * Pure. Every drop and rejection is listed in docs/translation.md.
 */
import { anthropicSource, anthropicText, rejectAnthropicOnly } from '../common/anthropic-request.js';
import { invalidField, isRecord, type JsonObject, set, unsupported } from '../common/json.js';
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

export function anthropicToGeminiRequest(body: JsonObject): JsonObject {
  rejectAnthropicOnly(body);

  const system: string[] = [];
  if (set(body.system)) {
    const text = anthropicText(body.system, 'system', 'Gemini');
    if (text !== '') system.push(text);
  }
  const b = new ContentsBuilder();
  if (!Array.isArray(body.messages)) throw invalidField('messages', 'must be an array');
  body.messages.forEach((m, i) => {
    convertMessage(m, `messages[${i}]`, b);
  });

  const gc: JsonObject = {};
  if (set(body.max_tokens)) gc.maxOutputTokens = body.max_tokens;
  if (set(body.temperature)) gc.temperature = body.temperature;
  if (set(body.top_p)) gc.topP = body.top_p;
  if (set(body.top_k)) gc.topK = body.top_k;
  const stop = stopSequences(body.stop_sequences, 'stop_sequences');
  if (stop !== undefined) gc.stopSequences = stop;
  const th = body.thinking;
  if (isRecord(th) && th.type === 'enabled' && typeof th.budget_tokens === 'number')
    gc.thinkingConfig = { thinkingBudget: th.budget_tokens };

  let tools: JsonObject[] | undefined;
  let tc: JsonObject | undefined;
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    tools = fromAnthropicTools(body.tools, 'Gemini', functionDeclaration);
    tc = geminiToolConfig(fromAnthropicToolChoice(body.tool_choice)?.choice);
  }
  return assemble(b, system, gc, tools, tc);
}

/** image and document blocks: base64 → inlineData, url → fileData, a plain-text document → text. */
function mediaPart(b: JsonObject, param: string): Part {
  const src = anthropicSource(b, param);
  switch (src.type) {
    case 'base64':
      return { inlineData: { mimeType: src.mediaType, data: src.data } };
    case 'url':
      return fileDataPart(src.url, b.type === 'document' ? 'application/pdf' : undefined);
    case 'text':
      return { text: src.data };
    default:
      throw unsupported(
        `${param}.source.type`,
        `${String(b.type)} source ${String(src.sourceType)} is not available from Gemini`,
      );
  }
}

function convertMessage(m: unknown, param: string, b: ContentsBuilder): void {
  if (!isRecord(m)) throw invalidField(param, 'must be an object');
  const content = m.content;
  if (m.role !== 'user' && m.role !== 'assistant') throw invalidField(`${param}.role`, 'must be user or assistant');
  const role = m.role === 'user' ? 'user' : 'model';
  if (typeof content === 'string') {
    if (content !== '') b.push(role, [{ text: content }]);
    return;
  }
  if (!Array.isArray(content)) throw invalidField(`${param}.content`, 'must be a string or an array of blocks');
  const parts: Part[] = [];
  content.forEach((blk, j) => {
    const bp = `${param}.content[${j}]`;
    if (!isRecord(blk)) throw invalidField(bp, 'must be an object');
    switch (blk.type) {
      case 'text':
        if (typeof blk.text !== 'string') throw invalidField(`${bp}.text`, 'must be a string');
        if (blk.text !== '') parts.push({ text: blk.text });
        return;
      case 'image':
      case 'document':
        if (role === 'model') break;
        parts.push(mediaPart(blk, bp));
        return;
      case 'tool_result': {
        if (role === 'model') break;
        if (typeof blk.tool_use_id !== 'string') throw invalidField(`${bp}.tool_use_id`, 'must be a string');
        const name = b.nameFor(blk.tool_use_id, `${bp}.tool_use_id`);
        const text = set(blk.content) ? anthropicText(blk.content, `${bp}.content`, 'Gemini') : '';
        parts.push(functionResponsePart(name, text, blk.is_error === true));
        return;
      }
      case 'tool_use':
        if (role === 'user') break;
        if (typeof blk.id !== 'string' || typeof blk.name !== 'string')
          throw invalidField(bp, 'tool_use needs a string id and name');
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
