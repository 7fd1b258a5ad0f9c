import { describe, expect, it } from '@jest/globals';
import { bedrockCassette, encodeFrames, replayBinary } from '../../../../test/support/bedrock-cassettes.js';
import { CHUNK_SIZES, parsedData } from '../../../../test/support/cassettes.js';
import { bedrockToOpenAi } from './bedrock-to-openai.js';

type Chunk = {
  id: string;
  model: string;
  created: number;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: Record<string, unknown> | null;
};

function stream(name: string, size: number, wantsUsage = true) {
  const c = bedrockCassette(name);
  const t = bedrockToOpenAi.stream({ clientWantsUsage: wantsUsage, clientModel: 'claude-b', now: 1700000000 });
  const events = replayBinary(encodeFrames(c.eventstream!), t, size);
  return { t, events, data: parsedData(events) as (Chunk | '[DONE]')[] };
}

describe('Bedrock Converse → OpenAI client: responses', () => {
  it('text, usage with cache reads and writes added to prompt_tokens, model and created from the request', () => {
    const r = bedrockToOpenAi.response(bedrockCassette('converse-text').body, { now: 1700000001, model: 'claude-b' });
    expect(r.body).toEqual({
      id: expect.stringMatching(/^chatcmpl-bedrock-[0-9a-f]{24}$/),
      object: 'chat.completion',
      created: 1700000001,
      model: 'claude-b',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: expect.objectContaining({
        prompt_tokens: 12 + 2000 + 48,
        completion_tokens: 9,
        total_tokens: 2069,
        prompt_tokens_details: { cached_tokens: 2000, audio_tokens: 0 },
      }),
    });
    expect(r.usage).toEqual({
      inputTokens: 2060,
      outputTokens: 9,
      cachedInputTokens: 2000,
      cacheCreationTokens: 48,
      reasoningTokens: 0,
      estimated: false,
    });
    expect(r.responseModel).toBeUndefined();
  });

  it('tool use becomes tool_calls with the input serialized', () => {
    const r = bedrockToOpenAi.response(bedrockCassette('converse-tool-use').body);
    const ch = (r.body as { choices: { message: Record<string, unknown>; finish_reason: string }[] }).choices[0]!;
    expect(ch.finish_reason).toBe('tool_calls');
    expect(ch.message.content).toBe('Let me check the weather.');
    expect(ch.message.tool_calls).toEqual([
      {
        id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' },
      },
    ]);
  });

  it.each([
    ['converse-max-tokens', 'length'],
    ['converse-guardrail', 'content_filter'],
  ])('%s → finish_reason %s', (name, finish) => {
    const r = bedrockToOpenAi.response(bedrockCassette(name).body);
    expect((r.body as { choices: { finish_reason: string }[] }).choices[0]!.finish_reason).toBe(finish);
  });

  it('a body without output is upstream_bad_response', () => {
    expect(() => bedrockToOpenAi.response({ message: 'hi' })).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
  });
});

describe('Bedrock Converse → OpenAI client: streams', () => {
  it.each(CHUNK_SIZES)('text stream in %i-byte chunks: role, deltas, finish, usage chunk, [DONE]', (size) => {
    const { t, data } = stream('stream-text', size);
    expect(t.done).toBe(true);
    expect(data[data.length - 1]).toBe('[DONE]');
    const chunks = data.slice(0, -1) as Chunk[];
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(
      chunks
        .map((c) => c.choices[0]?.delta.content)
        .filter((x) => typeof x === 'string')
        .join(''),
    ).toBe('Hello! How can I help?');
    const finish = chunks[chunks.length - 2]!;
    expect(finish.choices[0]!.finish_reason).toBe('stop');
    const usage = chunks[chunks.length - 1]!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: 1034, completion_tokens: 7 });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.model === 'claude-b' && c.created === 1700000000)).toBe(true);
    expect(t.usage()).toMatchObject({ inputTokens: 1034, cachedInputTokens: 1024, outputTokens: 7 });
  });

  it.each(CHUNK_SIZES)('tool-use stream in %i-byte chunks: id and name first, then argument deltas', (size) => {
    const { data } = stream('stream-tool-use', size, false);
    const chunks = data.slice(0, -1) as Chunk[];
    const calls = chunks.flatMap((c) => (c.choices[0]?.delta.tool_calls as Record<string, unknown>[]) ?? []);
    expect(calls[0]).toEqual({
      index: 0,
      id: 'tooluse_3hq1fQ2ZSeGyzjEAFSaTXA',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(calls.slice(1).every((c) => c.id === undefined && c.index === 0)).toBe(true);
    expect(calls.map((c) => (c.function as { arguments: string }).arguments).join('')).toBe('{"location": "Paris"}');
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(chunks.some((c) => c.usage !== undefined)).toBe(false);
  });

  it('a throttlingException mid-stream becomes an OpenAI error event (upstream_rate_limited)', () => {
    const { t, data } = stream('stream-throttling', 5);
    expect(t.error).toMatchObject({ code: 'upstream_rate_limited' });
    expect(t.error?.message).toContain('Too many tokens');
    expect(data[data.length - 1]).toEqual({
      error: expect.objectContaining({ type: 'rate_limit_error', code: 'upstream_rate_limited' }),
    });
    expect(data).not.toContain('[DONE]');
  });

  it('a stream that ends before messageStop is not done (the proxy reports it truncated)', () => {
    const c = bedrockCassette('stream-text');
    const t = bedrockToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    replayBinary(encodeFrames(c.eventstream!.slice(0, 3)), t, 64);
    expect(t.done).toBe(false);
    expect(t.end()).toEqual([]);
  });

  it('an event payload that is not JSON is upstream_bad_response', () => {
    const t = bedrockToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    expect(() => t.event({ event: 'contentBlockDelta', data: 'nope' })).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
  });
});
