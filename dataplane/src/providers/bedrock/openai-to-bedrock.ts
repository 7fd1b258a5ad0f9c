/**
 * Request translation: an OpenAI chat.completions body (the client's) → a Bedrock Converse body (the wire).
 * Pure. Every drop and rejection is listed in docs/translation.md.
 */

import { validatedOpenAiChat } from '../../api/parse.js';
import type { OpenAIContent } from '../../api/parts.js';
import type { OpenAIChatRequest } from '../../api/schemas.js';
import { isRecord, type JsonObject, set, unsupported } from '../common/json.js';
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

/** The adapters' entry: `body` is the validated client body (BuildRequestInput.body). */
export function openAiToBedrockRequest(body: Readonly<JsonObject>): JsonObject {
  return fromOpenAiChat(validatedOpenAiChat(body));
}

export function fromOpenAiChat(body: OpenAIChatRequest): JsonObject {
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
  if (maxTokens !== undefined) inf.maxTokens = maxTokens;
  if (typeof body.temperature === 'number') inf.temperature = temperature(body.temperature);
  if (set(body.top_p)) inf.topP = body.top_p;
  const stop = stopSequences(body.stop);
  if (stop !== undefined) inf.stopSequences = stop;

  if (body.tools && body.tools.length > 0)
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
function rejectBedrockOnly(body: OpenAIChatRequest): void {
  if (isRecord(body.response_format) && body.response_format.type !== 'text')
    throw unsupported(
      'response_format',
      'JSON modes are not translated to Bedrock Converse; describe the format in the prompt or use a tool',
    );
  if (set(body.reasoning_effort))
    throw unsupported('reasoning_effort', 'reasoning settings are model-specific on Bedrock and not translated');
}

/** User content: text and images (as bytes only; see imageUrlBlock). */
function userBlocks(content: OpenAIContent, param: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const out: Block[] = [];
  content?.forEach((p, j) => {
    const pp = `${param}[${j}]`;
    if (p.type === 'text') {
      if (p.text !== '') out.push({ text: p.text });
    } else if (p.type === 'image_url') out.push(imageUrlBlock(openAiImageUrl(p), `${pp}.image_url.url`));
    else throw unsupported(`${pp}.type`, `content part type ${String(p.type)} is not translated to Bedrock`);
  });
  return out;
}
