import { parseAnthropicMessages } from '../../api/parse.js';
import { anthropicToOpenAiRequest } from './anthropic-to-openai-request.js';

const user = { role: 'user', content: 'Hi' };
const opts = { maxTokensField: 'max_completion_tokens' } as const;
// Through the request check first, as the gateway does (the translator takes a validated body).
const tr = (body: Record<string, unknown>, stream = false) =>
  anthropicToOpenAiRequest(
    parseAnthropicMessages({ model: 'smart', max_tokens: 50, messages: [user], ...body }),
    'gpt-4o',
    stream,
    opts,
  );

describe('Anthropic client → OpenAI wire: requests', () => {
  it('translates system, multi-turn, sampling, stop sequences, metadata and streaming', () => {
    const out = anthropicToOpenAiRequest(
      {
        model: 'smart',
        max_tokens: 256,
        system: [
          { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Use French.' },
        ],
        messages: [
          user,
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: [{ type: 'text', text: 'Again' }] },
        ],
        temperature: 0.3,
        top_p: 0.8,
        top_k: 40,
        stop_sequences: ['END'],
        metadata: { user_id: 'u-1' },
        stream: true,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        service_tier: 'auto',
      },
      'gpt-4o',
      true,
      opts,
    );
    expect(out).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.\nUse French.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: 'Again' },
      ],
      max_completion_tokens: 256,
      temperature: 0.3,
      top_p: 0.8,
      stop: ['END'],
      stream: true,
      stream_options: { include_usage: true },
      user: 'u-1',
    });
  });

  it('uses max_tokens for OpenAI-compatible servers', () => {
    const out = anthropicToOpenAiRequest({ max_tokens: 9, messages: [user] }, 'llama', false, {
      maxTokensField: 'max_tokens',
    });
    expect(out.max_tokens).toBe(9);
    expect(out.max_completion_tokens).toBeUndefined();
    expect(out.stream).toBeUndefined();
  });

  it('translates images, tool use, tool results (before the rest of the user turn) and drops thinking blocks', () => {
    const out = tr({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look' },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [{ type: 'text', text: 'sunny' }],
              is_error: false,
            },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2' }] },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      { role: 'user', content: 'And tomorrow?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_2', content: '' },
    ]);
  });

  it.each([
    [{ type: 'auto' }, 'auto', undefined],
    [{ type: 'any' }, 'required', undefined],
    [{ type: 'none' }, 'none', undefined],
    [{ type: 'tool', name: 'f' }, { type: 'function', function: { name: 'f' } }, undefined],
    [{ type: 'auto', disable_parallel_tool_use: true }, 'auto', false],
    [{ type: 'any', disable_parallel_tool_use: true }, 'required', false],
  ])('tool_choice %j → %j (parallel_tool_calls %s)', (choice, expected, parallel) => {
    const out = tr({ tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' } }], tool_choice: choice });
    expect(out.tools).toEqual([
      { type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' } } },
    ]);
    expect(out.tool_choice).toEqual(expected);
    expect(out.parallel_tool_calls).toBe(parallel);
  });

  it.each([
    [{ mcp_servers: [{ type: 'url', url: 'https://x', name: 'x' }] }, 'mcp_servers'],
    [{ container: 'c_1' }, 'container'],
    [{ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type'],
    [{ tools: [{ type: 'bash_20250124', name: 'bash' }] }, 'tools[0].type'],
    [
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'x' } }],
          },
        ],
      },
      'messages[0].content[0].type',
    ],
    [
      { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] },
      'messages[0].content[0].source.type',
    ],
    [
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: {} }] }],
          },
        ],
      },
      'messages[0].content[0].content[0]',
    ],
    [
      {
        messages: [
          { role: 'assistant', content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }] },
        ],
      },
      'messages[0].content[0].type',
    ],
    [{ system: [{ type: 'image', source: {} }] }, 'system[0]'],
  ])('rejects %j with unsupported_parameter naming %s', (body, param) => {
    expect(() => tr(body)).toThrow(expect.objectContaining({ code: 'unsupported_parameter', param }));
  });

  it.each([
    [{ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text'],
    [
      { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64' } }] }] },
      'messages[0].content[0].source',
    ],
    [{ messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] }, 'messages[0].content[0].tool_use_id'],
    [{ messages: [{ role: 'assistant', content: [{ type: 'tool_use', name: 'f' }] }] }, 'messages[0].content[0]'],
    [{ messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    [{ messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role'],
    [{ tools: [{ name: 'f' }], tool_choice: { type: 'tool' } }, 'tool_choice.name'],
    [{ tools: [{ name: 'f' }], tool_choice: { type: 'sometimes' } }, 'tool_choice.type'],
    [{ tools: [{ description: 'no name' }] }, 'tools[0].name'],
  ])('rejects the malformed %j with invalid_request naming %s', (body, param) => {
    expect(() => tr(body)).toThrow(expect.objectContaining({ code: 'invalid_request', param }));
  });
});
