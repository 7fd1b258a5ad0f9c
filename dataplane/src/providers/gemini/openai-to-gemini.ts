/**
 * Request translation: an OpenAI chat.completions body (the client's) → a Gemini generateContent body (the wire).
 * Pure. Every drop and rejection is listed in docs/translation.md.
 */
import { invalidField, isRecord, type JsonObject, str, unsupported } from '../common/json.js';
import {
  assemble,
  ContentsBuilder,
  functionDeclaration,
  functionResponsePart,
  type Part,
  reasoningBudget,
  set,
  stopSequences,
  toolConfig,
  urlPart,
} from './shared.js';

export function openAiToGeminiRequest(body: JsonObject): JsonObject {
  rejectUnsupported(body);
  const b = new ContentsBuilder();
  const system: string[] = [];
  if (!Array.isArray(body.messages)) throw invalidField('messages', 'must be an array');
  body.messages.forEach((m, i) => {
    convertMessage(m, `messages[${i}]`, b, system);
  });

  const gc: JsonObject = {};
  const maxTokens = set(body.max_completion_tokens) ? body.max_completion_tokens : body.max_tokens;
  if (set(maxTokens)) gc.maxOutputTokens = maxTokens;
  if (set(body.temperature)) gc.temperature = body.temperature;
  if (set(body.top_p)) gc.topP = body.top_p;
  const stop = stopSequences(body.stop, 'stop');
  if (stop !== undefined) gc.stopSequences = stop;
  if (set(body.seed)) gc.seed = body.seed;
  if (set(body.presence_penalty)) gc.presencePenalty = body.presence_penalty;
  if (set(body.frequency_penalty)) gc.frequencyPenalty = body.frequency_penalty;
  if (isRecord(body.response_format)) {
    const rf = body.response_format;
    if (rf.type === 'json_object') gc.responseMimeType = 'application/json';
    else if (rf.type === 'json_schema') {
      const js = rf.json_schema;
      if (!isRecord(js) || !isRecord(js.schema))
        throw invalidField('response_format.json_schema.schema', 'must be an object');
      gc.responseMimeType = 'application/json';
      gc.responseJsonSchema = js.schema;
    } else if (rf.type !== 'text')
      throw invalidField('response_format.type', 'must be text, json_object or json_schema');
  }
  if (set(body.reasoning_effort)) gc.thinkingConfig = { thinkingBudget: reasoningBudget(body.reasoning_effort) };

  let tools: JsonObject[] | undefined;
  let tc: JsonObject | undefined;
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    tools = body.tools.map((t, i) => convertTool(t, `tools[${i}]`));
    tc = convertToolChoice(body.tool_choice);
  }
  return assemble(b, system, gc, tools, tc);
}

function rejectUnsupported(body: JsonObject): void {
  if (set(body.n) && body.n !== 1) throw unsupported('n', 'Gemini translation returns one choice; n must be 1');
  if (body.logprobs === true) throw unsupported('logprobs', 'log probabilities are not translated from Gemini');
  if (set(body.top_logprobs)) throw unsupported('top_logprobs', 'log probabilities are not translated from Gemini');
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0)
    throw unsupported('logit_bias', 'Gemini has no token biasing');
  if (set(body.functions) || set(body.function_call))
    throw unsupported(set(body.functions) ? 'functions' : 'function_call', 'deprecated; use tools and tool_choice');
  if (set(body.audio)) throw unsupported('audio', 'audio output is not translated to Gemini');
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== 'text'))
    throw unsupported('modalities', 'only text output is translated to Gemini');
  if (set(body.prediction)) throw unsupported('prediction', 'Gemini has no predicted outputs');
  if (set(body.web_search_options)) throw unsupported('web_search_options', 'not available through translation');
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

const AUDIO_MIME: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mp3' };

