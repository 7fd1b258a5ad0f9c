import { describe, expect, test } from '@jest/globals';
import { cacheScope, chatKey, embeddingItemKeys, embeddingItems, type KeyInput } from './key.js';

const base: Record<string, unknown> = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hi' },
  ],
  temperature: 0.2,
};
const k = (body: Record<string, unknown>, more: Partial<KeyInput> = {}): string =>
  chatKey({ format: 'openai', model: 'gpt-4o', body, ...more });

describe('chatKey: what does not change the key', () => {
  const same: Array<[string, Record<string, unknown>]> = [
    ['stream', { ...base, stream: true }],
    ['stream_options', { ...base, stream: true, stream_options: { include_usage: true } }],
    ['user', { ...base, user: 'u-1' }],
    ['metadata', { ...base, metadata: { a: '1' } }],
    ['key order', { temperature: 0.2, messages: base.messages, model: 'gpt-4o' }],
    [
      'one text part for a string',
      {
        ...base,
        messages: [base.messages as unknown[]][0]!.map((m, i) =>
          i === 1 ? { role: 'user', content: [{ type: 'text', text: 'hi' }] } : m,
        ),
      },
    ],
  ];
  test.each(same)('%s', (_name, body) => expect(k(body)).toBe(k(base)));

  test('max_tokens and max_completion_tokens are one field; stop as a string and as a list', () => {
    expect(k({ ...base, max_tokens: 5 })).toBe(k({ ...base, max_completion_tokens: 5 }));
    expect(k({ ...base, stop: 'x' })).toBe(k({ ...base, stop: ['x'] }));
  });

  test('anthropic: cache_control markers, system as one text block, metadata', () => {
    const a = { model: 'c', max_tokens: 10, system: 'be brief', messages: [{ role: 'user', content: 'hi' }] };
    const b = {
      model: 'c',
      max_tokens: 10,
      metadata: { user_id: 'x' },
      system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }],
    };
    const ka = chatKey({ format: 'anthropic', model: 'c', body: a });
    expect(chatKey({ format: 'anthropic', model: 'c', body: b })).toBe(ka);
  });
});

describe('chatKey: what changes the key', () => {
  const differ: Array<[string, Record<string, unknown>]> = [
    ['a message', { ...base, messages: [{ role: 'user', content: 'hello' }] }],
    [
      'the system prompt',
      {
        ...base,
        messages: [
          { role: 'system', content: 'be long' },
          { role: 'user', content: 'hi' },
        ],
      },
    ],
    ['temperature', { ...base, temperature: 0.3 }],
    ['top_p', { ...base, top_p: 0.5 }],
    ['max tokens', { ...base, max_tokens: 7 }],
    ['stop', { ...base, stop: ['y'] }],
    ['seed', { ...base, seed: 1 }],
    ['tools', { ...base, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }],
    ['tool_choice', { ...base, tool_choice: 'required' }],
    ['response_format', { ...base, response_format: { type: 'json_object' } }],
    ['reasoning_effort', { ...base, reasoning_effort: 'high' }],
    ['n', { ...base, n: 2 }],
    ['an unknown field', { ...base, logit_bias: { '1': 5 } }],
    [
      'two text parts for a string',
      {
        ...base,
        messages: [
          { role: 'system', content: 'be brief' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'h' },
              { type: 'text', text: 'i' },
            ],
          },
        ],
      },
    ],
  ];
  test.each(differ)('%s', (_name, body) => expect(k(body)).not.toBe(k(base)));

  test('the model asked for, the client format and forwarded headers', () => {
    expect(k(base, { model: 'smart' })).not.toBe(k(base));
    expect(k(base, { format: 'anthropic' })).not.toBe(k(base));
    expect(k(base, { headers: { 'anthropic-beta': 'x' } })).not.toBe(k(base));
  });

  test('anthropic thinking settings', () => {
    const a = { max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    const b = { ...a, thinking: { type: 'enabled', budget_tokens: 1024 } };
    expect(chatKey({ format: 'anthropic', model: 'c', body: a })).not.toBe(
      chatKey({ format: 'anthropic', model: 'c', body: b }),
    );
  });

  test('a digest is 64 hex characters', () => expect(k(base)).toMatch(/^[0-9a-f]{64}$/));
});

describe('cacheScope', () => {
  test('namespace, key, anonymous', () => {
    expect(cacheScope('namespace', 'ai', 'ai/k1')).toBe('ns:ai');
    expect(cacheScope('perKey', 'ai', 'ai/k1')).toBe('key:ai/k1');
    expect(cacheScope('perKey', 'ai', undefined)).toBe('key:~anonymous');
  });
});

describe('embeddings: one key per item', () => {
  const e = (body: Record<string, unknown>) => embeddingItemKeys({ format: 'openai', model: 'e', body });
  test('items', () => {
    expect(embeddingItems('a')).toEqual(['a']);
    expect(embeddingItems([1, 2])).toEqual([[1, 2]]);
    expect(embeddingItems(['a', 'b'])).toEqual(['a', 'b']);
    expect(embeddingItems([[1], [2]])).toEqual([[1], [2]]);
    expect(embeddingItems([])).toBeUndefined();
    expect(embeddingItems([{ a: 1 }])).toBeUndefined();
    expect(embeddingItems(5)).toBeUndefined();
  });
  test('an item has the same key alone or in a batch, and the key depends on encoding and dimensions', () => {
    const [a, b] = e({ input: ['a', 'b'] })!;
    expect(e({ input: 'a' })).toEqual([a]);
    expect(e({ input: ['b'], user: 'x' })).toEqual([b]);
    expect(a).not.toBe(b);
    expect(e({ input: 'a', encoding_format: 'base64' })![0]).not.toBe(a);
    expect(e({ input: 'a', dimensions: 256 })![0]).not.toBe(a);
  });
});
