import type { z } from 'zod';
import { chatBody } from '../../../test/bench/measure.js';
import { rng } from '../../../test/support/rng.js';
import { fastAnthropicMessages, fastOpenAiChat, fastOpenAiEmbeddings } from './fast-check.js';
import { AnthropicMessagesRequestSchema, OpenAiChatRequestSchema, OpenAiEmbeddingsSchema } from './schemas.js';

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
  // Nested parts, right and wrong.
  [{ type: 'text', text: 't' }, 3],
  [{ type: 'image_url' }],
  [{ type: 'tool_use', id: 'i' }],
  [{ id: 'c' }],
  [{ type: 'function', function: {} }],
  { type: 'base64' },
  { type: 'base64', media_type: 'image/png', data: 'x' },
  { type: 'url', url: 'u' },
  { type: 'text', data: 'd' },
  { type: 'text' },
  { url: 'u' },
  { name: 'n' },
  { type: 'function' },
  { type: 'function', function: { name: 'f' } },
  { type: 'tool' },
];

/**
 * Nested values: each a pick from valid variants (realized recursively); a wild pick drops one field or gives
 * it any value. `list`: an array of 0-2 of them.
 */
class Nested {
  constructor(
    readonly variants: readonly Record<string, unknown>[],
    readonly list = true,
  ) {}

  make(r: () => number, wild: number): unknown {
    if (!this.list) return this.one(r, wild);
    return Array.from({ length: Math.floor(r() * 3) }, () => (r() < wild / 4 ? pick(r, ANY) : this.one(r, wild)));
  }

  private one(r: () => number, wild: number): unknown {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(pick(r, this.variants))) out[k] = realize(r, v, wild);
    if (r() < wild / 2) {
      const k = pick(r, Object.keys(out));
      if (r() < 0.5) delete out[k];
      else out[k] = pick(r, ANY);
    }
    return out;
  }
}

function realize(r: () => number, v: unknown, wild: number): unknown {
  return v instanceof Nested ? v.make(r, wild) : v;
}

const OPENAI_PARTS = new Nested([
  { type: 'text', text: 'x' },
  { type: 'image_url', image_url: { url: 'https://x/a.png', detail: 'low' } },
  { type: 'image_url', image_url: 'data:image/png;base64,AA' },
  { type: 'refusal', refusal: 'no' },
  { type: 'input_audio', input_audio: { data: 'x', format: 'wav' } },
  { type: 'file', file: { file_id: 'f' } },
  { type: 'video', video: {} },
]);

const OPENAI_TOOL_CALLS = new Nested([
  { id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } },
  { id: 'c', function: { name: 'f' } },
  { type: 'custom', custom: { name: 'c', input: 'x' } },
]);

const ANTHROPIC_SOURCES = new Nested(
  [
    { type: 'base64', media_type: 'image/png', data: 'x' },
    { type: 'url', url: 'https://x/a.png' },
    { type: 'file', file_id: 'f' },
  ],
  false,
);

const ANTHROPIC_BLOCKS = new Nested([
  { type: 'text', text: 'x', cache_control: { type: 'ephemeral' } },
  { type: 'image', source: ANTHROPIC_SOURCES },
  { type: 'document', source: ANTHROPIC_SOURCES },
  { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'd' } },
  { type: 'tool_use', id: 't', name: 'f', input: {} },
  { type: 'tool_result', tool_use_id: 't', content: 'r' },
  {
    type: 'tool_result',
    tool_use_id: 't',
    content: new Nested([{ type: 'text', text: 'r' }, { type: 'image', source: ANTHROPIC_SOURCES }, { type: 'x' }]),
  },
  { type: 'thinking', thinking: 'hm', signature: 's' },
  { type: 'server_tool_use', id: 's', name: 'web_search', input: {} },
]);

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

type Fields = Record<string, unknown[] | Nested>;

