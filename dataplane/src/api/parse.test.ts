import { GatewayError } from '../errors.js';
import { formatPath, parseClientRequest } from './parse.js';

function err(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error('expected a GatewayError');
}

const okChat = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
const okMsg = { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

describe('parseClientRequest', () => {
  it('accepts valid bodies and returns the same object with unknown fields kept', () => {
    const body = { ...okChat, stream: true, some_vendor_field: { x: 1 } };
    expect(parseClientRequest('openai', 'chat', body)).toBe(body);
    const msg = { ...okMsg, system: [{ type: 'text', text: 's' }], extra: 1 };
    expect(parseClientRequest('anthropic', 'chat', msg)).toBe(msg);
    const emb = { model: 'text-embedding-3-small', input: ['a', 'b'] };
    expect(parseClientRequest('openai', 'embeddings', emb)).toBe(emb);
    expect(
      parseClientRequest('openai', 'chat', { ...okChat, max_tokens: null, stop: null, temperature: 2 }),
    ).toBeTruthy();
  });

  it.each([
    ['openai', 'chat', 'not an object', undefined, /JSON object/],
    ['openai', 'chat', [1], undefined, /JSON object/],
    ['openai', 'chat', null, undefined, /JSON object/],
    ['openai', 'chat', { messages: okChat.messages }, 'model', /model: is required/],
    ['openai', 'chat', { model: 5, messages: okChat.messages }, 'model', /model/],
    ['openai', 'chat', { model: 'm' }, 'messages', /messages: is required/],
    ['openai', 'chat', { model: 'm', messages: 'hi' }, 'messages', /messages/],
    ['openai', 'chat', { model: 'm', messages: [] }, 'messages', /messages/],
    ['openai', 'chat', { model: 'm', messages: [{ role: 'bot', content: 'x' }] }, 'messages[0].role', /must be one of/],
    ['openai', 'chat', { model: 'm', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', /wrong type/],
    ['openai', 'chat', { model: 'm', messages: [{ role: 'user' }] }, 'messages[0].content', /is required/],
    [
      'openai',
      'chat',
      { model: 'm', messages: [{ role: 'tool', content: 'r' }] },
      'messages[0].tool_call_id',
      /required/,
    ],
    ['openai', 'chat', { ...okChat, stream: 'yes' }, 'stream', /stream/],
    ['openai', 'chat', { ...okChat, max_tokens: 1.5 }, 'max_tokens', /max_tokens/],
    ['openai', 'chat', { ...okChat, max_tokens: 0 }, 'max_tokens', /max_tokens/],
    ['openai', 'chat', { ...okChat, temperature: 3 }, 'temperature', /temperature/],
    ['openai', 'chat', { ...okChat, stop: [1] }, 'stop', /stop/],
    ['openai', 'chat', { ...okChat, tools: {} }, 'tools', /tools/],
    ['openai', 'chat', { ...okChat, tool_choice: 'sometimes' }, 'tool_choice', /tool_choice/],
    ['openai', 'embeddings', { model: 'e' }, 'input', /input: is required/],
    ['openai', 'embeddings', { model: 'e', input: [] }, 'input', /input/],
    ['openai', 'embeddings', { model: 'e', input: 'x', encoding_format: 'hex' }, 'encoding_format', /must be one of/],
    ['anthropic', 'chat', { model: 'c', messages: okMsg.messages }, 'max_tokens', /max_tokens: is required/],
    ['anthropic', 'chat', { ...okMsg, messages: [] }, 'messages', /messages: /],
    ['anthropic', 'chat', { ...okMsg, max_tokens: '10' }, 'max_tokens', /max_tokens/],
    ['anthropic', 'chat', { ...okMsg, max_tokens: 2.5 }, 'max_tokens', /max_tokens/],
    ['anthropic', 'chat', { ...okMsg, messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role', /one of/],
    [
      'anthropic',
      'chat',
      { ...okMsg, messages: [{ role: 'user', content: [{ text: 'x' }] }] },
      'messages[0].content',
      /type/,
    ],
    ['anthropic', 'chat', { ...okMsg, temperature: 1.5 }, 'temperature', /temperature/],
    ['anthropic', 'chat', { ...okMsg, stream: 1 }, 'stream', /stream/],
    ['anthropic', 'chat', { ...okMsg, system: 3 }, 'system', /system/],
    ['anthropic', 'chat', { ...okMsg, tool_choice: { type: 'maybe' } }, 'tool_choice.type', /one of/],
  ] as const)('%s %s rejects %j (param %s)', (format, op, body, param, message) => {
    const e = err(() => parseClientRequest(format, op, body));
    expect(e.code).toBe('invalid_request');
    expect(e.status).toBe(400);
    expect(e.param).toBe(param);
    expect(e.message).toMatch(message);
  });

  const hi = { role: 'user', content: 'hi' };
  it.each([
    [
      'openai',
      { model: 'm', messages: [hi, { role: 'user', content: [{ type: 'text' }] }] },
      'messages[1].content[0].text',
      'messages[1].content[0].text: is required',
    ],
    ['openai', { model: 'm', messages: [{ role: 'user', content: [3] }] }, 'messages[0].content[0]', 'wrong type'],
    [
      'openai',
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { detail: 'low' } }] }] },
      'messages[0].content[0].image_url.url',
      'is required',
    ],
    [
      'openai',
      { model: 'm', messages: [{ role: 'assistant', tool_calls: [{ id: 'c', function: { arguments: '{}' } }] }] },
      'messages[0].tool_calls[0].function.name',
      'is required',
    ],
    ['openai', { ...okChat, tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name', 'required'],
    [
      'openai',
      { ...okChat, tool_choice: { type: 'function', function: { name: 1 } } },
      'tool_choice.function.name',
      'string',
    ],
    [
      'openai',
      { model: 'm', messages: [{ role: 'tool', content: 'r' }] },
      'messages[0].tool_call_id',
      'messages[0].tool_call_id: is required for role tool',
    ],
    [
      'anthropic',
      { ...okMsg, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64' } }] }] },
      'messages[0].content[0].source',
      'base64 source needs media_type and data',
    ],
    [
      'anthropic',
      { ...okMsg, messages: [{ role: 'assistant', content: [{ type: 'tool_use', name: 'f' }] }] },
      'messages[0].content[0]',
      'tool_use needs a string id and name',
    ],
    [
      'anthropic',
      {
        ...okMsg,
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text' }] }] }],
      },
      'messages[0].content[0].content[0].text',
      'is required',
    ],
    ['anthropic', { ...okMsg, system: [{ type: 'text', text: 5 }] }, 'system[0].text', 'string'],
    ['anthropic', { ...okMsg, tool_choice: { type: 'tool' } }, 'tool_choice.name', 'is required'],
    ['anthropic', { ...okMsg, stop_sequences: ['a', 1] }, 'stop_sequences', 'must be an array of strings'],
  ] as const)('%s: a nested mistake in %j is named by its path %s', (format, body, param, message) => {
    const e = err(() => parseClientRequest(format, 'chat', body));
    expect([e.code, e.status, e.param]).toEqual(['invalid_request', 400, param]);
    expect(e.message).toContain(`${param}: `);
    expect(e.message).toContain(message);
  });

  it('passes part, block, tool and tool_choice types it does not check (the translators decide)', () => {
    const chat = {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'video', video: {} },
            { type: 'input_audio', input_audio: {} },
          ],
        },
        { role: 'assistant', tool_calls: [{ type: 'custom', custom: { name: 'c', input: 'x' } }] },
      ],
      tools: [{ type: 'custom', custom: { name: 'c' } }],
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } },
    };
    expect(parseClientRequest('openai', 'chat', chat)).toBe(chat);
    const msg = {
      ...okMsg,
      system: [{ type: 'image', source: {} }],
      messages: [
        { role: 'assistant', content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }] },
        { role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] },
      ],
      tools: [{ type: 'web_search_20250305', name: 'web_search' }],
    };
    expect(parseClientRequest('anthropic', 'chat', msg)).toBe(msg);
  });

  it('answers 404 for embeddings in the Anthropic format', () => {
    expect(err(() => parseClientRequest('anthropic', 'embeddings', { model: 'x' })).code).toBe('not_found');
  });

  it('formats paths', () => {
    expect(formatPath(['messages', 2, 'content', 0, 'type'])).toBe('messages[2].content[0].type');
    expect(formatPath([])).toBe('');
  });
});
