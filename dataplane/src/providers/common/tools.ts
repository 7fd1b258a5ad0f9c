/**
 * Tool definitions and tool_choice between the formats, through one neutral shape: a reader per client
 * format (typed: api/schemas.ts checked the shapes; the readers keep the translation rules), a builder per
 * wire. Pure.
 */
import type { AnthropicToolChoice, OpenAITool, OpenAIToolChoice } from '../../api/parts.js';
import type { AnthropicMessagesRequest } from '../../api/schemas.js';
import { invalidField, isRecord, type JsonObject, unsupported } from './json.js';

/** The neutral tool_choice. `auto` given explicitly is kept apart from absent (undefined). */
export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

/** Builds one wire tool definition from a tool's name, description and JSON Schema (each as the client sent it). */
export type ToolBuilder = (name: string, description: unknown, schema: unknown) => JsonObject;

/** OpenAI `tools` (type function) → wire tools; `target` names the provider in errors. */
export function fromOpenAiTools(tools: readonly OpenAITool[], target: string, build: ToolBuilder): JsonObject[] {
  return tools.map((t, i) => {
    if (t.type !== 'function')
      throw unsupported(`tools[${i}].type`, `tool type ${String(t.type)} is not available from ${target}`);
    const f = t.function;
    return build(f.name, f.description, f.parameters);
  });
}

/** Anthropic `tools` (custom tools; server tools are rejected) → wire tools. */
export function fromAnthropicTools(
  tools: NonNullable<AnthropicMessagesRequest['tools']>,
  target: string,
  build: ToolBuilder,
): JsonObject[] {
  return tools.map((t, i) => {
    if (t.type !== undefined && t.type !== 'custom')
      throw unsupported(`tools[${i}].type`, `Anthropic server tool ${String(t.type)} is not available from ${target}`);
    return build(t.name, t.description, t.input_schema);
  });
}

/** OpenAI tool_choice → neutral; undefined when absent. */
export function fromOpenAiToolChoice(
  choice: OpenAIToolChoice | null | undefined,
  target: string,
): ToolChoice | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === 'string') return { type: choice };
  if (choice.type === 'function') return { type: 'tool', name: choice.function.name };
  if (String(choice.type) === 'allowed_tools')
    throw unsupported('tool_choice', `allowed_tools is not available from ${target}`);
  throw invalidField('tool_choice', 'must be none, auto, required or {type: "function", function: {name}}');
}

/** Anthropic tool_choice → neutral, with its disable_parallel_tool_use; undefined when absent. */
export function fromAnthropicToolChoice(
  tc: AnthropicToolChoice | undefined,
): { choice: ToolChoice; disableParallel: boolean } | undefined {
  if (tc === undefined) return undefined;
  let choice: ToolChoice;
  switch (tc.type) {
    case 'auto':
    case 'none':
      choice = { type: tc.type };
      break;
    case 'any':
      choice = { type: 'required' };
      break;
    case 'tool':
      choice = { type: 'tool', name: tc.name };
      break;
  }
  return { choice, disableParallel: tc.disable_parallel_tool_use === true };
}

/** An Anthropic tool (input_schema defaults to an empty object schema: Anthropic requires one). */
export const anthropicTool: ToolBuilder = (name, description, schema) => {
  const tool: JsonObject = { name, input_schema: isRecord(schema) ? schema : { type: 'object', properties: {} } };
  if (typeof description === 'string') tool.description = description;
  return tool;
};

/** An OpenAI function tool. */
export const openAiTool: ToolBuilder = (name, description, schema) => {
  const fn: JsonObject = { name, parameters: isRecord(schema) ? schema : { type: 'object' } };
  if (typeof description === 'string') fn.description = description;
  return { type: 'function', function: fn };
};

/**
 * Neutral → Anthropic tool_choice. Absent or `auto` is left out unless parallel calls are disabled (which
 * only tool_choice can say); `none` takes no parallel flag.
 */
export function anthropicToolChoice(c: ToolChoice | undefined, disableParallel: boolean): JsonObject | undefined {
  let out: JsonObject | undefined;
  if (c === undefined || c.type === 'auto') out = disableParallel ? { type: 'auto' } : undefined;
  else if (c.type === 'none') return { type: 'none' };
  else if (c.type === 'required') out = { type: 'any' };
  else out = { type: 'tool', name: c.name };
  if (disableParallel && out) out.disable_parallel_tool_use = true;
  return out;
}

/** Neutral → OpenAI tool_choice. */
export function openAiToolChoice(c: ToolChoice): unknown {
  return c.type === 'tool' ? { type: 'function', function: { name: c.name } } : c.type;
}
