import { CHUNK_SIZES, cassette, replay } from '../../../../test/support/cassettes.js';
import type { SseEvent } from '../../sse/sse.js';
import { geminiToAnthropic } from './gemini-to-anthropic.js';

type Msg = { content: Record<string, unknown>[]; stop_reason: string; usage: Record<string, number>; id: string };

const events = (out: SseEvent[]) =>
  out.map((e) => ({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }));

describe('Gemini wire → Anthropic client: responses', () => {
  it('translates text and usage (input_tokens excludes cache reads; output includes thoughts)', () => {
    const r = geminiToAnthropic.response(cassette('gemini/generate-text').body);
    expect(r.body).toEqual({
      id: 'mQ3gaJ2fJdKXz7IPsKq_mAQ',
      type: 'message',
      role: 'assistant',
      model: 'gemini-2.5-flash',
      content: [{ type: 'text', text: 'Hello! How can I help you today?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 52, output_tokens: 41, cache_creation_input_tokens: 0, cache_read_input_tokens: 2048 },
    });
    expect(r.usage).toEqual(
      expect.objectContaining({ inputTokens: 2100, cachedInputTokens: 2048, reasoningTokens: 32 }),
    );
  });

  it('turns function calls into tool_use blocks with stop_reason tool_use', () => {
    const r = geminiToAnthropic.response(cassette('gemini/generate-function-call').body);
    const m = r.body as Msg;
    expect(m.stop_reason).toBe('tool_use');
    expect(m.content).toEqual([
      { type: 'text', text: 'Let me check both cities.' },
      { type: 'tool_use', id: 'call_fc-7x2AbQ_0', name: 'get_weather', input: { location: 'Paris', unit: 'celsius' } },
      { type: 'tool_use', id: 'call_fc-7x2AbQ_1', name: 'get_weather', input: { location: 'Tokyo', unit: 'celsius' } },
    ]);
  });

  it.each([
    ['generate-max-tokens', 'max_tokens', 1],
    ['generate-safety', 'refusal', 0],
    ['generate-prompt-blocked', 'refusal', 0],
  ])('%s → stop_reason %s', (name, stop, blocks) => {
    const m = geminiToAnthropic.response(cassette(`gemini/${name}`).body).body as Msg;
    expect(m.stop_reason).toBe(stop);
    expect(m.content).toHaveLength(blocks);
  });

  it('rejects a body without candidates with upstream_bad_response', () => {
    expect(() => geminiToAnthropic.response({ modelVersion: 'x' })).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
  });
});

describe('Gemini wire → Anthropic client: streams', () => {
  it.each(CHUNK_SIZES)('streams text as the full Anthropic event sequence (chunk size %i)', (size) => {
    const t = geminiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = events(replay(cassette('gemini/stream-text').sse!, t, size));
    expect(out.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(out.every((e) => e.data.type === e.event)).toBe(true);
    const start = out[0]!.data.message as Record<string, unknown>;
    expect(start).toEqual(
      expect.objectContaining({ id: 'st-abc123', model: 'gemini-2.5-flash', role: 'assistant', content: [] }),
    );
    expect(start.usage).toEqual(expect.objectContaining({ input_tokens: 11, output_tokens: 0 }));
    const text = out
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (e.data.delta as { text: string }).text)
      .join('');
    expect(text).toBe('Hello there! How can I help? ✨');
    expect(out[6]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 11, output_tokens: 32, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(t.done).toBe(true);
    expect(t.usage()).toEqual(expect.objectContaining({ inputTokens: 11, outputTokens: 32, reasoningTokens: 20 }));
  });

  it.each(CHUNK_SIZES)(
    'streams a whole function call as a tool_use block with one input_json_delta (size %i)',
    (size) => {
      const t = geminiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
      const out = events(replay(cassette('gemini/stream-function-call').sse!, t, size));
      expect(out.map((e) => [e.event, e.data.index])).toEqual([
        ['message_start', undefined],
        ['content_block_start', 0],
        ['content_block_delta', 0],
        ['content_block_stop', 0],
        ['content_block_start', 1],
        ['content_block_delta', 1],
        ['content_block_stop', 1],
        ['message_delta', undefined],
        ['message_stop', undefined],
      ]);
      expect(out[4]!.data.content_block).toEqual({
        type: 'tool_use',
        id: 'call_sf-xyz_0',
        name: 'get_weather',
        input: {},
      });
      expect(JSON.parse((out[5]!.data.delta as { partial_json: string }).partial_json)).toEqual({
        location: 'San Francisco, CA',
        unit: 'fahrenheit',
      });
      expect((out[7]!.data.delta as { stop_reason: string }).stop_reason).toBe('tool_use');
    },
  );

  it('maps a mid-stream error to an Anthropic error event (overloaded_error)', () => {
    const t = geminiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = events(replay(cassette('gemini/stream-error').sse!, t, 7));
    expect(out[out.length - 1]).toEqual({
      event: 'error',
      data: {
        type: 'error',
        error: { type: 'overloaded_error', message: 'The model is overloaded. Please try again later.' },
      },
    });
    expect(out.some((e) => e.event === 'message_stop')).toBe(false);
    expect(t.error?.code).toBe('upstream_unavailable');
  });

  it('reports a truncated stream as not done and writes no closing events', () => {
    const t = geminiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = events(replay(cassette('gemini/stream-truncated').sse!, t, 3));
    expect(t.done).toBe(false);
    expect(out.some((e) => e.event === 'message_stop' || e.event === 'message_delta')).toBe(false);
  });

  it('throws upstream_bad_response on garbage', () => {
    const t = geminiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'm' });
    expect(() => t.event({ data: 'not json' })).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
  });
});
