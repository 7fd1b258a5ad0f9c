import type { z } from 'zod';
import { rng } from '../../../test/support/rng.js';
import { fastAnthropicMessages, fastOpenAiChat, fastOpenAiEmbeddings } from './fast-check.js';
import { AnthropicMessagesSchema, OpenAiChatSchema, OpenAiEmbeddingsSchema } from './schemas.js';

/** Values of every kind and edge, valid for some field or other; any field may get any of them. */
const ANY: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  2,
  2.5,
  -2,
  -2.5,
  20,
  21,
  2 ** 31,
  2 ** 53 - 1,
  2 ** 53,
  1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'x',
  'auto',
  'none',
  'required',
  'any',
  'tool',
  'float',
  'base64',
  'hex',
  'user',
  'assistant',
  'system',
  'function',
  [],
  ['a'],
  ['a', 1],
  [1],
  [1.5],
  [[1], []],
  [[1.5]],
  [{ type: 'text' }],
  [{ type: 1 }],
  [{ name: 'n' }],
  [{}],
  [null],
  {},
  { type: 'text' },
  { type: 'auto' },
  { type: 'maybe' },
  { type: 1 },
  { include_usage: true },
  { include_usage: 'yes' },
  { user_id: null },
  { user_id: 'u' },
  { user_id: 5 },
];

type Fields = Record<string, unknown[]>;

const OPENAI_MESSAGE: Fields = {
  role: ['system', 'developer', 'user', 'assistant', 'tool', 'function'],
  content: [null, 'hi', [], [{ type: 'text', text: 'x' }]],
  tool_calls: [null, [], [{ id: 'c' }]],
  tool_call_id: ['c'],
};

const OPENAI_CHAT: Fields = {
  model: ['m', 'gpt-4o'],
  stream: [null, true, false],
  stream_options: [null, {}, { include_usage: true }, { include_usage: false, other: 1 }],
  max_tokens: [null, 1, 4096, 2 ** 53 - 1],
  max_completion_tokens: [null, 1, 100],
  temperature: [null, 0, -0, 0.7, 2],
  top_p: [null, 0, 0.5, 1],
  n: [null, 1, 3],
  stop: [null, 'x', [], ['a', 'b']],
  presence_penalty: [null, -2, 0, 2],
  frequency_penalty: [null, -2, 1.5, 2],
  seed: [null, 0, -5, 2 ** 40],
  user: ['u', ''],
  tools: [null, [], [{ type: 'function', function: {} }]],
  tool_choice: [null, 'none', 'auto', 'required', { type: 'function' }],
  parallel_tool_calls: [null, true],
  logprobs: [null, false],
  top_logprobs: [null, 0, 20],
  response_format: [null, { type: 'json_object' }],
};

const EMBEDDINGS: Fields = {
  model: ['e'],
  input: ['x', '', ['a'], ['a', 'b'], [1, 2], [[1, 2], []], [[3]]],
  encoding_format: ['float', 'base64'],
  dimensions: [1, 256],
  user: ['u'],
};

const ANTHROPIC_MESSAGE: Fields = {
  role: ['user', 'assistant'],
  content: ['hi', [], [{ type: 'text', text: 'x' }]],
};

const ANTHROPIC: Fields = {
  model: ['claude'],
  max_tokens: [1, 1024],
  system: ['s', [], [{ type: 'text', text: 's' }]],
  stream: [true, false],
  temperature: [0, 0.3, 1],
  top_p: [0, 1],
  top_k: [0, 40],
  stop_sequences: [[], ['x']],
  metadata: [{}, { user_id: null }, { user_id: 'u' }],
  tools: [[], [{ name: 't', input_schema: {} }]],
  tool_choice: [{ type: 'auto' }, { type: 'any' }, { type: 'tool', name: 't' }, { type: 'none' }],
};

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** A body from the field lists: each field absent, valid, or (rarely) any value at all; `wild` = 0: only valid. */
function gen(r: () => number, fields: Fields, required: readonly string[], wild: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, valid] of Object.entries(fields)) {
    const x = r();
    if (x < wild) out[k] = pick(r, ANY);
    else if (required.includes(k) || x < 0.5) out[k] = pick(r, valid);
  }
  if (r() < wild) out.vendor_field = pick(r, ANY);
  return out;
}

function messages(r: () => number, fields: Fields, required: readonly string[], wild: number): unknown {
  if (r() < wild) return pick(r, ANY);
  const n = Math.floor(r() * 3) + (wild > 0 ? 0 : 1);
  return Array.from({ length: n }, () => (r() < wild / 2 ? pick(r, ANY) : gen(r, fields, required, wild)));
}

interface Case {
  name: string;
  schema: z.ZodType;
  fast: (b: unknown) => boolean;
  body: (r: () => number, wild: number) => Record<string, unknown>;
}

const CASES: Case[] = [
  {
    name: 'OpenAI chat',
    schema: OpenAiChatSchema,
    fast: fastOpenAiChat,
    body: (r, wild) => ({
      ...gen(r, OPENAI_CHAT, ['model'], wild),
      messages: messages(r, OPENAI_MESSAGE, ['role'], wild),
    }),
  },
  {
    name: 'OpenAI embeddings',
    schema: OpenAiEmbeddingsSchema,
    fast: fastOpenAiEmbeddings,
    body: (r, wild) => gen(r, EMBEDDINGS, ['model', 'input'], wild),
  },
  {
    name: 'Anthropic messages',
    schema: AnthropicMessagesSchema,
    fast: fastAnthropicMessages,
    body: (r, wild) => ({
      ...gen(r, ANTHROPIC, ['model', 'max_tokens'], wild),
      messages: messages(r, ANTHROPIC_MESSAGE, ['role', 'content'], wild),
    }),
  },
];

describe.each(CASES)('fast check: $name', ({ schema, fast, body }) => {
  it('never accepts what the schema rejects', () => {
    const r = rng(0x7011);
    let fastOk = 0;
    let zodOk = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = body(r, 0.08);
      const z = schema.safeParse(b).success;
      const f = fast(b);
      if (f && !z) throw new Error(`fast check accepted what the schema rejects: ${JSON.stringify(b)}`);
      if (f) fastOk++;
      if (z) zodOk++;
    }
    // Both outcomes were exercised, and the fast pass vouches for most bodies the schema accepts.
    expect(fastOk).toBeGreaterThan(2000);
    expect(zodOk).toBeLessThan(20_000);
    expect(fastOk / zodOk).toBeGreaterThan(0.9);
  });

  it('accepts every body built from valid values only', () => {
    const r = rng(0x5eed);
    for (let i = 0; i < 5_000; i++) {
      const b = body(r, 0);
      expect(schema.safeParse(b).success).toBe(true);
      if (!fast(b)) throw new Error(`fast check refused a valid body: ${JSON.stringify(b)}`);
    }
  });

  it('refuses what is not an object', () => {
    for (const v of [null, undefined, 'x', 1, [], [{}]]) expect(fast(v)).toBe(false);
  });
});
