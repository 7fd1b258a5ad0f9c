/**
 * Schemas of the nested parts of client requests the translators read: OpenAI content parts, tool calls,
 * tools and tool_choice; Anthropic content blocks, sources, system blocks and tool_choice (ADR 0052).
 *
 * A tagged value (`type`) of a variant the gateway knows has its shape checked; a variant it does not know
 * passes as `{type}` (an `Other*` type: the client's API grows faster than the gateway, and a same-format
 * upstream may take it), and a translator that cannot express it answers unsupported_parameter. Loose objects:
 * unknown fields pass through. fast-check.ts restates these checks in plain JS: change both.
 *
 * Markers at the start of a message shape the error the client sees (api/parse.ts reads them): AS_IS gives the
 * message as written, UP too and reports it at the enclosing object (the param the gateway has always named
 * there), NOT_THIS is the catch-all variant declining a tag a checked variant owns (so the error names that
 * variant's field).
 */
import { z } from 'zod';

export const UP = '\u2191';
export const AS_IS = '\u2192';
export const NOT_THIS = '\u2205';

const nullish = <T extends z.ZodType>(s: T) => s.nullable().optional();

/**
 * The type of a tag no checked variant owns. A string at run time (read it with String()); for TypeScript a
 * unit type of its own, so that `switch (x.type)` narrows to the checked variants (a `string` member would
 * keep every variant in every branch).
 */
declare const otherTag: unique symbol;
export type OtherTag = typeof otherTag;

/** Any tag but the checked ones (`optional`: the tag may be absent too). */
function other(known: readonly string[], optional = false) {
  const tags = new Set<unknown>(known);
  const tag = z.custom<OtherTag>((t) => typeof t === 'string' && !tags.has(t), { error: NOT_THIS, abort: true });
  return z.looseObject({ type: optional ? tag.optional() : tag });
}

/** A field whose errors are reported at the object holding it, with this message. */
const upString = (message: string) => z.string({ error: `${UP}${message}` });

// ─── OpenAI chat ────────────────────────────────────────────────────────────────────────────────────────

/**
 * OpenAI content parts. Audio and file parts are typed by tag only: most targets reject them whole
 * (unsupported_parameter naming the type), the Gemini translator reads their fields.
 */
export const OPENAI_PART_TYPES = ['text', 'image_url', 'refusal', 'input_audio', 'file'] as const;
const openAiPart = z.union([
  z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('text'), text: z.string() }),
    z.looseObject({
      type: z.literal('image_url'),
      // `{url}`, or leniently a bare string.
      image_url: z.union([z.string(), z.looseObject({ url: z.string() })]),
    }),
    z.looseObject({ type: z.literal('refusal'), refusal: z.string() }),
    z.looseObject({ type: z.literal('input_audio') }),
    z.looseObject({ type: z.literal('file') }),
  ]),
  other(OPENAI_PART_TYPES),
]);
export type OpenAIContentPart = z.infer<typeof openAiPart>;

export const openAiContent = nullish(z.union([z.string(), z.array(openAiPart)]));
export type OpenAIContent = z.infer<typeof openAiContent>;

/** A function tool call (`type` may be left out), or a custom tool call. */
export const openAiToolCall = z.union([
  z.looseObject({
    id: z.string(),
    type: z.literal('function').optional(),
    function: z.looseObject({ name: z.string(), arguments: nullish(z.string()) }),
  }),
  z.looseObject({ type: z.literal('custom') }),
]);
export type OpenAIToolCall = z.infer<typeof openAiToolCall>;

export const openAiTool = z.union([
  z.looseObject({
    type: z.literal('function'),
    function: z.looseObject({ name: z.string() }),
  }),
  other(['function']),
]);
export type OpenAITool = z.infer<typeof openAiTool>;

export const openAiToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
  other(['function']),
]);
export type OpenAIToolChoice = z.infer<typeof openAiToolChoice>;

// ─── Anthropic messages ─────────────────────────────────────────────────────────────────────────────────

const base64Source = z.looseObject({
  type: z.literal('base64'),
  media_type: upString('base64 source needs media_type and data'),
  data: upString('base64 source needs media_type and data'),
});
const urlSource = z.looseObject({ type: z.literal('url'), url: z.string() });
const imageSource = z.union([base64Source, urlSource, other(['base64', 'url'], true)]);
const documentSource = z.union([
  base64Source,
  urlSource,
  z.looseObject({ type: z.literal('text'), data: z.string() }),
  other(['base64', 'url', 'text'], true),
]);
export type AnthropicImageSource = z.infer<typeof imageSource>;
export type AnthropicDocumentSource = z.infer<typeof documentSource>;

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const imageBlock = z.looseObject({ type: z.literal('image'), source: imageSource });
export type AnthropicTextBlock = z.infer<typeof textBlock>;
export type AnthropicImageBlock = z.infer<typeof imageBlock>;

/** tool_result content blocks: text and images checked, the rest typed by tag. */
export const TOOL_RESULT_BLOCK_TYPES = ['text', 'image'] as const;
const toolResultBlock = z.union([
  z.discriminatedUnion('type', [textBlock, imageBlock]),
  other(TOOL_RESULT_BLOCK_TYPES),
]);
export type AnthropicToolResultBlock = z.infer<typeof toolResultBlock>;

export const ANTHROPIC_BLOCK_TYPES = [
  'text',
  'image',
  'document',
  'tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
] as const;
const anthropicBlock = z.union([
  z.discriminatedUnion('type', [
    textBlock,
    imageBlock,
    z.looseObject({ type: z.literal('document'), source: documentSource }),
    z.looseObject({
      type: z.literal('tool_use'),
      id: upString('tool_use needs a string id and name'),
      name: upString('tool_use needs a string id and name'),
    }),
    z.looseObject({
      type: z.literal('tool_result'),
      tool_use_id: z.string(),
      content: nullish(z.union([z.string(), z.array(toolResultBlock)])),
    }),
    z.looseObject({ type: z.literal('thinking') }),
    z.looseObject({ type: z.literal('redacted_thinking') }),
  ]),
  other(ANTHROPIC_BLOCK_TYPES),
]);
export type AnthropicBlock = z.infer<typeof anthropicBlock>;

export const anthropicContent = z.union([z.string(), z.array(anthropicBlock)]);

const systemBlock = z.union([textBlock, other(['text'])]);
export const anthropicSystem = z.union([z.string(), z.array(systemBlock)]).optional();
export type AnthropicSystemBlock = z.infer<typeof systemBlock>;

export const anthropicToolChoice = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto') }),
  z.looseObject({ type: z.literal('any') }),
  z.looseObject({ type: z.literal('tool'), name: z.string() }),
  z.looseObject({ type: z.literal('none') }),
]);
export type AnthropicToolChoice = z.infer<typeof anthropicToolChoice>;
