import { parseOpenAiChat } from '../../api/parse.js';
import { DEFAULT_ANTHROPIC_MAX_TOKENS, openAiToAnthropicRequest } from './openai-to-anthropic.js';

const user = { role: 'user', content: 'Hi' };
// Through the request check first, as the gateway does (the translator takes a validated body).
const tr = (body: Record<string, unknown>, stream = false) =>
  openAiToAnthropicRequest(parseOpenAiChat({ model: 'smart', messages: [user], ...body }), 'claude-x', stream);

describe('OpenAI client → Anthropic wire: requests', () => {
  it('translates a multi-turn conversation with system and developer messages', () => {
    const out = openAiToAnthropicRequest(
      {
        model: 'smart',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: [{ type: 'text', text: 'Again' }] },
        ],
        max_tokens: 100,
        temperature: 0.5,
        top_p: 0.9,
        stop: 'END',
        user: 'user-42',
        stream: true,
      },
      'claude-sonnet-4-5',
      true,
    );
    expect(out).toEqual({
      model: 'claude-sonnet-4-5',
      system: [
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'Use French.' },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Bonjour' }] },
        { role: 'user', content: [{ type: 'text', text: 'Again' }] },
      ],
      max_tokens: 100,
      temperature: 0.5,
      top_p: 0.9,
      stop_sequences: ['END'],
      stream: true,
      metadata: { user_id: 'user-42' },
    });
  });

  it('sends a single system message as a string, and defaults max_tokens to 4096', () => {
    const out = tr({ messages: [{ role: 'system', content: 'S' }, user] });
    expect(out.system).toBe('S');
    expect(out.max_tokens).toBe(DEFAULT_ANTHROPIC_MAX_TOKENS);
    expect(DEFAULT_ANTHROPIC_MAX_TOKENS).toBe(4096);
    expect(out.stream).toBeUndefined();
  });

  it('prefers max_completion_tokens over max_tokens; stop arrays pass; temperature above 1 is clamped', () => {
    const out = tr({ max_tokens: 10, max_completion_tokens: 20, stop: ['a', 'b'], temperature: 1.7 });
    expect(out.max_tokens).toBe(20);
    expect(out.stop_sequences).toEqual(['a', 'b']);
    expect(out.temperature).toBe(1);
  });

  it('drops seed, penalties, service_tier, store, stream_options, n=1, logprobs=false, response_format text', () => {
    const out = tr(
      {
        seed: 1,
        presence_penalty: 0.5,
        frequency_penalty: 0.5,
        service_tier: 'auto',
        store: true,
        metadata: { a: 'b' },
        stream_options: { include_usage: true },
        n: 1,
        logprobs: false,
        response_format: { type: 'text' },
        logit_bias: {},
        modalities: ['text'],
        verbosity: 'low',
        something_new: 1,
      },
      true,
    );
    expect(Object.keys(out).sort()).toEqual(['max_tokens', 'messages', 'model', 'stream']);
  });

  it('translates images: data: URLs to base64 sources, http URLs to url sources', () => {
    const out = tr({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('translates tools, tool calls and tool results (consecutive results merged into one user turn)', () => {
    const out = tr({
      messages: [
        user,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '12:00' }] },
        { role: 'user', content: 'thanks' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
            strict: true,
          },
        },
        { type: 'function', function: { name: 'get_time' } },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '12:00' },
          { type: 'text', text: 'thanks' },
        ],
      },
    ]);
    expect(out.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
      { name: 'get_time', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(out.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
  });

  it.each([
    ['auto', undefined, undefined],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
    ['auto', true, undefined],
    ['none', false, { type: 'none' }],
    ['required', undefined, { type: 'any' }],
    [{ type: 'function', function: { name: 'f' } }, undefined, { type: 'tool', name: 'f' }],
  ])('tool_choice %j with parallel_tool_calls %s → %j', (choice, parallel, expected) => {
    const out = tr({
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: choice,
      parallel_tool_calls: parallel,
    });
    expect(out.tool_choice).toEqual(expected);
  });

  it('drops tool_choice when there are no tools', () => {
    expect(tr({ tool_choice: 'none' }).tool_choice).toBeUndefined();
  });

  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 3 }, 'top_logprobs'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
    [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, 'response_format'],
    [{ functions: [{ name: 'f' }] }, 'functions'],
    [{ function_call: 'auto' }, 'function_call'],
    [{ audio: { voice: 'alloy', format: 'wav' } }, 'audio'],
    [{ modalities: ['text', 'audio'] }, 'modalities'],
    [{ prediction: { type: 'content', content: 'x' } }, 'prediction'],
    [{ reasoning_effort: 'high' }, 'reasoning_effort'],
    [{ web_search_options: {} }, 'web_search_options'],
    [{ tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0].type'],
    [{ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'allowed_tools' } }, 'tool_choice'],
    [
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] },
      'messages[0].content[0].type',
    ],
    [{ messages: [{ role: 'user', content: [{ type: 'file', file: {} }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role'],
    [
      { messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }, user] },
      'messages[0].content[0]',
    ],
  ])('rejects %j with unsupported_parameter naming %s', (body, param) => {
    expect(() => tr(body)).toThrow(expect.objectContaining({ code: 'unsupported_parameter', status: 400, param }));
  });

  it.each([
    [
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }] },
      'messages[0].content[0].image_url.url',
    ],
    [
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,raw' } }] }] },
      'messages[0].content[0].image_url.url',
    ],
    [{ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text'],
    [{ messages: [{ role: 'user', content: [3] }] }, 'messages[0].content[0]'],
    [
      {
        messages: [user, { role: 'assistant', tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{bad' } }] }],
      },
      'messages[1].tool_calls[0].function.arguments',
    ],
    [
      { messages: [user, { role: 'assistant', tool_calls: [{ function: { name: 'f' } }] }] },
      'messages[1].tool_calls[0].id',
    ],
    [{ messages: [user, { role: 'assistant', tool_calls: 'x' }] }, 'messages[1].tool_calls'],
    [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
    [{ messages: [{ role: 'system', content: 'only system' }] }, 'messages'],
    [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [{ tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name'],
    [{ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'sometimes' }, 'tool_choice'],
    [{ stop: 5 }, 'stop'],
  ])('rejects the malformed %j with invalid_request naming %s', (body, param) => {
    expect(() => tr(body)).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400, param }));
  });

  it('does not mutate the client body', () => {
    const body = { model: 'smart', messages: [user], stop: 'x' };
    const copy = structuredClone(body);
    openAiToAnthropicRequest(body, 'c', false);
    expect(body).toEqual(copy);
  });
});
