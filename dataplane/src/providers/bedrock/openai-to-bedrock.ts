/**
 * Request translation: an OpenAI chat.completions body (the client's) → a Bedrock Converse body (the wire).
 * Pure. Every drop and rejection is listed in docs/translation.md.
 */
import { invalidField, isRecord, type JsonObject, set, unsupported } from '../common/json.js';
import {
  openAiImageUrl,
  openAiMaxTokens,
  openAiText,
  readOpenAiMessages,
  rejectOpenAiOnly,
  stopSequences,
} from '../common/openai-request.js';
import { fromOpenAiToolChoice, fromOpenAiTools } from '../common/tools.js';
import { assemble, type Block, imageUrlBlock, MessagesBuilder, temperature, toolSpec } from './shared.js';

export function openAiToBedrockRequest(body: JsonObject): JsonObject {
  rejectOpenAiOnly(body, 'Bedrock');
  rejectBedrockOnly(body);
  const b = new MessagesBuilder();
  const system: Block[] = [];
  readOpenAiMessages(body.messages, {
    system: (text) => system.push({ text }),
    user: (content, param) => b.push('user', userBlocks(content, `${param}.content`)),
    assistant: (text, calls) => {
      const blocks: Block[] = [];
      if (text !== '') blocks.push({ text });
      for (const c of calls) blocks.push(b.toolUse(c.id, c.name, c.args));
      b.push('assistant', blocks);
    },
    tool: (id, content, param) => {
      const text = openAiText(content, `${param}.content`);
      b.push('user', [b.toolResult(id, text === '' ? [] : [{ text }], false)]);
    },
  });

  const inf: JsonObject = {};
  const maxTokens = openAiMaxTokens(body);
  if (set(maxTokens)) inf.maxTokens = maxTokens;
  if (set(body.temperature)) inf.temperature = temperature(body.temperature, 'temperature');
  if (set(body.top_p)) inf.topP = body.top_p;
  const stop = stopSequences(body.stop, 'stop');
  if (stop !== undefined) inf.stopSequences = stop;

  if (Array.isArray(body.tools) && body.tools.length > 0)
    return assemble(
      b,
      system,
      inf,
      fromOpenAiTools(body.tools, 'Bedrock', toolSpec),
      fromOpenAiToolChoice(body.tool_choice, 'Bedrock'),
    );
  return assemble(b, system, inf, undefined, undefined);
}

/** What Converse lacks beyond rejectOpenAiOnly: JSON modes and the OpenAI reasoning switch. */
function rejectBedrockOnly(body: JsonObject): void {
  if (isRecord(body.response_format) && body.response_format.type !== 'text')
    throw unsupported(
      'response_format',
      'JSON modes are not translated to Bedrock Converse; describe the format in the prompt or use a tool',
    );
  if (set(body.reasoning_effort))
    throw unsupported('reasoning_effort', 'reasoning settings are model-specific on Bedrock and not translated');
}

/** User content: text and images (as bytes only; see imageUrlBlock). */
function userBlocks(content: unknown, param: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw invalidField(param, 'must be a string or an array of content parts');
  const out: Block[] = [];
  content.forEach((p, j) => {
    const pp = `${param}[${j}]`;
    if (!isRecord(p)) throw invalidField(pp, 'must be an object');
    if (p.type === 'text') {
      if (typeof p.text !== 'string') throw invalidField(`${pp}.text`, 'must be a string');
      if (p.text !== '') out.push({ text: p.text });
    } else if (p.type === 'image_url') out.push(imageUrlBlock(openAiImageUrl(p, pp), `${pp}.image_url.url`));
    else throw unsupported(`${pp}.type`, `content part type ${String(p.type)} is not translated to Bedrock`);
  });
  return out;
}