const OPENAI_MESSAGE: Fields = {
  role: ['system', 'developer', 'user', 'assistant', 'tool', 'function'],
  content: [null, 'hi', [], [{ type: 'text', text: 'x' }], OPENAI_PARTS],
  tool_calls: [null, [], OPENAI_TOOL_CALLS],
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
  tools: [
    null,
    [],
    new Nested([
      { type: 'function', function: { name: 'f', parameters: { type: 'object' } } },
      { type: 'custom', custom: { name: 'x' } },
    ]),
  ],
  tool_choice: [
    null,
    'none',
    'auto',
    'required',
    new Nested([{ type: 'function', function: { name: 'f' } }, { type: 'allowed_tools' }], false),
  ],
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
  content: ['hi', [], [{ type: 'text', text: 'x' }], ANTHROPIC_BLOCKS],
};

const ANTHROPIC: Fields = {
  model: ['claude'],
  max_tokens: [1, 1024],
  system: ['s', [], [{ type: 'text', text: 's' }], new Nested([{ type: 'text', text: 's' }, { type: 'image' }])],
  stream: [true, false],
  temperature: [0, 0.3, 1],
  top_p: [0, 1],
  top_k: [0, 40],
  stop_sequences: [[], ['x']],
  metadata: [{}, { user_id: null }, { user_id: 'u' }],
  tools: [[], [{ name: 't', input_schema: {} }]],
  tool_choice: [
    { type: 'auto' },
    { type: 'any' },
    { type: 'none' },
    new Nested([{ type: 'tool', name: 't', disable_parallel_tool_use: true }], false),
  ],
};

/** A body from the field lists: each field absent, valid, or (rarely) any value at all; `wild` = 0: only valid. */
function gen(r: () => number, fields: Fields, required: readonly string[], wild: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, valid] of Object.entries(fields)) {
    const x = r();
    if (x < wild) out[k] = pick(r, ANY);
    else if (valid instanceof Nested) {
      if (required.includes(k) || x < 0.5) out[k] = valid.make(r, wild);
    } else if (required.includes(k) || x < 0.5) out[k] = realize(r, pick(r, valid), wild);
  }
  if (r() < wild) out.vendor_field = pick(r, ANY);
  return out;
}

function messages(r: () => number, fields: Fields, required: readonly string[], wild: number): unknown {
  if (r() < wild) return pick(r, ANY);
  // Empty lists come from ANY (`[]`), so that most bodies have messages whose nested parts get checked.
  const n = Math.floor(r() * 2) + 1;
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
    schema: OpenAiChatRequestSchema,
    fast: fastOpenAiChat,
    body: (r, wild) => ({
      ...gen(r, OPENAI_CHAT, ['model'], wild),
      messages: messages(r, OPENAI_MESSAGE, ['role', 'tool_call_id'], wild),
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
    schema: AnthropicMessagesRequestSchema,
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

describe('fast check: the bodies of test/bench', () => {
  it('vouches for the benchmark requests and typical tool-calling requests (they never reach zod)', () => {
    for (const stream of [false, true]) expect(fastOpenAiChat(JSON.parse(chatBody('bench-fast', stream)))).toBe(true);
    expect(fastOpenAiChat({ model: 'bench-fast', messages: [{ role: 'user', content: 'hi' }] })).toBe(true);
    const toolCalling = {
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '18C' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      tool_choice: 'auto',
    };
    expect(fastOpenAiChat(toolCalling)).toBe(true);
    expect(OpenAiChatRequestSchema.safeParse(toolCalling).success).toBe(true);
    const anthropicToolCalling = {
      model: 'claude',
      max_tokens: 100,
      system: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'get_weather', input: { city: 'Paris' } }] },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: '18C' }] }],
        },
      ],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'get_weather' },
    };
    expect(fastAnthropicMessages(anthropicToolCalling)).toBe(true);
    expect(AnthropicMessagesRequestSchema.safeParse(anthropicToolCalling).success).toBe(true);
  });
});
