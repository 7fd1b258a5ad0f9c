import {
  countTokens,
  encodingFor,
  estimateUsage,
  loadEncoder,
  requestedMaxTokens,
  requestText,
  roughInputTokens,
} from './estimate.js';

describe('estimate', () => {
  test('picks o200k for the GPT-4o family and cl100k otherwise', () => {
    expect(encodingFor('gpt-4o-mini')).toBe('o200k_base');
    expect(encodingFor('o3-mini')).toBe('o200k_base');
    expect(encodingFor('gpt-5')).toBe('o200k_base');
    expect(encodingFor('gpt-4')).toBe('cl100k_base');
    expect(encodingFor('claude-sonnet-4-5')).toBe('cl100k_base');
  });

  test('encoder loads once and is shared', async () => {
    const [a, b] = await Promise.all([loadEncoder('o200k_base'), loadEncoder('o200k_base')]);
    expect(a).toBe(b);
    expect(await loadEncoder('o200k_base')).toBe(a);
  });

  test('counts real tokens', async () => {
    expect(await countTokens('hello world', 'gpt-4o')).toBe(2);
    expect(await countTokens('hello world', 'gpt-4')).toBe(2);
    expect(await countTokens('', 'gpt-4o')).toBe(0);
  });

  test('extracts OpenAI and Anthropic message text', () => {
    const oa = requestText('chat', {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi there' }] },
      ],
    });
    expect(oa).toEqual({ text: 'be brief\nhi there', messages: 2 });
    const an = requestText('chat', {
      system: [{ type: 'text', text: 'sys' }],
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'result' }] }],
    });
    expect(an).toEqual({ text: 'sys\nresult', messages: 2 });
    expect(requestText('embeddings', { input: ['a', 'b'] })).toEqual({ text: 'a\nb', messages: 0 });
  });

  test('estimateUsage marks estimated and counts framing', async () => {
    const usage = await estimateUsage({
      operation: 'chat',
      body: { messages: [{ role: 'user', content: 'hello world' }] },
      outputText: 'hello world',
      model: 'gpt-4o',
    });
    expect(usage).toEqual({
      inputTokens: 2 + 3 + 3,
      outputTokens: 2,
      cachedInputTokens: 0,
      cacheCreationTokens: 0,
      reasoningTokens: 0,
      estimated: true,
    });
  });

  test('reservation helpers', () => {
    expect(roughInputTokens(300)).toBe(100);
    expect(requestedMaxTokens({ max_tokens: 64 })).toBe(64);
    expect(requestedMaxTokens({ max_completion_tokens: 32, max_tokens: 64 })).toBe(32);
    expect(requestedMaxTokens({ max_tokens: 'x' })).toBeUndefined();
    expect(requestedMaxTokens({})).toBeUndefined();
  });
});
