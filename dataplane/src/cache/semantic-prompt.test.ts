import { describe, expect, test } from '@jest/globals';
import {
  cosine,
  normalise,
  type SemanticScope,
  semanticFingerprint,
  semanticPrompt,
  semanticScopeId,
} from './semantic-prompt.js';

const user = (content: unknown) => ({ role: 'user', content });
const TOOLS = [{ type: 'function', function: { name: 'f', parameters: {} } }];

describe('semanticPrompt: eligibility and the text embedded', () => {
  const cases: Array<[string, 'openai' | 'anthropic', Record<string, unknown>, boolean, string | { text: string }]> = [
    ['one user message', 'openai', { messages: [user('Hi there')] }, false, { text: 'user: Hi there' }],
    [
      'system left out, history kept in order',
      'openai',
      {
        messages: [{ role: 'system', content: 'Be terse' }, user('a'), { role: 'assistant', content: 'b' }, user('c')],
      },
      false,
      { text: 'user: a\nassistant: b\nuser: c' },
    ],
    [
      'text parts joined',
      'openai',
      {
        messages: [
          user([
            { type: 'text', text: 'x' },
            { type: 'text', text: 'y' },
          ]),
        ],
      },
      false,
      { text: 'user: x\ny' },
    ],
    [
      'an image part is not text',
      'openai',
      { messages: [user([{ type: 'image_url', image_url: { url: 'u' } }])] },
      false,
      'not_text',
    ],
    ['tools: off by default', 'openai', { messages: [user('q')], tools: TOOLS }, false, 'tools'],
    ['tools: opted in', 'openai', { messages: [user('q')], tools: TOOLS }, true, { text: 'user: q' }],
    ['empty tools list is no tools', 'openai', { messages: [user('q')], tools: [] }, false, { text: 'user: q' }],
    [
      'openai tool result',
      'openai',
      {
        messages: [
          user('q'),
          { role: 'assistant', content: null, tool_calls: [{ id: '1' }] },
          { role: 'tool', content: '42' },
        ],
      },
      false,
      'tool_results',
    ],
    [
      'openai tool result opted in',
      'openai',
      {
        messages: [
          user('q'),
          { role: 'assistant', content: null, tool_calls: [{ id: '1' }] },
          { role: 'tool', content: '42' },
        ],
      },
      true,
      { text: 'user: q\ntool: 42' },
    ],
    [
      'anthropic tool_result block',
      'anthropic',
      { messages: [user([{ type: 'tool_result', tool_use_id: 't', content: '42' }])] },
      false,
      'tool_results',
    ],
    [
      'anthropic tool_use block',
      'anthropic',
      { messages: [user('q'), { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] }] },
      false,
      'tool_results',
    ],
    [
      'anthropic text, system apart',
      'anthropic',
      { system: 'S', messages: [user('Hello')] },
      false,
      { text: 'user: Hello' },
    ],
    ['no messages', 'openai', {}, false, 'empty'],
    ['only a system prompt', 'openai', { messages: [{ role: 'system', content: 'S' }] }, false, 'empty'],
    ['a message that is not an object', 'openai', { messages: ['hi'] }, false, 'not_text'],
  ];
  test.each(cases)('%s', (_name, format, body, optIn, expected) => {
    expect(semanticPrompt(format, body, optIn)).toEqual(expected);
  });
});

describe('semanticFingerprint: what must match exactly', () => {
  const s: SemanticScope = { scope: 'ns:ai', routeId: 'ai/chat', model: 'gpt-4o', embeddingModel: 'emb' };
  const body = { messages: [{ role: 'system', content: 'S' }, user('q')] };
  const base = semanticFingerprint(s, 'openai', body);
  test('stable, 32 hex, independent of the user text', () => {
    expect(base).toMatch(/^[0-9a-f]{32}$/);
    expect(semanticFingerprint(s, 'openai', { messages: [{ role: 'system', content: 'S' }, user('other')] })).toBe(
      base,
    );
  });
  const differs: Array<[string, SemanticScope, Record<string, unknown>, 'openai' | 'anthropic']> = [
    ['scope', { ...s, scope: 'ns:other' }, body, 'openai'],
    ['perKey scope', { ...s, scope: 'key:ai/k1' }, body, 'openai'],
    ['route', { ...s, routeId: 'ai/other' }, body, 'openai'],
    ['model', { ...s, model: 'gpt-4o-mini' }, body, 'openai'],
    ['embedding model', { ...s, embeddingModel: 'emb2' }, body, 'openai'],
    ['system prompt', s, { messages: [{ role: 'system', content: 'T' }, user('q')] }, 'openai'],
    ['tools', s, { ...body, tools: TOOLS }, 'openai'],
    ['tool_choice', s, { ...body, tool_choice: 'none' }, 'openai'],
    ['response_format', s, { ...body, response_format: { type: 'json_object' } }, 'openai'],
    ['client format', s, body, 'anthropic'],
  ];
  test.each(differs)('a different %s is another fingerprint', (_n, scope, b, format) => {
    expect(semanticFingerprint(scope, format, b)).not.toBe(base);
  });
  test('anthropic system prompt counts', () => {
    const a = semanticFingerprint(s, 'anthropic', { system: 'A', messages: [user('q')] });
    expect(semanticFingerprint(s, 'anthropic', { system: 'B', messages: [user('q')] })).not.toBe(a);
  });
});

test('semanticScopeId: namespace or key', () => {
  expect(semanticScopeId('namespace', 'ai', 'ai/k1')).toBe('ns:ai');
  expect(semanticScopeId('perKey', 'ai', 'ai/k1')).toBe('key:ai/k1');
  expect(semanticScopeId('perKey', 'ai', undefined)).toBe('key:~anonymous');
});

describe('cosine and normalise', () => {
  const f = (...n: number[]) => Float32Array.from(n);
  test.each([
    ['same direction', f(1, 2, 3), f(2, 4, 6), 1],
    ['orthogonal', f(1, 0), f(0, 1), 0],
    ['opposite', f(1, 1), f(-1, -1), -1],
    ['zero vector', f(0, 0), f(1, 1), 0],
    ['45 degrees', f(1, 0), f(1, 1), Math.SQRT1_2],
  ])('%s', (_n, a, b, want) => {
    expect(cosine(a, b)).toBeCloseTo(want, 6);
  });
  test('normalise gives unit length and keeps direction; zeros stay zeros', () => {
    const v = normalise(f(3, 4));
    expect(Array.from(v)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(Array.from(normalise(f(0, 0)))).toEqual([0, 0]);
  });
});
