import { afterEach, jest } from '@jest/globals';
import { CHUNK_SIZES, cassette, parsedData, replay } from '../../../../test/support/cassettes.js';
import { GatewayError } from '../../errors.js';
import { geminiToOpenAi } from './gemini-to-openai.js';
import { finishFromGemini, usageFromGemini } from './shared.js';

type Chunk = {
  id: string;
  object: string;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: unknown;
};

const choice = (body: unknown) =>
  (body as { choices: { message: Record<string, unknown>; finish_reason: string }[] }).choices[0]!;

describe('Gemini wire → OpenAI client: responses', () => {
  it('translates text, drops thought parts, and reports usage (cached inside prompt, thoughts billed as output)', () => {
    const r = geminiToOpenAi.response(cassette('gemini/generate-text').body);
    expect(r.body).toEqual({
      id: 'mQ3gaJ2fJdKXz7IPsKq_mAQ',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gemini-2.5-flash',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 2100,
        completion_tokens: 9 + 32,
        total_tokens: 2141,
        prompt_tokens_details: { cached_tokens: 2048, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 32,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
    });
    expect(r.usage).toEqual({
      inputTokens: 2100,
      outputTokens: 41,
      cachedInputTokens: 2048,
      cacheCreationTokens: 0,
      reasoningTokens: 32,
      estimated: false,
    });
    expect(r.responseModel).toBe('gemini-2.5-flash');
  });

  it('turns whole function calls into tool_calls with synthesized ids and finish_reason tool_calls', () => {
    const r = geminiToOpenAi.response(cassette('gemini/generate-function-call').body);
    const c = choice(r.body);
    expect(c.finish_reason).toBe('tool_calls');
    expect(c.message.content).toBe('Let me check both cities.');
    expect(c.message.tool_calls).toEqual([
      {
        id: 'call_fc-7x2AbQ_0',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' },
      },
      {
        id: 'call_fc-7x2AbQ_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Tokyo","unit":"celsius"}' },
      },
    ]);
  });

  it('keeps an id Gemini sent on the functionCall', () => {
    const r = geminiToOpenAi.response({
      candidates: [{ content: { parts: [{ functionCall: { id: 'fc-own', name: 'f' } }] }, finishReason: 'STOP' }],
    });
    expect((choice(r.body).message.tool_calls as { id: string }[])[0]!.id).toBe('fc-own');
  });

  it.each([
    ['generate-max-tokens', 'length', 'Once upon a time'],
    ['generate-safety', 'content_filter', null],
    ['generate-prompt-blocked', 'content_filter', null],
  ])('%s → finish_reason %s', (name, finish, content) => {
    const r = geminiToOpenAi.response(cassette(`gemini/${name}`).body);
    expect(choice(r.body).finish_reason).toBe(finish);
    expect(choice(r.body).message.content).toBe(content);
  });

  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['LANGUAGE', false, 'content_filter'],
    ['OTHER', false, 'stop'],
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    [undefined, false, 'stop'],
  ])('finishReason %s (tool call: %s) → %s', (reason, tool, finish) => {
    expect(finishFromGemini(reason, tool)).toBe(finish);
  });

  it('counts tool-use prompt tokens as input and tolerates missing usage fields', () => {
    expect(usageFromGemini({ promptTokenCount: 10, toolUsePromptTokenCount: 5, candidatesTokenCount: 3 })).toEqual({
      inputTokens: 15,
      outputTokens: 3,
      cachedInputTokens: 0,
      cacheCreationTokens: 0,
      reasoningTokens: 0,
      estimated: false,
    });
    expect(usageFromGemini(undefined)).toBeUndefined();
  });

  it.each([
    ['not an object', 'nope'],
    ['no candidates', { usageMetadata: {} }],
    ['candidates not an array', { candidates: {} }],
    ['malformed candidate', { candidates: [7] }],
    ['content not an object', { candidates: [{ content: 'x' }] }],
    ['parts not an array', { candidates: [{ content: { parts: 'x' } }] }],
    ['malformed part', { candidates: [{ content: { parts: [null] } }] }],
    ['functionCall without name', { candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] }],
    [
      'functionCall args not an object',
      { candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: [1] } }] } }] },
    ],
  ])('rejects a garbage success body (%s) with upstream_bad_response', (_n, body) => {
    expect(() => geminiToOpenAi.response(body)).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response', status: 502 }),
    );
  });
});

