/**
 * Request translation: an Anthropic Messages body (the client's) → an OpenAI chat.completions body (the wire).
 * Pure. Drops and rejections are listed in docs/translation.md.
 */

import { validatedAnthropicMessages } from '../../api/parse.js';
import type { AnthropicBlock, AnthropicImageBlock } from '../../api/parts.js';
import type { AnthropicMessage, AnthropicMessagesRequest } from '../../api/schemas.js';
import { anthropicSource, anthropicText, rejectAnthropicOnly } from '../common/anthropic-request.js';
import { type JsonObject, set, unsupported } from '../common/json.js';
import { fromAnthropicToolChoice, fromAnthropicTools, openAiTool, openAiToolChoice } from '../common/tools.js';

export interface AnthropicToOpenAiOptions {
  /** OpenAI and Azure take max_completion_tokens (required by reasoning models); most compatible servers max_tokens. */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
}

/** The adapters' entry: `body` is the validated client body (BuildRequestInput.body). */
export function anthropicToOpenAiRequest(
  body: Readonly<JsonObject>,
  upstreamModel: string,
  stream: boolean,
  options: AnthropicToOpenAiOptions,
): JsonObject {
  return fromAnthropicMessages(validatedAnthropicMessages(body), upstreamModel, stream, options);
}

export function fromAnthropicMessages(
  body: AnthropicMessagesRequest,
  upstreamModel: string,
  stream: boolean,
  options: AnthropicToOpenAiOptions,
): JsonObject {
  rejectAnthropicOnly(body);

  const messages: JsonObject[] = [];
  if (body.system !== undefined) {
    const text = anthropicText(body.system, 'system', 'OpenAI');
    if (text !== '') messages.push({ role: 'system', content: text });
  }
  body.messages.forEach((m, i) => {
    convertMessage(m, `messages[${i}]`, messages);
  });

  const out: JsonObject = { model: upstreamModel, messages };
  if (set(body.max_tokens)) out[options.maxTokensField] = body.max_tokens;
  if (set(body.temperature)) out.temperature = body.temperature;
  if (set(body.top_p)) out.top_p = body.top_p;
  if (body.stop_sequences && body.stop_sequences.length > 0) out.stop = body.stop_sequences;
  if (stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (typeof body.metadata?.user_id === 'string') out.user = body.metadata.user_id;

  if (body.tools && body.tools.length > 0) {
    out.tools = fromAnthropicTools(body.tools, 'OpenAI', openAiTool);
    const tc = fromAnthropicToolChoice(body.tool_choice);
    if (tc !== undefined) {
      out.tool_choice = openAiToolChoice(tc.choice);
      if (tc.disableParallel && tc.choice.type !== 'none') out.parallel_tool_calls = false;
    }
  }
  return out;
}

function imagePart(b: AnthropicImageBlock, param: string): JsonObject {
  const src = anthropicSource(b.source);
  if (src.type === 'base64')
    return { type: 'image_url', image_url: { url: `data:${src.mediaType};base64,${src.data}` } };
  if (src.type === 'url') return { type: 'image_url', image_url: { url: src.url } };
  throw unsupported(
    `${param}.source.type`,
    `image source ${String(src.type === 'other' ? src.sourceType : src.type)} is not available from OpenAI`,
  );
}

function notAvailable(b: AnthropicBlock, param: string): never {
  throw unsupported(`${param}.type`, `content block type ${String(b.type)} is not available from OpenAI`);
}

function convertMessage(m: AnthropicMessage, param: string, out: JsonObject[]): void {
  const content = m.content;
  if (m.role === 'user') {
    if (typeof content === 'string') {
      out.push({ role: 'user', content });
      return;
    }
    const parts: JsonObject[] = [];
    content.forEach((b, j) => {
      const bp = `${param}.content[${j}]`;
      switch (b.type) {
        case 'text':
          parts.push({ type: 'text', text: b.text });
          break;
        case 'image':
          parts.push(imagePart(b, bp));
          break;
        case 'tool_result': {
          // OpenAI wants tool results as role "tool" messages right after the assistant turn: they go first.
          const text =
            b.content === undefined || b.content === null ? '' : anthropicText(b.content, `${bp}.content`, 'OpenAI');
          out.push({ role: 'tool', tool_call_id: b.tool_use_id, content: text });
          break;
        }
        default:
          notAvailable(b, bp);
      }
    });
    if (parts.length > 0) {
      const onlyText = parts.every((p) => p.type === 'text');
      out.push({ role: 'user', content: onlyText ? parts.map((p) => p.text as string).join('\n') : parts });
    }
    return;
  }
  if (typeof content === 'string') {
    out.push({ role: 'assistant', content });
    return;
  }
  let text = '';
  const toolCalls: JsonObject[] = [];
  content.forEach((b, j) => {
    switch (b.type) {
      case 'text':
        text += b.text;
        break;
      case 'tool_use':
        toolCalls.push({
          id: b.id,
          type: 'function',
          function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
        });
        break;
      case 'thinking':
      case 'redacted_thinking':
        break; // earlier reasoning is not replayable to OpenAI: dropped
      default:
        notAvailable(b, `${param}.content[${j}]`);
    }
  });
  const msg: JsonObject = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) msg.tool_calls = toolCalls;
  out.push(msg);
}
