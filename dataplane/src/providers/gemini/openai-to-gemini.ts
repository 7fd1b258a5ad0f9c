/**
 * Request translation: an OpenAI chat.completions body (the client's) → a Gemini generateContent body (the wire).
 * Pure. Every drop and rejection is listed in docs/translation.md.
 */

import { validatedOpenAiChat } from '../../api/parse.js';
import type { OpenAIContent } from '../../api/parts.js';
import type { OpenAIChatRequest } from '../../api/schemas.js';
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
import {
  assemble,
  ContentsBuilder,
  functionDeclaration,
  functionResponsePart,
  geminiToolConfig,
  type Part,
  reasoningBudget,
  urlPart,
} from './shared.js';

/** The adapters' entry: `body` is the validated client body (BuildRequestInput.body). */
export function openAiToGeminiRequest(body: Readonly<JsonObject>): JsonObject {
  return fromOpenAiChat(validatedOpenAiChat(body));
}

export function fromOpenAiChat(body: OpenAIChatRequest): JsonObject {
  rejectOpenAiOnly(body, 'Gemini');
  const b = new ContentsBuilder();
  const system: string[] = [];
  readOpenAiMessages(body.messages, {
    system: (text) => system.push(text),
    user: (content, param) => b.push('user', userParts(content, `${param}.content`)),
    assistant: (text, calls) => {
      const parts: Part[] = [];
      if (text !== '') parts.push({ text });
      for (const c of calls) parts.push(b.functionCall(c.id, c.name, c.args));
      b.push('model', parts);
    },
    tool: (id, content, param) => {
      const name = b.nameFor(id, `${param}.tool_call_id`);
      b.push('user', [functionResponsePart(name, openAiText(content, `${param}.content`), false)]);
    },
  });

  const gc: JsonObject = {};
  const maxTokens = openAiMaxTokens(body);
  if (maxTokens !== undefined) gc.maxOutputTokens = maxTokens;
  if (set(body.temperature)) gc.temperature = body.temperature;
  if (set(body.top_p)) gc.topP = body.top_p;
  const stop = stopSequences(body.stop);
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
  if (body.tools && body.tools.length > 0) {
    tools = fromOpenAiTools(body.tools, 'Gemini', functionDeclaration);
    tc = geminiToolConfig(fromOpenAiToolChoice(body.tool_choice, 'Gemini'));
  }
  return assemble(b, system, gc, tools, tc);
}

const AUDIO_MIME: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mp3' };

function userParts(content: OpenAIContent, param: string): Part[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const parts: Part[] = [];
  content?.forEach((p, j) => {
    const pp = `${param}[${j}]`;
    switch (p.type) {
      case 'text':
        if (p.text !== '') parts.push({ text: p.text });
        break;
      case 'image_url':
        parts.push(urlPart(openAiImageUrl(p), `${pp}.image_url.url`));
        break;
      // Audio and file parts are typed by tag only (most wires reject them whole): their fields are read here.
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
