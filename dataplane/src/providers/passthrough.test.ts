import { CHUNK_SIZES, cassette, parsedData, replay } from '../../../test/support/cassettes.js';
import { anthropicPassthroughRequest, anthropicToAnthropic } from './anthropic/anthropic-to-anthropic.js';
import { openAiEmbeddings, openAiPassthroughRequest, openAiToOpenAi } from './openai/openai-to-openai.js';

describe('OpenAI client ⇄ OpenAI wire (near-passthrough)', () => {
  it('rewrites the model and always asks for stream usage, without mutating the body', () => {
    const body = { model: 'smart', messages: [], stream: true, seed: 3, stream_options: { foo: 1 } };
    expect(openAiPassthroughRequest(body, 'gpt-4o', true)).toEqual({
      model: 'gpt-4o',
      messages: [],
      stream: true,
      seed: 3,
      stream_options: { foo: 1, include_usage: true },
    });
    expect(body.model).toBe('smart');
    expect(body.stream_options).toEqual({ foo: 1 });
    expect(openAiPassthroughRequest({ model: 'a' }, 'b', false)).toEqual({ model: 'b' });
  });

  it('passes a response body through and reads usage', () => {
    const c = cassette('openai/chat-text');
    const r = openAiToOpenAi.response(c.body);
    expect(r.body).toBe(c.body);
    expect(r.usage).toEqual(
      expect.objectContaining({ inputTokens: 2006, cachedInputTokens: 1920, reasoningTokens: 64 }),
    );
    expect(r.responseModel).toBe('gpt-4o-mini-2024-07-18');
    expect(() => openAiToOpenAi.response({ object: 'list' })).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
  });

  it.each(CHUNK_SIZES)(
    'passes stream events through untouched and keeps the usage chunk when asked (size %i)',
    (size) => {
      const sse = cassette('openai/chat-stream-text').sse!;
      const t = openAiToOpenAi.stream({ clientWantsUsage: true, clientModel: 'smart' });
      const out = replay(sse, t, size);
      expect(out.map((e) => `data: ${e.data}\n\n`).join('')).toBe(sse);
      expect(t.done).toBe(true);
      expect(t.usage()?.inputTokens).toBe(2006);
    },
  );

  it('drops the usage-only chunk when the client did not ask, still metering it', () => {
    const t = openAiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'smart' });
    const data = parsedData(replay(cassette('openai/chat-stream-tool-calls').sse!, t, 7));
    expect(data[data.length - 1]).toBe('[DONE]');
    expect(data.slice(0, -1).every((c) => (c as { choices: unknown[] }).choices.length === 1)).toBe(true);
    expect(t.usage()).toEqual(expect.objectContaining({ inputTokens: 82, outputTokens: 41 }));
  });

  it('marks an error chunk, throws on garbage, reports truncation', () => {
    const t = openAiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    const ev = { data: '{"error":{"message":"boom","type":"server_error"}}' };
    expect(t.event(ev)).toEqual([ev]);
    expect(t.error?.code).toBe('upstream_error');
    const g = openAiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    expect(() => g.event({ data: '{"choices":' })).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
    expect(() => g.event({ data: '{"id":"x"}' })).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
    const tr = openAiToOpenAi.stream({ clientWantsUsage: false, clientModel: 'm' });
    const sse = cassette('openai/chat-stream-truncated').sse!;
    replay(sse.slice(0, sse.lastIndexOf('\n\n') + 2), tr, 3);
    expect(tr.done).toBe(false);
  });

  it('passes embeddings through with their usage', () => {
    const c = cassette('openai/embeddings');
    const r = openAiEmbeddings.response(c.body);
    expect(r.body).toBe(c.body);
    expect(r.usage).toEqual(expect.objectContaining({ inputTokens: 8, outputTokens: 0 }));
    expect(() => openAiEmbeddings.response({ choices: [] })).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
    expect(() => openAiEmbeddings.stream({ clientWantsUsage: false, clientModel: 'm' })).toThrow();
  });
});

describe('Anthropic client ⇄ Anthropic wire (near-passthrough)', () => {
  it('rewrites the model only', () => {
    const body = { model: 'smart', max_tokens: 5, messages: [], anything: true };
    expect(anthropicPassthroughRequest(body, 'claude-x')).toEqual({ ...body, model: 'claude-x' });
    expect(body.model).toBe('smart');
  });

  it('passes a response through and reads cached usage', () => {
    const c = cassette('anthropic/messages-text');
    const r = anthropicToAnthropic.response(c.body);
    expect(r.body).toBe(c.body);
    expect(r.usage).toEqual(
      expect.objectContaining({
        inputTokens: 2009,
        cachedInputTokens: 1800,
        cacheCreationTokens: 188,
        outputTokens: 393,
      }),
    );
    expect(() => anthropicToAnthropic.response({ id: 'x' })).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
  });

  it.each(CHUNK_SIZES)('passes every event (pings included) through untouched (size %i)', (size) => {
    const sse = cassette('anthropic/messages-stream-tool-use').sse!;
    const t = anthropicToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = replay(sse, t, size);
    expect(out.map((e) => `event: ${e.event}\ndata: ${e.data}\n\n`).join('')).toBe(sse);
    expect(t.done).toBe(true);
    expect(t.usage()).toEqual(expect.objectContaining({ inputTokens: 472, outputTokens: 89 }));
    expect(t.responseModel()).toBe('claude-sonnet-4-5-20250929');
  });

  it('keeps message_start input and cache counts when message_delta reports only output', () => {
    const t = anthropicToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    replay(cassette('anthropic/messages-stream-text').sse!, t, 17);
    expect(t.usage()).toEqual(
      expect.objectContaining({
        inputTokens: 25 + 1024,
        cachedInputTokens: 1024,
        cacheCreationTokens: 0,
        outputTokens: 15,
      }),
    );
  });

  it('records a mid-stream error, reports truncation, throws on garbage', () => {
    const t = anthropicToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    const out = replay(cassette('anthropic/messages-stream-error').sse!, t, 5);
    expect(out[out.length - 1]!.event).toBe('error');
    expect(t.error?.code).toBe('upstream_unavailable');
    const tr = anthropicToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    replay(cassette('anthropic/messages-stream-truncated').sse!, tr, 5);
    expect(tr.done).toBe(false);
    const g = anthropicToAnthropic.stream({ clientWantsUsage: true, clientModel: 'smart' });
    expect(() => g.event({ event: 'message_start', data: 'nope' })).toThrow(
      expect.objectContaining({ code: 'upstream_bad_response' }),
    );
    expect(() => g.event({ data: '{}' })).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
  });
});
