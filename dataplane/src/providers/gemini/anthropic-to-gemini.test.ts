import { parseAnthropicMessages } from '../../api/parse.js';
import { anthropicToGeminiRequest } from './anthropic-to-gemini.js';

// Through the request check first, as the gateway does (the translator takes a validated body).
const tr = (body: Record<string, unknown>) =>
  anthropicToGeminiRequest(
    parseAnthropicMessages({ model: 'smart', max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }], ...body }),
  );

describe('Anthropic client → Gemini wire: requests', () => {
  it('translates system blocks, turns and sampling settings (top_k included)', () => {
    const out = tr({
      system: [
        { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Use French.' },
      ],
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: [{ type: 'text', text: 'Bonjour' }] },
        { role: 'user', content: [{ type: 'text', text: 'Again' }] },
      ],
      temperature: 0.3,
      top_p: 0.8,
      top_k: 40,
      stop_sequences: ['END'],
      metadata: { user_id: 'u1' },
      service_tier: 'auto',
      stream: true,
    });
    expect(out).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.\nUse French.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Hello' }] },
        { role: 'model', parts: [{ text: 'Bonjour' }] },
        { role: 'user', parts: [{ text: 'Again' }] },
      ],
      generationConfig: { maxOutputTokens: 256, temperature: 0.3, topP: 0.8, topK: 40, stopSequences: ['END'] },
    });
  });

  it('maps thinking.budget_tokens to thinkingConfig.thinkingBudget; disabled thinking is dropped', () => {
    expect(tr({ thinking: { type: 'enabled', budget_tokens: 2048 } }).generationConfig).toEqual({
      maxOutputTokens: 256,
      thinkingConfig: { thinkingBudget: 2048 },
    });
    expect(tr({ thinking: { type: 'disabled' } }).generationConfig).toEqual({ maxOutputTokens: 256 });
  });

  it('translates images and documents (base64 → inlineData, url → fileData, text documents → text)', () => {
    const out = tr({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
            { type: 'document', source: { type: 'url', url: 'https://example.com/doc' } },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain doc' } },
          ],
        },
      ],
    });
    expect(out.contents).toEqual([
      {
        role: 'user',
        parts: [
          { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } },
          { fileData: { fileUri: 'https://example.com/a.png', mimeType: 'image/png' } },
          { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
          { fileData: { fileUri: 'https://example.com/doc', mimeType: 'application/pdf' } },
          { text: 'plain doc' },
        ],
      },
    ]);
  });

  it('translates tool_use / tool_result (is_error → {error}), drops thinking blocks, maps tools and tool_choice', () => {
    const out = tr({
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 'sig' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'clock broken', is_error: true },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
      tools: [
        { name: 'get_weather', description: 'Weather', input_schema: { type: 'object' }, cache_control: {} },
        { type: 'custom', name: 'get_time', input_schema: { type: 'object', properties: {} } },
      ],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Checking.' },
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { content: '18C' } } },
          { functionResponse: { name: 'get_time', response: { error: 'clock broken' } } },
          { text: 'Thanks' },
        ],
      },
    ]);
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather', parametersJsonSchema: { type: 'object' } },
          { name: 'get_time', parametersJsonSchema: { type: 'object', properties: {} } },
        ],
      },
    ]);
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
  });

  it.each([
    ['auto', { functionCallingConfig: { mode: 'AUTO' } }],
    ['any', { functionCallingConfig: { mode: 'ANY' } }],
    ['none', { functionCallingConfig: { mode: 'NONE' } }],
  ])('tool_choice %s → %j', (type, expected) => {
    expect(tr({ tools: [{ name: 'f', input_schema: {} }], tool_choice: { type } }).toolConfig).toEqual(expected);
  });

  it.each([
    ['mcp_servers', { mcp_servers: [{ type: 'url', url: 'https://x', name: 'x' }] }],
    ['container', { container: 'c1' }],
    ['tools[0].type', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] }],
    [
      'messages[0].content[0].source.type',
      { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] },
    ],
    [
      'messages[0].content[0].type',
      { messages: [{ role: 'user', content: [{ type: 'search_result', source: 'x' }] }] },
    ],
    [
      'messages[0].content[0].type',
      {
        messages: [
          { role: 'assistant', content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }] },
        ],
      },
    ],
    [
      'messages[0].content[0].type',
      { messages: [{ role: 'assistant', content: [{ type: 'image', source: { type: 'url', url: 'https://x' } }] }] },
    ],
    [
      'messages[2].content[0].content[0]',
      {
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't',
                content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'x' } }],
              },
            ],
          },
        ],
      },
    ],
  ])('rejects %s with unsupported_parameter naming it', (param, body) => {
    expect(() => tr(body)).toThrow(expect.objectContaining({ code: 'unsupported_parameter', status: 400, param }));
  });

  it.each([
    ['messages', { messages: {} }],
    ['messages[0].role', { messages: [{ role: 'system', content: 'x' }] }],
    [
      'messages[0].content[0].tool_use_id',
      { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'unknown' }] }] },
    ],
    ['system', { system: 7 }],
    ['stop_sequences', { stop_sequences: [1] }],
    ['tool_choice.type', { tools: [{ name: 'f', input_schema: {} }], tool_choice: { type: 'maybe' } }],
  ])('rejects a malformed %s with invalid_request', (param, body) => {
    expect(() => tr(body)).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400, param }));
  });
});
