import { afterEach, jest } from '@jest/globals';
import { CHUNK_SIZES, cassette, parsedData, replay } from '../../../../test/support/cassettes.js';
import { GatewayError } from '../../errors.js';
import { finishReasonFromAnthropic } from '../common/finish.js';
import { anthropicToOpenAi } from './anthropic-to-openai.js';

type Chunk = {
  id: string;
  object: string;
  model: string;
  created: number;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: unknown;
};

describe('Anthropic wire → OpenAI client: responses', () => {
  it('translates a text message with cached usage (prompt_tokens includes cache reads and writes)', () => {
    const r = anthropicToOpenAi.response(cassette('anthropic/messages-text').body);
    expect(r.body).toEqual({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi! My name is Claude.', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 21 + 188 + 1800,
        completion_tokens: 393,
        total_tokens: 21 + 188 + 1800 + 393,
        prompt_tokens_details: { cached_tokens: 1800, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
    });
    expect(r.usage).toEqual({
      inputTokens: 2009,
      outputTokens: 393,
      cachedInputTokens: 1800,
      cacheCreationTokens: 188,
      reasoningTokens: 0,
      estimated: false,
    });
    expect(r.responseModel).toBe('claude-sonnet-4-5-20250929');
  });

  it('translates tool_use blocks into tool_calls with JSON arguments', () => {
    const r = anthropicToOpenAi.response(cassette('anthropic/messages-tool-use').body);
    const choice = (r.body as { choices: { message: Record<string, unknown>; finish_reason: string }[] }).choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe("I'll check the weather.");
    expect(choice.message.tool_calls).toEqual([
      {
        id: 'toolu_01A09q90qw90lq917835lq9',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
      },
    ]);
  });

  it.each([
    ['messages-stop-sequence', 'stop'],
    ['messages-max-tokens', 'length'],
  ])('maps the stop reason of %s to %s', (name, finish) => {
    const r = anthropicToOpenAi.response(cassette(`anthropic/${name}`).body);
    expect((r.body as { choices: { finish_reason: string }[] }).choices[0]!.finish_reason).toBe(finish);
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    [null, 'stop'],
  ])('stop_reason %s → finish_reason %s', (stop, finish) => {
    expect(finishReasonFromAnthropic(stop)).toBe(finish);
  });

  it('drops thinking blocks and gives null content when there is no text', () => {
    const r = anthropicToOpenAi.response({
      id: 'msg_1',
      type: 'message',
      model: 'c',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        { type: 'tool_use', id: 't1', name: 'f', input: {} },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 1, output_tokens: 2 },
    });
    const msg = (r.body as { choices: { message: Record<string, unknown> }[] }).choices[0]!.message;
    expect(msg.content).toBeNull();
    expect(msg.tool_calls).toHaveLength(1);
  });

  it.each([
    ['not an object', 'nope'],
    ['no content', { id: 'x', usage: {} }],
    ['content not array', { content: 'text' }],
    ['malformed block', { content: [7] }],
    ['text block without text', { content: [{ type: 'text' }] }],
    ['tool_use without id', { content: [{ type: 'tool_use', name: 'f', input: {} }] }],
  ])('rejects a garbage success body (%s) with upstream_bad_response', (_name, body) => {
    expect(() => anthropicToOpenAi.response(body)).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response', status: 502 }),
    );
  });
});

