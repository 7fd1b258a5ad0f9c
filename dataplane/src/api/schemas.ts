/**
 * Schemas of client request bodies, in two layers (ADR 0052). The envelope schemas check the top-level fields
 * and messages shallowly (role, content type); the request schemas extend them with the nested parts the
 * translators read (parts.ts), and their inferred types are what the translators take. Loose objects: unknown
 * fields pass through (the translators decide what to forward, drop or reject). fast-check.ts mirrors the
 * request schemas by hand for the per-request fast pass: change both (fast-check.test.ts fails when the fast
 * pass is laxer).
 */
import { z } from 'zod';
import {
  AS_IS,
  anthropicContent,
  anthropicSystem,
  anthropicToolChoice,
  openAiContent,
  openAiTool,
  openAiToolCall,
  openAiToolChoice,
  UP,
} from './parts.js';

const nullish = <T extends z.ZodType>(s: T) => s.nullable().optional();
const posInt = z.number().int().positive();

const openAiMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: nullish(z.union([z.string(), z.array(z.unknown())])),
  tool_calls: nullish(z.array(z.unknown())),
  tool_call_id: z.string().optional(),
});

export const OpenAiChatSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(openAiMessage).min(1),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.looseObject({ include_usage: z.boolean().optional() })),
  max_tokens: nullish(posInt),
  max_completion_tokens: nullish(posInt),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  n: nullish(posInt),
  stop: nullish(z.union([z.string(), z.array(z.string())])),
  presence_penalty: nullish(z.number().min(-2).max(2)),
  frequency_penalty: nullish(z.number().min(-2).max(2)),
  seed: nullish(z.number().int()),
  user: z.string().optional(),
  tools: nullish(z.array(z.looseObject({ type: z.string() }))),
  tool_choice: nullish(z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })])),
  parallel_tool_calls: nullish(z.boolean()),
  logprobs: nullish(z.boolean()),
  top_logprobs: nullish(z.number().int().min(0).max(20)),
  response_format: nullish(z.looseObject({ type: z.string() })),
});

export const OpenAiEmbeddingsSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int())).min(1),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: posInt.optional(),
  user: z.string().optional(),
});

const anthropicMessage = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});

export const AnthropicMessagesSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: posInt,
  messages: z.array(anthropicMessage).min(1),
  system: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stop_sequences: z.array(z.string({ error: `${UP}must be an array of strings` })).optional(),
  metadata: z.looseObject({ user_id: nullish(z.string()) }).optional(),
  tools: z.array(z.looseObject({ name: z.string() })).optional(),
  tool_choice: z.looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']) }).optional(),
});

// ─── the request schemas: envelope + nested parts ──────────────────────────────────────────────────────

/** OpenAI messages by role, each the envelope's message with what that role's translation reads. */
const openAiMessageByRole = z.discriminatedUnion('role', [
  openAiMessage.extend({ role: z.enum(['system', 'developer']), content: openAiContent }),
  openAiMessage.extend({ role: z.literal('user'), content: openAiContent }),
  openAiMessage.extend({
    role: z.literal('assistant'),
    content: openAiContent,
    tool_calls: nullish(z.array(openAiToolCall)),
  }),
  openAiMessage.extend({
    role: z.literal('tool'),
    tool_call_id: z.string({ error: `${AS_IS}is required for role tool` }),
    content: openAiContent,
  }),
  openAiMessage.extend({ role: z.literal('function'), content: openAiContent }),
]);

export const OpenAiChatRequestSchema = OpenAiChatSchema.extend({
  messages: z.array(openAiMessageByRole).min(1),
  tools: nullish(z.array(openAiTool)),
  tool_choice: nullish(openAiToolChoice),
});

export const AnthropicMessagesRequestSchema = AnthropicMessagesSchema.extend({
  messages: z.array(anthropicMessage.extend({ content: anthropicContent })).min(1),
  system: anthropicSystem,
  tool_choice: anthropicToolChoice.optional(),
});

/** An OpenAI chat.completions request body, as validated. */
export type OpenAIChatRequest = z.infer<typeof OpenAiChatRequestSchema>;
export type OpenAIMessage = OpenAIChatRequest['messages'][number];
/** An OpenAI embeddings request body, as validated. */
export type OpenAIEmbeddingsRequest = z.infer<typeof OpenAiEmbeddingsSchema>;
/** An Anthropic Messages request body, as validated. */
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequestSchema>;
export type AnthropicMessage = AnthropicMessagesRequest['messages'][number];