describe('Gemini wire → OpenAI client: streams', () => {
  it.each(CHUNK_SIZES)('streams text as chat.completion.chunk + usage + [DONE] (chunk size %i)', (size) => {
    const t = geminiToOpenAi.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = replay(cassette('gemini/stream-text').sse!, t, size);
    const data = parsedData(out);
    expect(data[data.length - 1]).toBe('[DONE]');
    const chunks = data.slice(0, -1) as Chunk[];
    for (const c of chunks) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.id).toBe('st-abc123');
      expect(c.model).toBe('gemini-2.5-flash');
    }
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks[0]!.usage).toBeNull();
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello there! How can I help? ✨');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(
      expect.objectContaining({
        prompt_tokens: 11,
        completion_tokens: 32,
        total_tokens: 43,
        completion_tokens_details: expect.objectContaining({ reasoning_tokens: 20 }),
      }),
    );
    expect(t.done).toBe(true);
    expect(t.error).toBeUndefined();
    expect(t.usage()).toEqual(expect.objectContaining({ inputTokens: 11, outputTokens: 32, reasoningTokens: 20 }));
    expect(t.responseModel()).toBe('gemini-2.5-flash');
  });

  it('omits the usage chunk and usage fields when the client did not ask, and meters anyway', () => {
    const t = geminiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'smart' });
    const chunks = parsedData(replay(cassette('gemini/stream-text').sse!, t, 5)).slice(0, -1) as Chunk[];
    expect(chunks.every((c) => !('usage' in c) && c.choices.length === 1)).toBe(true);
    expect(chunks).toHaveLength(5); // role, 3 text, finish
    expect(t.usage()?.outputTokens).toBe(32);
  });

  it.each(CHUNK_SIZES)('streams a whole function call as one tool_calls chunk (size %i)', (size) => {
    const t = geminiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'smart' });
    const chunks = parsedData(replay(cassette('gemini/stream-function-call').sse!, t, size)).slice(0, -1) as Chunk[];
    const calls = chunks.map((c) => c.choices[0]?.delta.tool_calls).filter((x) => x !== undefined);
    expect(calls).toEqual([
      [
        {
          index: 0,
          id: 'call_sf-xyz_0',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"fahrenheit"}' },
        },
      ],
    ]);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Checking the weather.');
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(t.usage()).toEqual(expect.objectContaining({ inputTokens: 60, outputTokens: 25 }));
  });

  it('numbers tool calls across chunks 0, 1, ... with distinct ids', () => {
    const t = geminiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    const fc = (name: string, finish?: string) => ({
      data: JSON.stringify({
        candidates: [
          { content: { parts: [{ functionCall: { name, args: {} } }] }, ...(finish ? { finishReason: finish } : {}) },
        ],
        responseId: 'r',
      }),
    });
    const out = [fc('a'), fc('b', 'STOP')].flatMap((e) => t.event(e)).concat(t.end());
    const calls = parsedData(out)
      .slice(0, -1)
      .map((c) => (c as Chunk).choices[0]?.delta.tool_calls as { index: number; id: string }[] | undefined)
      .filter((x) => x !== undefined)
      .map((x) => [x[0]!.index, x[0]!.id]);
    expect(calls).toEqual([
      [0, 'call_r_0'],
      [1, 'call_r_1'],
    ]);
  });

  it('maps a mid-stream error object to an OpenAI error event and marks the stream failed', () => {
    const t = geminiToOpenAi.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = replay(cassette('gemini/stream-error').sse!, t, 11);
    expect(JSON.parse(out[out.length - 1]!.data)).toEqual({
      error: {
        message: 'The model is overloaded. Please try again later.',
        type: 'api_error',
        param: null,
        code: 'upstream_unavailable',
      },
    });
    expect(out.some((e) => e.data === '[DONE]')).toBe(false);
    expect(t.done).toBe(true);
    expect(t.error).toBeInstanceOf(GatewayError);
    expect(t.error!.code).toBe('upstream_unavailable');
  });

  it('reports a stream cut before finishReason as not done, with no [DONE]', () => {
    const t = geminiToOpenAi.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = replay(cassette('gemini/stream-truncated').sse!, t, 13);
    expect(t.done).toBe(false);
    expect(out.some((e) => e.data === '[DONE]')).toBe(false);
    expect(t.usage()?.inputTokens).toBe(11);
  });

  it('ends a prompt-blocked stream with content_filter', () => {
    const t = geminiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    const out = t.event({ data: '{"promptFeedback":{"blockReason":"SAFETY"},"responseId":"b"}' }).concat(t.end());
    expect(t.done).toBe(true);
    const chunks = parsedData(out).slice(0, -1) as Chunk[];
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('content_filter');
  });

  it.each([
    ['invalid JSON', { data: '{"candidates":' }],
    ['a JSON array', { data: '[1]' }],
    ['a malformed candidate', { data: '{"candidates":[1]}' }],
  ])('throws upstream_bad_response on %s', (_n, ev) => {
    const t = geminiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    expect(() => t.event(ev)).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
  });
});

describe('Gemini wire → OpenAI client: created comes from the caller (pure translation)', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('uses the given now for created in responses and every stream chunk, without reading the clock', () => {
    const clock = jest.spyOn(Date, 'now');
    const now = 1_700_000_000;
    const r = geminiToOpenAi.response(cassette('gemini/generate-text').body, { now });
    expect((r.body as { created: number }).created).toBe(now);
    const t = geminiToOpenAi.stream({ clientWantsUsage: true, clientModel: 'm', now });
    const chunks = parsedData(replay(cassette('gemini/stream-text').sse!, t, 7)).filter(
      (c): c is { created: number } => c !== '[DONE]',
    );
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(c.created).toBe(now);
    expect(clock).not.toHaveBeenCalled();
  });
});