describe('Anthropic wire → OpenAI client: streams', () => {
  it.each(CHUNK_SIZES)('streams text as chat.completion.chunk + [DONE] (chunk size %i, usage asked)', (size) => {
    const t = anthropicToOpenAi.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = replay(cassette('anthropic/messages-stream-text').sse!, t, size);
    expect(out.every((e) => e.event === undefined)).toBe(true);
    const data = parsedData(out);
    expect(data[data.length - 1]).toBe('[DONE]');
    const chunks = data.slice(0, -1) as Chunk[];
    for (const c of chunks) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.id).toBe('msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY');
      expect(c.model).toBe('claude-sonnet-4-5-20250929');
    }
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks[0]!.usage).toBeNull();
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Hello! How can I help?');
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finish.map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(
      expect.objectContaining({
        prompt_tokens: 25 + 1024,
        completion_tokens: 15,
        total_tokens: 25 + 1024 + 15,
        prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      }),
    );
    expect(t.done).toBe(true);
    expect(t.error).toBeUndefined();
    expect(t.usage()).toEqual(
      expect.objectContaining({ inputTokens: 1049, outputTokens: 15, cachedInputTokens: 1024 }),
    );
    expect(t.responseModel()).toBe('claude-sonnet-4-5-20250929');
  });

  it('omits the usage chunk and usage fields when the client did not ask, and drops pings', () => {
    const t = anthropicToOpenAi.stream({ clientWantsUsage: false, clientModel: 'smart' });
    const out = replay(cassette('anthropic/messages-stream-text').sse!, t, 5);
    const chunks = parsedData(out).slice(0, -1) as Chunk[];
    expect(chunks.every((c) => !('usage' in c) && c.choices.length === 1)).toBe(true);
    // message_start, 3 text deltas, finish (ping, content_block_start/stop produce nothing)
    expect(chunks).toHaveLength(5);
    expect(t.usage()?.outputTokens).toBe(15);
  });

  it.each(CHUNK_SIZES)(
    'streams tool_use as tool_calls with id and name first, then argument deltas (size %i)',
    (size) => {
      const t = anthropicToOpenAi.stream({ clientWantsUsage: false, clientModel: 'smart' });
      const chunks = parsedData(replay(cassette('anthropic/messages-stream-tool-use').sse!, t, size)).slice(
        0,
        -1,
      ) as Chunk[];
      const toolDeltas = chunks
        .map((c) => c.choices[0]?.delta.tool_calls as Record<string, unknown>[] | undefined)
        .filter((x) => x !== undefined)
        .map((x) => x[0]!);
      expect(toolDeltas[0]).toEqual({
        index: 0,
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      });
      for (const d of toolDeltas.slice(1)) {
        expect(d.index).toBe(0);
        expect(d.id).toBeUndefined();
      }
      const args = toolDeltas.map((d) => (d.function as { arguments: string }).arguments).join('');
      expect(JSON.parse(args)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Okay, let me check the weather.');
      expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('tool_calls');
      expect(t.usage()).toEqual(expect.objectContaining({ inputTokens: 472, outputTokens: 89 }));
    },
  );

  it('numbers several tool calls 0, 1, ... in block order', () => {
    const t = anthropicToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    const events = [
      {
        event: 'message_start',
        data: JSON.stringify({
          type: 'message_start',
          message: { id: 'm1', model: 'c', usage: { input_tokens: 3, output_tokens: 1 } },
        }),
      },
      {
        event: 'content_block_start',
        data: JSON.stringify({
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'a', name: 'fa', input: {} },
        }),
      },
      {
        event: 'content_block_start',
        data: JSON.stringify({
          type: 'content_block_start',
          index: 1,
          content_block: { type: 'tool_use', id: 'b', name: 'fb', input: {} },
        }),
      },
      {
        event: 'content_block_delta',
        data: JSON.stringify({
          type: 'content_block_delta',
          index: 1,
          delta: { type: 'input_json_delta', partial_json: '{}' },
        }),
      },
    ];
    const out = events.flatMap((e) => t.event(e)).map((e) => JSON.parse(e.data) as Chunk);
    expect(out.slice(1).map((c) => (c.choices[0]!.delta.tool_calls as { index: number }[])[0]!.index)).toEqual([
      0, 1, 1,
    ]);
  });

  it('maps a mid-stream error event to an OpenAI error object and marks the stream failed', () => {
    const t = anthropicToOpenAi.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = replay(cassette('anthropic/messages-stream-error').sse!, t, 11);
    const last = JSON.parse(out[out.length - 1]!.data);
    expect(last).toEqual({
      error: { message: 'Overloaded', type: 'api_error', param: null, code: 'upstream_unavailable' },
    });
    expect(out.some((e) => e.data === '[DONE]')).toBe(false);
    expect(t.done).toBe(true);
    expect(t.error).toBeInstanceOf(GatewayError);
    expect(t.error!.code).toBe('upstream_unavailable');
  });

  it('reports a truncated stream as not done', () => {
    const t = anthropicToOpenAi.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = replay(cassette('anthropic/messages-stream-truncated').sse!, t, 13);
    expect(t.done).toBe(false);
    expect(out.some((e) => e.data === '[DONE]')).toBe(false);
    expect(t.usage()?.inputTokens).toBe(25 + 1024);
  });

  it.each([
    ['invalid JSON', { event: 'content_block_delta', data: '{"type":' }],
    [
      'a delta before message_start',
      {
        event: 'content_block_delta',
        data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}',
      },
    ],
    ['a JSON array', { event: 'message_start', data: '[1]' }],
  ])('throws upstream_bad_response on %s', (_n, ev) => {
    const t = anthropicToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    expect(() => t.event(ev)).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
  });

  it('throws on malformed events after a valid start', () => {
    const t = anthropicToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    t.event({ event: 'message_start', data: '{"type":"message_start","message":{"id":"m","model":"c","usage":{}}}' });
    expect(() => t.event({ event: 'content_block_delta', data: '{"index":0,"delta":{"type":"text_delta"}}' })).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
    expect(() =>
      t.event({
        event: 'content_block_delta',
        data: '{"index":5,"delta":{"type":"input_json_delta","partial_json":"{"}}',
      }),
    ).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
    expect(() =>
      t.event({ event: 'content_block_start', data: '{"index":1,"content_block":{"type":"tool_use"}}' }),
    ).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
    // unknown event types are ignored
    expect(t.event({ event: 'future_event', data: '{"type":"future_event"}' })).toEqual([]);
  });
});

describe('Anthropic wire → OpenAI client: created comes from the caller (pure translation)', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('uses the given now for created in responses and every stream chunk, without reading the clock', () => {
    const clock = jest.spyOn(Date, 'now');
    const now = 1_700_000_000;
    const r = anthropicToOpenAi.response(cassette('anthropic/messages-text').body, { now });
    expect((r.body as { created: number }).created).toBe(now);
    const t = anthropicToOpenAi.stream({ clientWantsUsage: true, clientModel: 'm', now });
    const chunks = parsedData(replay(cassette('anthropic/messages-stream-text').sse!, t, 7)).filter(
      (c): c is Chunk => c !== '[DONE]',
    );
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(c.created).toBe(now);
    expect(clock).not.toHaveBeenCalled();
  });

  it('falls back to the clock when no now is given', () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_234_567_890_999);
    const r = anthropicToOpenAi.response(cassette('anthropic/messages-text').body);
    expect((r.body as { created: number }).created).toBe(1_234_567_890);
  });
});
