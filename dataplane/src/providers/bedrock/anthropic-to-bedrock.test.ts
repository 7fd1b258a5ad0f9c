import { describe, expect, it } from '@jest/globals';
import { anthropicToBedrockRequest } from './anthropic-to-bedrock.js';

describe('Anthropic messages → Bedrock Converse request', () => {
  it('system blocks with cache_control → cachePoint, images, tool_use / tool_result (is_error), settings, tools', () => {
    const out = anthropicToBedrockRequest({
      model: 'x',
      max_tokens: 512,
      temperature: 0.2,
      top_p: 0.8,
      top_k: 40,
      stop_sequences: ['###'],
      metadata: { user_id: 'u' },
      system: [
        { type: 'text', text: 'Long context', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Be brief.' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/' } },
            { type: 'text', text: 'What is this?', cache_control: { type: 'ephemeral' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'text', text: 'Looking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [{ type: 'text', text: 'nothing' }],
              is_error: true,
            },
          ],
        },
      ],
      tools: [
        {
          name: 'lookup',
          description: 'Look up',
          input_schema: { type: 'object' },
          cache_control: { type: 'ephemeral' },
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect(out).toEqual({
      system: [{ text: 'Long context' }, { cachePoint: { type: 'default' } }, { text: 'Be brief.' }],
      messages: [
        {
          role: 'user',
          content: [
            { image: { format: 'jpeg', source: { bytes: '/9j/' } } },
            { text: 'What is this?' },
            { cachePoint: { type: 'default' } },
          ],
        },
        {
          role: 'assistant',
          content: [{ text: 'Looking.' }, { toolUse: { toolUseId: 'toolu_1', name: 'lookup', input: { q: 'x' } } }],
        },
        {
          role: 'user',
          content: [{ toolResult: { toolUseId: 'toolu_1', content: [{ text: 'nothing' }], status: 'error' } }],
        },
      ],
      inferenceConfig: { maxTokens: 512, temperature: 0.2, topP: 0.8, stopSequences: ['###'] },
      toolConfig: {
        tools: [
          { toolSpec: { name: 'lookup', description: 'Look up', inputSchema: { json: { type: 'object' } } } },
          { cachePoint: { type: 'default' } },
        ],
        toolChoice: { any: {} },
      },
    });
  });

  it('string system and content; tool_choice tool', () => {
    const out = anthropicToBedrockRequest({
      max_tokens: 10,
      system: 'S',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 't', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 't' },
    });
    expect(out.system).toEqual([{ text: 'S' }]);
    expect(out.messages).toEqual([{ role: 'user', content: [{ text: 'hi' }] }]);
    expect((out.toolConfig as { toolChoice: unknown }).toolChoice).toEqual({ tool: { name: 't' } });
  });

  it.each([
    [{ mcp_servers: [{ url: 'x' }] }, 'mcp_servers'],
    [{ container: 'c' }, 'container'],
    [{ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type'],
    [
      { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }] },
      'messages[0].content[0].source.type',
    ],
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
  ])('rejects %j with unsupported_parameter naming %s', (extra, param) => {
    expect(() =>
      anthropicToBedrockRequest({ max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_parameter', param }));
  });
});
