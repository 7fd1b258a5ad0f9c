/**
 * Request translation: an OpenAI chat.completions body (the client's) → an Anthropic Messages body (the wire).
 * Pure. Throws GatewayError('unsupported_parameter') for what Anthropic cannot take and
 * GatewayError('invalid_request') for nested shapes the envelope validation did not look at.
 * Every drop and rejection is listed in docs/translation.md.
 */
import { GatewayError } from '../../errors.js';
import { invalidField, isRecord, type JsonObject, str, unsupported } from '../common/json.js';

/** Anthropic requires max_tokens; used when the OpenAI client sent neither max_tokens nor max_completion_tokens. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

type Block = JsonObject;
interface Msg {
  role: 'user' | 'assistant';
  content: Block[];
}

const set = (v: unknown): boolean => v !== undefined && v !== null;

export function openAiToAnthropicRequest(body: JsonObject, upstreamModel: string, stream: boolean): JsonObject {
  rejectUnsupported(body);
  const out: JsonObject = { model: upstreamModel };

  const { system, messages } = convertMessages(body.messages);
  if (system.length > 0) out.system = system.length === 1 ? system[0]!.text : system;
  out.messages = messages;

  const maxTokens = set(body.max_completion_tokens) ? body.max_completion_tokens : body.max_tokens;
  out.max_tokens = set(maxTokens) ? maxTokens : DEFAULT_ANTHROPIC_MAX_TOKENS;

  if (set(body.temperature)) {
    const t = body.temperature as number;
    // OpenAI takes 0..2, Anthropic 0..1: clamped (documented), so a fallback across providers keeps working.
    out.temperature = Math.min(t, 1);
  }
  if (set(body.top_p)) out.top_p = body.top_p;
  if (set(body.stop)) {
    const stop = body.stop;
    if (typeof stop === 'string') out.stop_sequences = [stop];
    else if (Array.isArray(stop)) {
      if (stop.length > 0) out.stop_sequences = stop;
    } else throw invalidField('stop', 'must be a string or an array of strings');
  }
  if (stream) out.stream = true;
  if (typeof body.user === 'string' && body.user !== '') out.metadata = { user_id: body.user };

  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  if (hasTools) out.tools = convertTools(body.tools as unknown[]);
  if (hasTools) {
    const choice = convertToolChoice(body.tool_choice, body.parallel_tool_calls);
    if (choice !== undefined) out.tool_choice = choice;
  }
  return out;
}

function rejectUnsupported(body: JsonObject): void {
  if (set(body.n) && body.n !== 1) throw unsupported('n', 'Anthropic returns one choice; n must be 1');
  if (body.logprobs === true) throw unsupported('logprobs', 'Anthropic does not return log probabilities');
  if (set(body.top_logprobs)) throw unsupported('top_logprobs', 'Anthropic does not return log probabilities');
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0)
    throw unsupported('logit_bias', 'Anthropic has no token biasing');
  if (isRecord(body.response_format) && body.response_format.type !== 'text')
    throw unsupported('response_format', `type ${String(body.response_format.type)} is not available from Anthropic`);
  if (set(body.functions) || set(body.function_call))
    throw unsupported(set(body.functions) ? 'functions' : 'function_call', 'deprecated; use tools and tool_choice');
  if (set(body.audio)) throw unsupported('audio', 'Anthropic has no audio output');
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== 'text'))
    throw unsupported('modalities', 'Anthropic produces text only');
  if (set(body.prediction)) throw unsupported('prediction', 'Anthropic has no predicted outputs');
  if (set(body.reasoning_effort))
    throw unsupported(
      'reasoning_effort',
      'Anthropic extended thinking is not mapped; send the request to an OpenAI backend',
    );
  if (set(body.web_search_options)) throw unsupported('web_search_options', 'not available through translation');
}

function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
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
  if (content === null || content === undefined) return '';
  throw invalidField(param, 'must be a string or an array of content parts');
}

function imageBlock(part: JsonObject, param: string): Block {
  const iu = part.image_url;
  const url = isRecord(iu) ? str(iu.url) : str(iu);
  if (url === undefined) throw invalidField(`${param}.image_url.url`, 'must be a string');
  if (url.startsWith('data:')) {
    const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
    if (!m) throw invalidField(`${param}.image_url.url`, 'a data: URL must be base64 (data:<media type>;base64,...)');
    return { type: 'image', source: { type: 'base64', media_type: m[1], data: m[2] } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalidField(`${param}.image_url.url`, 'must be an http(s) URL or a base64 data: URL');
}

function userBlocks(content: unknown, param: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalidField(param, 'must be a string or an array of content parts');
  const blocks: Block[] = [];
  content.forEach((p, j) => {
    const pp = `${param}[${j}]`;
    if (!isRecord(p)) throw invalidField(pp, 'must be an object');
    if (p.type === 'text') {
      if (typeof p.text !== 'string') throw invalidField(`${pp}.text`, 'must be a string');
      if (p.text !== '') blocks.push({ type: 'text', text: p.text });
    } else if (p.type === 'image_url') blocks.push(imageBlock(p, pp));
    else throw unsupported(`${pp}.type`, `content part type ${String(p.type)} is not available from Anthropic`);
  });
  return blocks;
}

function parseArguments(args: unknown, param: string): unknown {
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

function convertMessages(raw: unknown): { system: { type: 'text'; text: string }[]; messages: Msg[] } {
  if (!Array.isArray(raw)) throw invalidField('messages', 'must be an array');
  const system: { type: 'text'; text: string }[] = [];
  const messages: Msg[] = [];
  const push = (role: Msg['role'], content: Block[]) => {
    if (content.length === 0) return;
    const last = messages[messages.length - 1];
    // Consecutive turns of one role are merged (Anthropic alternates; tool results join one user turn).
    if (last && last.role === role) last.content.push(...content);
    else messages.push({ role, content });
  };
  raw.forEach((m, i) => {
    const param = `messages[${i}]`;
    if (!isRecord(m)) throw invalidField(param, 'must be an object');
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = textOf(m.content, `${param}.content`);
        if (text !== '') system.push({ type: 'text', text });
        break;
      }
      case 'user':
        push('user', userBlocks(m.content, `${param}.content`));
        break;
      case 'assistant': {
        const blocks: Block[] = [];
        const text = textOf(m.content, `${param}.content`);
        if (text !== '') blocks.push({ type: 'text', text });
        if (typeof m.refusal === 'string' && m.refusal !== '' && text === '')
          blocks.push({ type: 'text', text: m.refusal });
        if (Array.isArray(m.tool_calls)) {
          m.tool_calls.forEach((tc, k) => {
            const tp = `${param}.tool_calls[${k}]`;
            if (!isRecord(tc) || !isRecord(tc.function)) throw invalidField(tp, 'must be a function tool call');
            if (typeof tc.id !== 'string') throw invalidField(`${tp}.id`, 'must be a string');
            if (typeof tc.function.name !== 'string') throw invalidField(`${tp}.function.name`, 'must be a string');
            blocks.push({
              type: 'tool_use',
              id: tc.id,
              name: tc.function.name,
              input: parseArguments(tc.function.arguments, `${tp}.function.arguments`),
            });
          });
        } else if (set(m.tool_calls)) throw invalidField(`${param}.tool_calls`, 'must be an array');
        push('assistant', blocks);
        break;
      }
      case 'tool': {
        if (typeof m.tool_call_id !== 'string') throw invalidField(`${param}.tool_call_id`, 'must be a string');
        push('user', [
          { type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content, `${param}.content`) },
        ]);
        break;
      }
      case 'function':
        throw unsupported(`${param}.role`, 'role function is deprecated; use tools and role tool');
      default:
        throw invalidField(`${param}.role`, `unknown role ${String(m.role)}`);
    }
  });
  if (messages.length === 0)
    throw new GatewayError('invalid_request', 'messages: at least one user or assistant message is required', {
      param: 'messages',
    });
  return { system, messages };
}

function convertTools(tools: unknown[]): JsonObject[] {
  return tools.map((t, i) => {
    const param = `tools[${i}]`;
    if (!isRecord(t)) throw invalidField(param, 'must be an object');
    if (t.type !== 'function')
      throw unsupported(`${param}.type`, `tool type ${String(t.type)} is not available from Anthropic`);
    const f = t.function;
    if (!isRecord(f) || typeof f.name !== 'string') throw invalidField(`${param}.function.name`, 'must be a string');
    const tool: JsonObject = {
      name: f.name,
      input_schema: isRecord(f.parameters) ? f.parameters : { type: 'object', properties: {} },
    };
    if (typeof f.description === 'string') tool.description = f.description;
    return tool;
  });
}

function convertToolChoice(choice: unknown, parallel: unknown): JsonObject | undefined {
  let out: JsonObject | undefined;
  if (choice === undefined || choice === null || choice === 'auto')
    out = parallel === false ? { type: 'auto' } : undefined;
  else if (choice === 'none') return { type: 'none' };
  else if (choice === 'required') out = { type: 'any' };
  else if (
    isRecord(choice) &&
    choice.type === 'function' &&
    isRecord(choice.function) &&
    typeof choice.function.name === 'string'
  )
    out = { type: 'tool', name: choice.function.name };
  else if (isRecord(choice) && choice.type === 'allowed_tools')
    throw unsupported('tool_choice', 'allowed_tools is not available from Anthropic');
  else throw invalidField('tool_choice', 'must be none, auto, required or {type: "function", function: {name}}');
  if (parallel === false && out) out.disable_parallel_tool_use = true;
  return out;
}
