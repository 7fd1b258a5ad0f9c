/**
 * Tool definitions and tool_choice between the formats, through one neutral shape: a reader per client
 * format (validation and errors in one place), a builder per wire. Pure.
 */
import { invalidField, isRecord, type JsonObject, set, unsupported } from './json.js';

/** The neutral tool_choice. `auto` given explicitly is kept apart from absent (undefined). */
export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

/** Builds one wire tool definition from a tool's name, description and JSON Schema (each as the client sent it). */
export type ToolBuilder = (name: string, description: unknown, schema: unknown) => JsonObject;

/** OpenAI `tools` (type function) → wire tools; `target` names the provider in errors. */
export function fromOpenAiTools(tools: unknown[], target: string, build: ToolBuilder): JsonObject[] {
  return tools.map((t, i) => {
    const param = `tools[${i}]`;
    if (!isRecord(t)) throw invalidField(param, 'must be an object');
    if (t.type !== 'function')
      throw unsupported(`${param}.type`, `tool type ${String(t.type)} is not available from ${target}`);
    const f = t.function;
    if (!isRecord(f) || typeof f.name !== 'string') throw invalidField(`${param}.function.name`, 'must be a string');
    return build(f.name, f.description, f.parameters);
  });
}

/** Anthropic `tools` (custom tools; server tools are rejected) → wire tools. */
export function fromAnthropicTools(tools: unknown[], target: string, build: ToolBuilder): JsonObject[] {
  return tools.map((t, i) => {
    const param = `tools[${i}]`;
    if (!isRecord(t)) throw invalidField(param, 'must be an object');
    if (t.type !== undefined && t.type !== 'custom')
      throw unsupported(`${param}.type`, `Anthropic server tool ${String(t.type)} is not available from ${target}`);
    if (typeof t.name !== 'string') throw invalidField(`${param}.name`, 'must be a string');
    return build(t.name, t.description, t.input_schema);
  });
}

/** OpenAI tool_choice → neutral; undefined when absent. */
export function fromOpenAiToolChoice(choice: unknown, target: string): ToolChoice | undefined {
  if (!set(choice)) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { type: choice };
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function)) {
    if (typeof choice.function.name !== 'string') throw invalidField('tool_choice.function.name', 'must be a string');
    return { type: 'tool', name: choice.function.name };
  }
  if (isRecord(choice) && choice.type === 'allowed_tools')
    throw unsupported('tool_choice', `allowed_tools is not available from ${target}`);
  throw invalidField('tool_choice', 'must be none, auto, required or {type: "function", function: {name}}');
}

/** Anthropic tool_choice → neutral, with its disable_parallel_tool_use; undefined when absent. */
export function fromAnthropicToolChoice(tc: unknown): { choice: ToolChoice; disableParallel: boolean } | undefined {
  if (!set(tc)) return undefined;
  if (!isRecord(tc)) throw invalidField('tool_choice', 'must be an object');
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
      if (typeof tc.name !== 'string') throw invalidField('tool_choice.name', 'must be a string');
      choice = { type: 'tool', name: tc.name };
      break;
    default:
      throw invalidField('tool_choice.type', 'must be auto, any, tool or none');
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