function userParts(content: unknown, param: string): Part[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw invalidField(param, 'must be a string or an array of content parts');
  const parts: Part[] = [];
  content.forEach((p, j) => {
    const pp = `${param}[${j}]`;
    if (!isRecord(p)) throw invalidField(pp, 'must be an object');
    switch (p.type) {
      case 'text':
        if (typeof p.text !== 'string') throw invalidField(`${pp}.text`, 'must be a string');
        if (p.text !== '') parts.push({ text: p.text });
        break;
      case 'image_url': {
        const iu = p.image_url;
        const url = isRecord(iu) ? str(iu.url) : str(iu);
        if (url === undefined) throw invalidField(`${pp}.image_url.url`, 'must be a string');
        parts.push(urlPart(url, `${pp}.image_url.url`));
        break;
      }
      case 'input_audio': {
        const a = p.input_audio;
        if (!isRecord(a) || typeof a.data !== 'string')
          throw invalidField(`${pp}.input_audio.data`, 'must be a string');
        const mime = typeof a.format === 'string' ? AUDIO_MIME[a.format] : undefined;
        if (mime === undefined) throw invalidField(`${pp}.input_audio.format`, 'must be wav or mp3');
        parts.push({ inlineData: { mimeType: mime, data: a.data } });
        break;
      }
      case 'file': {
        const f = p.file;
        if (!isRecord(f)) throw invalidField(`${pp}.file`, 'must be an object');
        if (typeof f.file_data !== 'string')
          throw unsupported(
            `${pp}.file.file_id`,
            'uploaded OpenAI files are not available from Gemini; send file_data',
          );
        parts.push(urlPart(f.file_data, `${pp}.file.file_data`));
        break;
      }
      default:
        throw unsupported(`${pp}.type`, `content part type ${String(p.type)} is not available from Gemini`);
    }
  });
  return parts;
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

function convertMessage(m: unknown, param: string, b: ContentsBuilder, system: string[]): void {
  if (!isRecord(m)) throw invalidField(param, 'must be an object');
  switch (m.role) {
    case 'system':
    case 'developer': {
      const text = textOf(m.content, `${param}.content`);
      if (text !== '') system.push(text);
      return;
    }
    case 'user':
      b.push('user', userParts(m.content, `${param}.content`));
      return;
    case 'assistant': {
      const parts: Part[] = [];
      const text = textOf(m.content, `${param}.content`);
      if (text !== '') parts.push({ text });
      else if (typeof m.refusal === 'string' && m.refusal !== '') parts.push({ text: m.refusal });
      if (Array.isArray(m.tool_calls)) {
        m.tool_calls.forEach((tc, k) => {
          const tp = `${param}.tool_calls[${k}]`;
          if (!isRecord(tc) || !isRecord(tc.function)) throw invalidField(tp, 'must be a function tool call');
          if (typeof tc.id !== 'string') throw invalidField(`${tp}.id`, 'must be a string');
          if (typeof tc.function.name !== 'string') throw invalidField(`${tp}.function.name`, 'must be a string');
          parts.push(
            b.functionCall(tc.id, tc.function.name, parseArguments(tc.function.arguments, `${tp}.function.arguments`)),
          );
        });
      } else if (set(m.tool_calls)) throw invalidField(`${param}.tool_calls`, 'must be an array');
      b.push('model', parts);
      return;
    }
    case 'tool': {
      if (typeof m.tool_call_id !== 'string') throw invalidField(`${param}.tool_call_id`, 'must be a string');
      const name = b.nameFor(m.tool_call_id, `${param}.tool_call_id`);
      b.push('user', [functionResponsePart(name, textOf(m.content, `${param}.content`), false)]);
      return;
    }
    case 'function':
      throw unsupported(`${param}.role`, 'role function is deprecated; use tools and role tool');
    default:
      throw invalidField(`${param}.role`, `unknown role ${String(m.role)}`);
  }
}

function convertTool(t: unknown, param: string): JsonObject {
  if (!isRecord(t)) throw invalidField(param, 'must be an object');
  if (t.type !== 'function')
    throw unsupported(`${param}.type`, `tool type ${String(t.type)} is not available from Gemini`);
  const f = t.function;
  if (!isRecord(f) || typeof f.name !== 'string') throw invalidField(`${param}.function.name`, 'must be a string');
  return functionDeclaration(f.name, f.description, f.parameters);
}

function convertToolChoice(choice: unknown): JsonObject | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return toolConfig('AUTO');
  if (choice === 'none') return toolConfig('NONE');
  if (choice === 'required') return toolConfig('ANY');
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function)) {
    if (typeof choice.function.name !== 'string') throw invalidField('tool_choice.function.name', 'must be a string');
    return toolConfig('ANY', choice.function.name);
  }
  if (isRecord(choice) && choice.type === 'allowed_tools')
    throw unsupported('tool_choice', 'allowed_tools is not translated to Gemini');
  throw invalidField('tool_choice', 'must be none, auto, required or {type: "function", function: {name}}');
}
