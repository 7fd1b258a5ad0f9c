/**
 * Request translation: an Anthropic Messages body (the client's) → a Gemini generateContent body (the wire).
 * Pure. Every drop and rejection is listed in docs/translation.md.
 */
import { invalidField, isRecord, type JsonObject, unsupported } from '../common/json.js';
import {
  assemble,
  ContentsBuilder,
  fileDataPart,
  functionDeclaration,
  functionResponsePart,
  type Part,
  set,
  stopSequences,
  toolConfig,
} from './shared.js';

export function anthropicToGeminiRequest(body: JsonObject): JsonObject {
  if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0)
    throw unsupported('mcp_servers', 'MCP connectors are only available from Anthropic');
  if (set(body.container)) throw unsupported('container', 'containers are only available from Anthropic');

  const system: string[] = [];
  if (set(body.system)) {
    const text = textBlocks(body.system, 'system');
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
    tools = body.tools.map((t, i) => convertTool(t, `tools[${i}]`));
    tc = convertToolChoice(body.tool_choice);
  }
  return assemble(b, system, gc, tools, tc);
}

/** System prompt or tool_result content: a string or text blocks (cache_control and citations dropped). */
function textBlocks(v: unknown, param: string): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) throw invalidField(param, 'must be a string or an array of text blocks');
  let s = '';
  v.forEach((b, j) => {
    if (!isRecord(b) || b.type !== 'text')
      throw unsupported(
        `${param}[${j}]`,
        `block type ${isRecord(b) ? String(b.type) : typeof b} is not accepted here by Gemini`,
      );
    if (typeof b.text !== 'string') throw invalidField(`${param}[${j}].text`, 'must be a string');
    s += s === '' ? b.text : `\n${b.text}`;
  });
  return s;
}

/** image and document blocks: base64 → inlineData, url → fileData, a plain-text document → text. */
function mediaPart(b: JsonObject, param: string): Part {
  const src = b.source;
  if (!isRecord(src)) throw invalidField(`${param}.source`, 'must be an object');
  if (src.type === 'base64') {
    if (typeof src.media_type !== 'string' || typeof src.data !== 'string')
      throw invalidField(`${param}.source`, 'base64 source needs media_type and data');
    return { inlineData: { mimeType: src.media_type, data: src.data } };
  }
  if (src.type === 'url') {
    if (typeof src.url !== 'string') throw invalidField(`${param}.source.url`, 'must be a string');
    return fileDataPart(src.url, b.type === 'document' ? 'application/pdf' : undefined);
  }
  if (src.type === 'text' && b.type === 'document') {
    if (typeof src.data !== 'string') throw invalidField(`${param}.source.data`, 'must be a string');
    return { text: src.data };
  }
  throw unsupported(
    `${param}.source.type`,
    `${String(b.type)} source ${String(src.type)} is not available from Gemini`,
  );
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
        const text = set(blk.content) ? textBlocks(blk.content, `${bp}.content`) : '';
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

function convertTool(t: unknown, param: string): JsonObject {
  if (!isRecord(t)) throw invalidField(param, 'must be an object');
  if (t.type !== undefined && t.type !== 'custom')
    throw unsupported(`${param}.type`, `Anthropic server tool ${String(t.type)} is not available from Gemini`);
  if (typeof t.name !== 'string') throw invalidField(`${param}.name`, 'must be a string');
  return functionDeclaration(t.name, t.description, t.input_schema);
}

function convertToolChoice(tc: unknown): JsonObject | undefined {
  if (!set(tc)) return undefined;
  if (!isRecord(tc)) throw invalidField('tool_choice', 'must be an object');
  switch (tc.type) {
    case 'auto':
      return toolConfig('AUTO');
    case 'any':
      return toolConfig('ANY');
    case 'none':
      return toolConfig('NONE');
    case 'tool':
      if (typeof tc.name !== 'string') throw invalidField('tool_choice.name', 'must be a string');
      return toolConfig('ANY', tc.name);
    default:
      throw invalidField('tool_choice.type', 'must be auto, any, tool or none');
  }
}
