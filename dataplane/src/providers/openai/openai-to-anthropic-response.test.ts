import { CHUNK_SIZES, cassette, replay } from '../../../../test/support/cassettes.js';
import type { SseEvent } from '../../sse/sse.js';
import { stopReasonFromOpenAi } from '../common/finish.js';
import { openAiToAnthropic } from './openai-to-anthropic-response.js';

type Ev = { type: string; index?: number; [k: string]: unknown };
const events = (out: SseEvent[]): Ev[] =>
  out.map((e) => {
    const d = JSON.parse(e.data) as Ev;
    expect(e.event).toBe(d.type); // event name and data.type agree, as Anthropic sends them
    return d;
  });

describe('OpenAI wire → Anthropic client: responses', () => {
  it('translates text with cached usage (input_tokens excludes cached tokens)', () => {
    const r = openAiToAnthropic.response(cassette('openai/chat-text').body);
    expect(r.body).toEqual({
      id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini-2024-07-18',
      content: [{ type: 'text', text: 'Hello! How can I help you today?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 2006 - 1920,
        output_tokens: 300,
        cache_read_input_tokens: 1920,
        cache_creation_input_tokens: 0,
      },
    });
    expect(r.usage).toEqual({
      inputTokens: 2006,
      outputTokens: 300,
      cachedInputTokens: 1920,
      cacheCreationTokens: 0,
      reasoningTokens: 64,
      estimated: false,
    });
    expect(r.responseModel).toBe('gpt-4o-mini-2024-07-18');
  });

  it('translates tool calls into tool_use blocks', () => {
    const r = openAiToAnthropic.response(cassette('openai/chat-tool-calls').body);
    const b = r.body as { content: unknown[]; stop_reason: string };
    expect(b.stop_reason).toBe('tool_use');
    expect(b.content).toEqual([
      {
        type: 'tool_use',
        id: 'call_abc123',
        name: 'get_weather',
        input: { location: 'Paris, France', unit: 'celsius' },
      },
      { type: 'tool_use', id: 'call_def456', name: 'get_time', input: { timezone: 'Europe/Paris' } },
    ]);
  });

  it('maps length to max_tokens and tolerates usage without details', () => {
    const r = openAiToAnthropic.response(cassette('openai/chat-length').body);
    expect((r.body as { stop_reason: string }).stop_reason).toBe('max_tokens');
    expect(r.usage).toEqual(expect.objectContaining({ inputTokens: 12, cachedInputTokens: 0, outputTokens: 3 }));
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ])('finish_reason %s → stop_reason %s', (f, s) => {
    expect(stopReasonFromOpenAi(f)).toBe(s);
  });

  it('turns a refusal into text', () => {
    const r = openAiToAnthropic.response({
      id: 'c',
      model: 'm',
      choices: [
        { index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot help.' }, finish_reason: 'stop' },
      ],
    });
    expect((r.body as { content: unknown }).content).toEqual([{ type: 'text', text: 'I cannot help.' }]);
    expect(r.usage).toBeUndefined();
  });

  it.each([
    ['no choices', { id: 'x' }],
    ['choices not array', { choices: {} }],
    ['no message', { choices: [{ index: 0 }] }],
    ['malformed tool call', { choices: [{ message: { tool_calls: [{ id: 'a' }] } }] }],
    [
      'tool arguments not JSON',
      { choices: [{ message: { tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{' } }] } }] },
    ],
    ['not an object', 42],
  ])('rejects a garbage success body (%s) with upstream_bad_response', (_n, body) => {
    expect(() => openAiToAnthropic.response(body)).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
  });
});

describe('OpenAI wire → Anthropic client: streams', () => {
  it.each(CHUNK_SIZES)('emits the full Anthropic event sequence for text (chunk size %i)', (size) => {
    const t = openAiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const ev = events(replay(cassette('openai/chat-stream-text').sse!, t, size));
    expect(ev.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(ev[0]).toEqual({
      type: 'message_start',
      message: {
        id: 'chatcmpl-stream-1',
        type: 'message',
        role: 'assistant',
        model: 'gpt-4o-mini-2024-07-18',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
    expect(ev[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(
      ev
        .slice(2, 5)
        .map((e) => (e.delta as { text: string }).text)
        .join(''),
    ).toBe('Hello! How can I help?');
    expect(ev[6]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 86, output_tokens: 300, cache_read_input_tokens: 1920, cache_creation_input_tokens: 0 },
    });
    expect(t.done).toBe(true);
    expect(t.usage()).toEqual(
      expect.objectContaining({ inputTokens: 2006, cachedInputTokens: 1920, reasoningTokens: 64 }),
    );
    expect(t.responseModel()).toBe('gpt-4o-mini-2024-07-18');
  });

  it.each(CHUNK_SIZES)(
    'emits tool_use blocks with input_json_delta, one block per tool call (chunk size %i)',
    (size) => {
      const t = openAiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
      const ev = events(replay(cassette('openai/chat-stream-tool-calls').sse!, t, size));
      const starts = ev.filter((e) => e.type === 'content_block_start');
      expect(starts).toEqual([
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'call_abc123', name: 'get_weather', input: {} },
        },
        {
          type: 'content_block_start',
          index: 1,
          content_block: { type: 'tool_use', id: 'call_def456', name: 'get_time', input: {} },
        },
      ]);
      for (const i of [0, 1]) {
        const json = ev
          .filter((e) => e.type === 'content_block_delta' && e.index === i)
          .map((e) => {
            const d = e.delta as { type: string; partial_json: string };
            expect(d.type).toBe('input_json_delta');
            return d.partial_json;
          })
          .join('');
        expect(JSON.parse(json)).toEqual(i === 0 ? { location: 'Paris, France' } : { timezone: 'Europe/Paris' });
      }
      // Every block is closed before the next opens, and before message_delta.
      const order = ev.map((e) => `${e.type}${e.index ?? ''}`);
      expect(order.indexOf('content_block_stop0')).toBeLessThan(order.indexOf('content_block_start1'));
      expect(order.slice(-3)).toEqual(['content_block_stop1', 'message_delta', 'message_stop']);
      expect((ev[ev.length - 2]!.delta as { stop_reason: string }).stop_reason).toBe('tool_use');
    },
  );

  it('switches from text to a tool call by closing the text block', () => {
    const t = openAiToAnthropic.stream({ clientWantsUsage: false, clientModel: 'm' });
    const c = (delta: unknown, finish: string | null = null) => ({
      data: JSON.stringify({ id: 'x', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }),
    });
    const out = [
      c({ role: 'assistant', content: 'Let me look.' }),
      c({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }),
      c({}, 'tool_calls'),
      { data: '[DONE]' },
    ].flatMap((e) => t.event(e));
    expect(events(out).map((e) => `${e.type}${e.index ?? ''}`)).toEqual([
      'message_start',
      'content_block_start0',
      'content_block_delta0',
      'content_block_stop0',
      'content_block_start1',
      'content_block_delta1',
      'content_block_stop1',
      'message_delta',
      'message_stop',
    ]);
    // no usage reported: zeros, not absent fields
    expect(events(out)[7]!.usage).toEqual({
      input_tokens: 0,
      output_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
  });

  it('closes well-formed on end() when a server sent finish_reason but no [DONE]', () => {
    const sse = cassette('openai/chat-stream-text').sse!.replace('data: [DONE]\n\n', '');
    const t = openAiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const ev = events(replay(sse, t, 9));
    expect(ev.slice(-2).map((e) => e.type)).toEqual(['message_delta', 'message_stop']);
    expect(t.done).toBe(true);
  });

  it('reports a truncated stream (no finish, no [DONE]) as not done and emits no message_stop', () => {
    const t = openAiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const sse = cassette('openai/chat-stream-truncated').sse!;
    const out = replay(sse.slice(0, sse.lastIndexOf('\n\n') + 2), t, 4);
    expect(out.filter((e) => e.event === 'content_block_delta')).toHaveLength(2);
    expect(t.done).toBe(false);
    expect(out.some((e) => e.event === 'message_stop')).toBe(false);
  });

  it('throws on the cut-off final fragment of a truncated stream (invalid JSON)', () => {
    const t = openAiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    expect(() => replay(cassette('openai/chat-stream-truncated').sse!, t, 4)).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
  });

  it('maps an OpenAI error chunk to an Anthropic error event', () => {
    const t = openAiToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = t.event({ data: '{"error":{"message":"The server had an error","type":"server_error"}}' });
    expect(out).toEqual([
      {
        event: 'error',
        data: JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'The server had an error' } }),
      },
    ]);
    expect(t.error?.code).toBe('upstream_error');
    expect(t.done).toBe(true);
  });

  it.each([
    ['invalid JSON', { data: 'not json' }],
    ['no choices', { data: '{"id":"x"}' }],
    ['tool call without index', { data: '{"choices":[{"delta":{"tool_calls":[{"id":"a"}]}}]}' }],
    ['first tool chunk without name', { data: '{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a"}]}}]}' }],
  ])('throws upstream_bad_response on %s', (_n, e) => {
    const t = openAiToAnthropic.stream({ clientWantsUsage: false, clientModel: 'm' });
    expect(() => t.event(e)).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
  });

  it('throws when a server interleaves the arguments of two tool calls', () => {
    const t = openAiToAnthropic.stream({ clientWantsUsage: false, clientModel: 'm' });
    const tc = (x: unknown) => ({ data: JSON.stringify({ choices: [{ delta: { tool_calls: [x] } }] }) });
    t.event(tc({ index: 0, id: 'a', function: { name: 'f', arguments: '' } }));
    t.event(tc({ index: 1, id: 'b', function: { name: 'g', arguments: '' } }));
    expect(() => t.event(tc({ index: 0, function: { arguments: '{}' } }))).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
  });

  it('uses the client model when the upstream reports none', () => {
    const t = openAiToAnthropic.stream({ clientWantsUsage: false, clientModel: 'smart' });
    const out = t.event({ data: '{"choices":[{"delta":{"content":"x"}}]}' });
    expect((JSON.parse(out[0]!.data) as { message: { model: string } }).message.model).toBe('smart');
  });
});
