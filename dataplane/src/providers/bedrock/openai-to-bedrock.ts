/**
 * Request translation: an OpenAI chat.completions body (the client's) → a Bedrock Converse body (the wire).
 * Pure. Every drop and rejection is listed in docs/translation.md.
 */
import { invalidField, isRecord, type JsonObject, str, unsupported } from '../common/json.js';
import {
  assemble,
  type Block,
  imageUrlBlock,
  MessagesBuilder,
  set,
  stopSequences,
  type ToolChoice,
  temperature,
  toolSpec,
} from './shared.js';

export function openAiToBedrockRequest(body: JsonObject): JsonObject {
  rejectUnsupported(body);
  const b = new MessagesBuilder();
  const system: Block[] = [];
  if (!Array.isArray(body.messages)) throw invalidField('messages', 'must be an array');
  body.messages.forEach((m, i) => {
    convertMessage(m, `messages[${i}]`, b, system);
  });

  const inf: JsonObject = {};
  const maxTokens = set(body.max_completion_tokens) ? body.max_completion_tokens : body.max_tokens;
  if (set(maxTokens)) inf.maxTokens = maxTokens;
  if (set(body.temperature)) inf.temperature = temperature(body.temperature, 'temperature');
  if (set(body.top_p)) inf.topP = body.top_p;
  const stop = stopSequences(body.stop, 'stop');
  if (stop !== undefined) inf.stopSequences = stop;

  let tools: Block[] | undefined;
  let choice: ToolChoice | undefined;
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    tools = body.tools.map((t, i) => convertTool(t, `tools[${i}]`));
    choice = convertToolChoice(body.tool_choice);
  }
  return assemble(b, system, inf, tools, choice);
}

function rejectUnsupported(body: JsonObject): void {
  if (set(body.n) && body.n !== 1) throw unsupported('n', 'Bedrock returns one choice; n must be 1');
  if (body.logprobs === true) throw unsupported('logprobs', 'Bedrock Converse returns no log probabilities');
  if (set(body.top_logprobs)) throw unsupported('top_logprobs', 'Bedrock Converse returns no log probabilities');
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0)
    throw unsupported('logit_bias', 'Bedrock Converse has no token biasing');
  if (set(body.functions) || set(body.function_call))
    throw unsupported(set(body.functions) ? 'functions' : 'function_call', 'deprecated; use tools and tool_choice');
  if (isRecord(body.response_format) && body.response_format.type !== 'text')
    throw unsupported(
      'response_format',
      'JSON modes are not translated to Bedrock Converse; describe the format in the prompt or use a tool',
    );
  if (set(body.audio)) throw unsupported('audio', 'audio output is not available from Bedrock Converse');
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== 'text'))
    throw unsupported('modalities', 'only text output is translated to Bedrock');
  if (set(body.prediction)) throw unsupported('prediction', 'Bedrock has no predicted outputs');
  if (set(body.reasoning_effort))
    throw unsupported('reasoning_effort', 'reasoning settings are model-specific on Bedrock and not translated');
  if (set(body.web_search_options)) throw unsupported('web_search_options', 'not available from Bedrock');
}

function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw invalidField(param, 'must be a string or an array of content parts');
  let s = '';
  content.forEach((p, j) => {
    if (!isRecord(p) || (p.type !== 'text' && p.type !== 'refusal'))
      throw unsupported(`${param}[${j}]`, 'only text parts are accepted here');
    const t = p.type === 'text' ? p.text : p.refusal;
    if (typeof t !== 'string') throw invalidField(`${param}[${j}].text`, 'must be a string');
    s += s === '' ? t : `\n${t}`;
  });
  return s;
}

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
    } else if (p.type === 'image_url') {
      const iu = p.image_url;
      const url = isRecord(iu) ? str(iu.url) : str(iu);
      if (url === undefined) throw invalidField(`${pp}.image_url.url`, 'must be a string');
      out.push(imageUrlBlock(url, `${pp}.image_url.url`));
    } else throw unsupported(`${pp}.type`, `content part type ${String(p.type)} is not translated to Bedrock`);
  });
  return out;
}

function parseArguments(args: unknown, param: string): JsonObject {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string') throw invalidField(param, 'must be a JSON string');
  try {
    const v: unknown = JSON.parse(args);
    if (!isRecord(v)) throw new Error('not an object');
    return v;
  } catch {
    throw invalidField(param, 'must be a JSON object encoded as a string');
  }
}

function convertMessage(m: unknown, param: string, b: MessagesBuilder, system: Block[]): void {
  if (!isRecord(m)) throw invalidField(param, 'must be an object');
  switch (m.role) {
    case 'system':
    case 'developer': {
      const text = textOf(m.content, `${param}.content`);
      if (text !== '') system.push({ text });
      return;
    }
    case 'user':
      b.push('user', userBlocks(m.content, `${param}.content`));
      return;
    case 'assistant': {
      const blocks: Block[] = [];
      const text = textOf(m.content, `${param}.content`);
      if (text !== '') blocks.push({ text });
      else if (typeof m.refusal === 'string' && m.refusal !== '') blocks.push({ text: m.refusal });
      if (Array.isArray(m.tool_calls)) {
        m.tool_calls.forEach((tc, k) => {
          const tp = `${param}.tool_calls[${k}]`;
          if (!isRecord(tc) || !isRecord(tc.function)) throw invalidField(tp, 'must be a function tool call');
          if (typeof tc.id !== 'string') throw invalidField(`${tp}.id`, 'must be a string');
          if (typeof tc.function.name !== 'string') throw invalidField(`${tp}.function.name`, 'must be a string');
          blocks.push(
            b.toolUse(tc.id, tc.function.name, parseArguments(tc.function.arguments, `${tp}.function.arguments`)),
          );
        });
      } else if (set(m.tool_calls)) throw invalidField(`${param}.tool_calls`, 'must be an array');
      b.push('assistant', blocks);
      return;
    }
    case 'tool': {
      if (typeof m.tool_call_id !== 'string') throw invalidField(`${param}.tool_call_id`, 'must be a string');
      const text = textOf(m.content, `${param}.content`);
      b.push('user', [b.toolResult(m.tool_call_id, text === '' ? [] : [{ text }], false)]);
      return;
    }
    case 'function':
      throw unsupported(`${param}.role`, 'role function is deprecated; use tools and role tool');
    default:
      throw invalidField(`${param}.role`, `unknown role ${String(m.role)}`);
  }
}

function convertTool(t: unknown, param: string): Block {
  if (!isRecord(t)) throw invalidField(param, 'must be an object');
  if (t.type !== 'function')
    throw unsupported(`${param}.type`, `tool type ${String(t.type)} is not available from Bedrock`);
  const f = t.function;
  if (!isRecord(f) || typeof f.name !== 'string') throw invalidField(`${param}.function.name`, 'must be a string');
  return toolSpec(f.name, f.description, f.parameters);
}

function convertToolChoice(choice: unknown): ToolChoice | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { auto: {} };
  if (choice === 'none') return 'none';
  if (choice === 'required') return { any: {} };
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function)) {
    if (typeof choice.function.name !== 'string') throw invalidField('tool_choice.function.name', 'must be a string');
    return { tool: { name: choice.function.name } };
  }
  if (isRecord(choice) && choice.type === 'allowed_tools')
    throw unsupported('tool_choice', 'allowed_tools is not translated to Bedrock');
  throw invalidField('tool_choice', 'must be none, auto, required or {type: "function", function: {name}}');
}
