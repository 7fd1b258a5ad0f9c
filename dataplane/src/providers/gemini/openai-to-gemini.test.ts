import { parseOpenAiChat } from '../../api/parse.js';
import { openAiToGeminiRequest } from './openai-to-gemini.js';

const user = { role: 'user', content: 'Hi' };
// Through the request check first, as the gateway does (the translator takes a validated body).
const tr = (body: Record<string, unknown>) =>
  openAiToGeminiRequest(parseOpenAiChat({ model: 'smart', messages: [user], ...body }));

describe('OpenAI client → Gemini wire: requests', () => {
  it('translates a multi-turn conversation with system/developer messages and generation settings', () => {
    const out = openAiToGeminiRequest({
      model: 'smart',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: [{ type: 'text', text: 'Again' }] },
      ],
      max_tokens: 100,
      temperature: 1.5,
      top_p: 0.9,
      stop: 'END',
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      stream: true,
    });
    expect(out).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Use French.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Hello' }] },
        { role: 'model', parts: [{ text: 'Bonjour' }] },
        { role: 'user', parts: [{ text: 'Again' }] },
      ],
      generationConfig: {
        maxOutputTokens: 100,
        temperature: 1.5,
        topP: 0.9,
        stopSequences: ['END'],
        seed: 7,
        presencePenalty: 0.5,
        frequencyPenalty: 0.25,
      },
    });
  });

  it('has no model or stream field in the body (both are in the URL) and no generationConfig when nothing is set', () => {
    expect(tr({ stream: true, stream_options: { include_usage: true } })).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
    });
  });

  it('prefers max_completion_tokens; passes stop arrays; maps response_format and reasoning_effort', () => {
    const out = tr({
      max_tokens: 10,
      max_completion_tokens: 20,
      stop: ['a', 'b'],
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      reasoning_effort: 'low',
    });
    expect(out.generationConfig).toEqual({
      maxOutputTokens: 20,
      stopSequences: ['a', 'b'],
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'object' },
      thinkingConfig: { thinkingBudget: 1024 },
    });
    expect(tr({ response_format: { type: 'json_object' } }).generationConfig).toEqual({
      responseMimeType: 'application/json',
    });
    expect(tr({ response_format: { type: 'text' } }).generationConfig).toBeUndefined();
  });

  it('drops user, metadata, store, service_tier, n=1, logprobs=false, parallel_tool_calls, verbosity, unknown fields', () => {
    const out = tr({
      user: 'u',
      metadata: { a: 'b' },
      store: true,
      service_tier: 'auto',
      n: 1,
      logprobs: false,
      logit_bias: {},
      modalities: ['text'],
      parallel_tool_calls: false,
      verbosity: 'low',
      something_new: 1,
    });
    expect(Object.keys(out)).toEqual(['contents']);
  });

  it('translates images, audio and files to inlineData / fileData parts', () => {
    const out = tr({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?x=1' } },
            { type: 'image_url', image_url: { url: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } },
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
          ],
        },
      ],
    });
    expect(out.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'What is this?' },
          { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
          { fileData: { fileUri: 'https://example.com/cat.JPG?x=1', mimeType: 'image/jpeg' } },
          { fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } },
          { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
          { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
        ],
      },
    ]);
  });

  it('translates tools, tool calls and tool results (names found by tool_call_id), merging result turns', () => {
    const out = tr({
      messages: [
        { role: 'user', content: 'Weather in Paris and Tokyo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '09:00' }] },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false },
            strict: true,
          },
        },
        { type: 'function', function: { name: 'get_time' } },
      ],
      tool_choice: 'required',
    });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Tokyo?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { content: '18C' } } },
          { functionResponse: { name: 'get_time', response: { content: '09:00' } } },
          { text: 'Thanks' },
        ],
      },
    ]);
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Weather',
            parametersJsonSchema: {
              type: 'object',
              properties: { city: { type: 'string' } },
              additionalProperties: false,
            },
          },
          { name: 'get_time' },
        ],
      },
    ]);
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
  });

  it.each([
    ['auto', { functionCallingConfig: { mode: 'AUTO' } }],
    ['none', { functionCallingConfig: { mode: 'NONE' } }],
    ['required', { functionCallingConfig: { mode: 'ANY' } }],
    [
      { type: 'function', function: { name: 'f' } },
      { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } },
    ],
    [undefined, undefined],
  ])('tool_choice %j → toolConfig %j', (choice, expected) => {
    const out = tr({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: choice });
    expect(out.toolConfig).toEqual(expected);
  });

  it('drops tool_choice when there are no tools', () => {
    expect(tr({ tool_choice: 'required' }).toolConfig).toBeUndefined();
  });

  it.each([
    ['n', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['functions', { functions: [{ name: 'f' }] }],
    ['function_call', { function_call: 'auto' }],
    ['audio', { audio: { voice: 'alloy', format: 'wav' } }],
    ['modalities', { modalities: ['text', 'audio'] }],
    ['prediction', { prediction: { type: 'content', content: 'x' } }],
    ['web_search_options', { web_search_options: {} }],
    ['reasoning_effort', { reasoning_effort: 'extreme' }],
    ['tools[0].type', { tools: [{ type: 'custom', custom: { name: 'x' } }] }],
    [
      'tool_choice',
      {
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } },
      },
    ],
    ['messages[0].content[0].type', { messages: [{ role: 'user', content: [{ type: 'video', video: {} }] }] }],
    [
      'messages[0].content[0].file.file_id',
      { messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'f' } }] }] },
    ],
    ['messages[0].role', { messages: [{ role: 'function', name: 'f', content: 'x' }] }],
    [
      'messages[0].content[0]',
      { messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
    ],
  ])('rejects %s with unsupported_parameter naming it', (param, body) => {
    expect(() => tr(body)).toThrow(expect.objectContaining({ code: 'unsupported_parameter', status: 400, param }));
  });

  it.each([
    ['messages', { messages: 'hi' }],
    ['messages', { messages: [] }],
    ['messages', { messages: [{ role: 'system', content: 'only system' }] }],
    ['messages[0].role', { messages: [{ role: 'robot', content: 'x' }] }],
    ['messages[0].tool_call_id', { messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }],
    [
      'messages[0].tool_calls[0].function.arguments',
      {
        messages: [
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{' } }] },
        ],
      },
    ],
    [
      'messages[0].content[0].image_url.url',
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }] },
    ],
    [
      'messages[0].content[0].input_audio.format',
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'flac' } }] }] },
    ],
    ['stop', { stop: 5 }],
    ['response_format.json_schema.schema', { response_format: { type: 'json_schema', json_schema: { name: 'x' } } }],
    ['tool_choice', { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'sometimes' }],
  ])('rejects a malformed %s with invalid_request', (param, body) => {
    expect(() => tr(body)).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400, param }));
  });
});
