/**
 * Request translation: an OpenAI chat.completions body (the client's) → an Anthropic Messages body (the wire).
 * Pure. The request is typed (api/schemas.ts checked its shape); throws GatewayError('unsupported_parameter')
 * for what Anthropic cannot take and GatewayError('invalid_request') for values it cannot translate.
 * Every drop and rejection is listed in docs/translation.md.
 */

import { validatedOpenAiChat } from '../../api/parse.js';
import type { OpenAIContent, OpenAIContentPart } from '../../api/parts.js';
import type { OpenAIChatRequest, OpenAIMessage } from '../../api/schemas.js';
import { invalidField, isRecord, type JsonObject, set, unsupported } from '../common/json.js';
import {
  mediaUrl,
  openAiImageUrl,
  openAiMaxTokens,
  openAiText,
  readOpenAiMessages,
  rejectOpenAiOnly,
  stopSequences,
} from '../common/openai-request.js';
import { anthropicTool, anthropicToolChoice, fromOpenAiToolChoice, fromOpenAiTools } from '../common/tools.js';

/** Anthropic requires max_tokens; used when the OpenAI client sent neither max_tokens nor max_completion_tokens. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

type Block = JsonObject;
interface Msg {
  role: 'user' | 'assistant';
  content: Block[];
}

/** The adapters' entry: `body` is the validated client body (BuildRequestInput.body). */
export function openAiToAnthropicRequest(
  body: Readonly<JsonObject>,
  upstreamModel: string,
  stream: boolean,
): JsonObject {
  return fromOpenAiChat(validatedOpenAiChat(body), upstreamModel, stream);
}

export function fromOpenAiChat(body: OpenAIChatRequest, upstreamModel: string, stream: boolean): JsonObject {
  rejectUnsupported(body);
  const out: JsonObject = { model: upstreamModel };

  const { system, messages } = convertMessages(body.messages);
  if (system.length > 0) out.system = system.length === 1 ? system[0]!.text : system;
  out.messages = messages;

  out.max_tokens = openAiMaxTokens(body) ?? DEFAULT_ANTHROPIC_MAX_TOKENS;

  // OpenAI takes 0..2, Anthropic 0..1: clamped (documented), so a fallback across providers keeps working.
  if (typeof body.temperature === 'number') out.temperature = Math.min(body.temperature, 1);
  if (set(body.top_p)) out.top_p = body.top_p;
  const stop = stopSequences(body.stop);
  if (stop !== undefined) out.stop_sequences = stop;
  if (stream) out.stream = true;
  if (typeof body.user === 'string' && body.user !== '') out.metadata = { user_id: body.user };

  if (body.tools && body.tools.length > 0) {
    out.tools = fromOpenAiTools(body.tools, 'Anthropic', anthropicTool);
    const choice = anthropicToolChoice(
      fromOpenAiToolChoice(body.tool_choice, 'Anthropic'),
      body.parallel_tool_calls === false,
    );
    if (choice !== undefined) out.tool_choice = choice;
  }
  return out;
}

function rejectUnsupported(body: OpenAIChatRequest): void {
  rejectOpenAiOnly(body, 'Anthropic');
  if (isRecord(body.response_format) && body.response_format.type !== 'text')
    throw unsupported('response_format', `type ${String(body.response_format.type)} is not available from Anthropic`);
  if (set(body.reasoning_effort))
    throw unsupported(
      'reasoning_effort',
      'Anthropic extended thinking is not mapped; send the request to an OpenAI backend',
    );
}

function imageBlock(part: Extract<OpenAIContentPart, { type: 'image_url' }>, param: string): Block {
  const m = mediaUrl(openAiImageUrl(part), `${param}.image_url.url`);
  if ('url' in m) return { type: 'image', source: { type: 'url', url: m.url } };
  return { type: 'image', source: { type: 'base64', media_type: m.mediaType, data: m.data } };
}

function userBlocks(content: OpenAIContent, param: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const blocks: Block[] = [];
  content?.forEach((p, j) => {
    const pp = `${param}[${j}]`;
    if (p.type === 'text') {
      if (p.text !== '') blocks.push({ type: 'text', text: p.text });
    } else if (p.type === 'image_url') blocks.push(imageBlock(p, pp));
    else throw unsupported(`${pp}.type`, `content part type ${String(p.type)} is not available from Anthropic`);
  });
  return blocks;
}

function convertMessages(raw: readonly OpenAIMessage[]): { system: { type: 'text'; text: string }[]; messages: Msg[] } {
  const system: { type: 'text'; text: string }[] = [];
  const messages: Msg[] = [];
  const push = (role: Msg['role'], content: Block[]) => {
    if (content.length === 0) return;
    const last = messages[messages.length - 1];
    // Consecutive turns of one role are merged (Anthropic alternates; tool results join one user turn).
    if (last && last.role === role) last.content.push(...content);
    else messages.push({ role, content });
  };
  readOpenAiMessages(raw, {
    system: (text) => system.push({ type: 'text', text }),
    user: (content, param) => push('user', userBlocks(content, `${param}.content`)),
    assistant: (text, calls) => {
      const blocks: Block[] = [];
      if (text !== '') blocks.push({ type: 'text', text });
      for (const c of calls) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.args });
      push('assistant', blocks);
    },
    tool: (id, content, param) =>
      push('user', [{ type: 'tool_result', tool_use_id: id, content: openAiText(content, `${param}.content`) }]),
  });
  if (messages.length === 0) throw invalidField('messages', 'at least one user or assistant message is required');
  return { system, messages };
}
