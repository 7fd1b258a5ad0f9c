import { describe, expect, it } from '@jest/globals';
import { openAiToBedrockRequest } from './openai-to-bedrock.js';

const PNG = 'iVBORw0KGgo=';

describe('OpenAI chat → Bedrock Converse request', () => {
  it('system/developer, user text and images, assistant tool calls, tool results, inference settings, tools', () => {
    const out = openAiToBedrockRequest({
      model: 'x',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather here?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'low' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'user', content: 'Thanks' },
      ],
      max_tokens: 100,
      max_completion_tokens: 200,
      temperature: 1.6,
      top_p: 0.9,
      stop: 'END',
      seed: 7,
      user: 'u1',
      parallel_tool_calls: false,
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
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(out).toEqual({
      system: [{ text: 'Be brief.' }, { text: 'Use metric.' }],
      messages: [
        { role: 'user', content: [{ text: 'Weather here?' }, { image: { format: 'png', source: { bytes: PNG } } }] },
        {
          role: 'assistant',
          content: [{ toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } }],
        },
        {
          role: 'user',
          content: [{ toolResult: { toolUseId: 'call_1', content: [{ text: '18C' }] } }, { text: 'Thanks' }],
        },
      ],
      inferenceConfig: { maxTokens: 200, temperature: 1, topP: 0.9, stopSequences: ['END'] },
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'get_weather',
              description: 'Weather',
              inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } },
            },
          },
        ],
        toolChoice: { tool: { name: 'get_weather' } },
      },
    });
  });

  it.each([
    ['auto', { auto: {} }],
    ['required', { any: {} }],
  ])('tool_choice %s', (choice, expected) => {
    const out = openAiToBedrockRequest({
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: choice,
    });
    expect(out.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }],
      toolChoice: expected,
    });
  });

  it('tool_choice none: tools left out, unless the history holds tool blocks (then sent without a choice)', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    expect(
      openAiToBedrockRequest({ messages: [{ role: 'user', content: 'hi' }], tools, tool_choice: 'none' }).toolConfig,
    ).toBeUndefined();
    const withHistory = openAiToBedrockRequest({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'ok' },
      ],
      tools,
      tool_choice: 'none',
    });
    expect(withHistory.toolConfig).toEqual({ tools: [expect.objectContaining({ toolSpec: expect.anything() })] });
  });

  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ logit_bias: { '1': 2 } }, 'logit_bias'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
    [{ reasoning_effort: 'low' }, 'reasoning_effort'],
    [{ functions: [] }, 'functions'],
    [{ audio: { voice: 'x' } }, 'audio'],
    [{ prediction: { type: 'content' } }, 'prediction'],
    [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
  ])('rejects %j with unsupported_parameter naming %s', (extra, param) => {
    expect(() => openAiToBedrockRequest({ messages: [{ role: 'user', content: 'hi' }], ...extra })).toThrow(
      expect.objectContaining({ code: 'unsupported_parameter', param }),
    );
  });

  it('rejects image URLs Bedrock cannot fetch and audio parts; invalid tool arguments are a 400', () => {
    expect(() =>
      openAiToBedrockRequest({
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
      }),
    ).toThrow(
      expect.objectContaining({ code: 'unsupported_parameter', param: 'messages[0].content[0].image_url.url' }),
    );
    expect(() =>
      openAiToBedrockRequest({
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AA==' } }] },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_parameter' }));
    expect(() =>
      openAiToBedrockRequest({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_parameter', param: 'messages[0].content[0].type' }));
    expect(() =>
      openAiToBedrockRequest({
        messages: [
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{' } }] },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(() => openAiToBedrockRequest({ messages: [{ role: 'system', content: 'only system' }] })).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'messages' }),
    );
  });
});
