/** The canonical answer's rules, one table per rule (ADR 0073); the golden files cover whole cassettes. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayError } from '../errors.js';
import type { Usage } from '../providers/types.js';
import { type SseEvent, SseParser } from '../sse/sse.js';
import {
  type ChatAnswer,
  fromAnthropicBody,
  fromOpenAiBody,
  isChatAnswer,
  stopFromAnthropic,
  stopFromOpenAi,
  storableStop,
} from './canonical.js';
import { ANSWER_CAPTURE, answerCapture, streamCapture } from './canonical-stream.js';
import {
  ANSWER_CODEC,
  ANSWER_REPLAY,
  anthropicJson,
  anthropicStream,
  finishForOpenAi,
  freshId,
  openAiJson,
  openAiStream,
  stopReasonForAnthropic,
} from './replay.js';
import type { CanonicalStop } from './types.js';

const USAGE: Usage = {
  inputTokens: 100,
  outputTokens: 7,
  cachedInputTokens: 30,
  cacheCreationTokens: 20,
  reasoningTokens: 3,
  estimated: false,
};
const CTX = { model: 'asked', now: 1700000000, clientWantsUsage: true };

const chunk = (delta: object, finish: string | null = null, extra: object = {}): SseEvent => ({
  data: JSON.stringify({
    id: 'c',
    object: 'chat.completion.chunk',
    model: 'm',
    ...extra,
    choices: [{ index: 0, delta, finish_reason: finish }],
  }),
});
const DONE: SseEvent = { data: '[DONE]' };
const ev = (event: string, data: object): SseEvent => ({ event, data: JSON.stringify({ type: event, ...data }) });
const start = ev('message_start', { message: { id: 'msg', model: 'claude', content: [], usage: {} } });
const textStart = (index: number) => ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
const textDelta = (index: number, text: string) =>
  ev('content_block_delta', { index, delta: { type: 'text_delta', text } });
const toolStart = (index: number, id: string, name: string) =>
  ev('content_block_start', { index, content_block: { type: 'tool_use', id, name, input: {} } });
const jsonDelta = (index: number, partial_json: string) =>
  ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
const blockStop = (index: number) => ev('content_block_stop', { index });
const msgDelta = (stop_reason: string, stop_sequence: string | null = null) =>
  ev('message_delta', { delta: { stop_reason, stop_sequence }, usage: { output_tokens: 7 } });
const STOP = ev('message_stop', {});

function streamed(format: 'openai' | 'anthropic', events: SseEvent[], storeLength = false): ChatAnswer | undefined {
  const c = answerCapture({ storeLength }).stream(format);
  for (const e of events) c.event(e);
  return c.end(USAGE, 'provider-model') as ChatAnswer | undefined;
}

describe('stop reasons', () => {
  it.each<[unknown, CanonicalStop | undefined]>([
    ['stop', 'stop'],
    ['length', 'length'],
    ['tool_calls', 'tool_calls'],
    ['function_call', 'tool_calls'],
    ['content_filter', 'content_filter'],
    ['eos', 'other'],
    [null, undefined],
  ])('OpenAI finish_reason %p → %p', (finish, stop) => expect(stopFromOpenAi(finish)).toBe(stop));

  it.each<[unknown, CanonicalStop | undefined]>([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'other'],
    [null, undefined],
  ])('Anthropic stop_reason %p → %p', (reason, stop) => expect(stopFromAnthropic(reason)).toBe(stop));

  it.each<[CanonicalStop, string | null, string, string]>([
    ['stop', null, 'stop', 'end_turn'],
    ['stop', '###', 'stop', 'stop_sequence'],
    ['length', null, 'length', 'max_tokens'],
    ['tool_calls', null, 'tool_calls', 'tool_use'],
    ['content_filter', null, 'content_filter', 'refusal'],
    ['other', null, 'stop', 'end_turn'],
  ])('canonical %p (stop sequence %p) → OpenAI %p, Anthropic %p', (stop, seq, openai, anthropic) => {
    expect(finishForOpenAi(stop)).toBe(openai);
    expect(stopReasonForAnthropic(stop, seq)).toBe(anthropic);
  });

  it.each<[CanonicalStop, boolean, boolean]>([
    ['stop', false, true],
    ['tool_calls', false, true],
    ['length', false, false],
    ['length', true, true],
    ['content_filter', true, false],
    ['other', true, false],
  ])('%p with storeLength %p is stored: %p', (stop, storeLength, stored) =>
    expect(storableStop(stop, { storeLength })).toBe(stored),
  );

  it('cut by max tokens: not captured unless the route stores such answers', () => {
    const events = [chunk({ content: 'abc' }), chunk({}, 'length'), DONE];
    expect(streamed('openai', events)).toBeUndefined();
    expect(streamed('openai', events, true)?.stop).toBe('length');
    const body = { type: 'message', model: 'c', content: [{ type: 'text', text: 'a' }], stop_reason: 'max_tokens' };
    expect(ANSWER_CAPTURE.json('anthropic', body, USAGE)).toBeUndefined();
    expect(answerCapture({ storeLength: true }).json('anthropic', body, USAGE)?.stop).toBe('length');
    // The route's choice passed per call (spec.cache.includeTruncated).
    expect(ANSWER_CAPTURE.json('anthropic', body, USAGE, { storeLength: true })?.stop).toBe('length');
    const c = ANSWER_CAPTURE.stream('openai', { storeLength: true });
    for (const e of events) c.event(e);
    expect(c.end(USAGE, 'm')?.stop).toBe('length');
    // The cache's codec keeps them: its store step applies includeTruncated.
    expect(ANSWER_CODEC.capture.json('anthropic', body, USAGE)?.stop).toBe('length');
    expect(ANSWER_CODEC.capture.json('anthropic', { ...body, stop_reason: 'refusal' }, USAGE)).toBeUndefined();
  });
});

describe('usage', () => {
  const a = streamed('anthropic', [start, textStart(0), textDelta(0, 'hi'), blockStop(0), msgDelta('end_turn'), STOP]);

  it('is the usage the call reported, with the provider model as responseModel', () => {
    expect(a?.usage).toEqual(USAGE);
    expect(a?.responseModel).toBe('provider-model');
    expect(a?.content.model).toBe('claude');
  });

  it('renders all input, cached, cache writes and reasoning in both formats', () => {
    const o = openAiJson(a as ChatAnswer, CTX).usage;
    expect(o).toMatchObject({
      prompt_tokens: 100,
      completion_tokens: 7,
      total_tokens: 107,
      prompt_tokens_details: { cached_tokens: 30 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
    expect(anthropicJson(a as ChatAnswer, CTX).usage).toEqual({
      input_tokens: 50,
      output_tokens: 7,
      cache_read_input_tokens: 30,
      cache_creation_input_tokens: 20,
    });
  });

  it('OpenAI streams carry a usage chunk only when asked; Anthropic message_delta always', () => {
    const withUsage = openAiStream(a as ChatAnswer, CTX);
    const without = openAiStream(a as ChatAnswer, { ...CTX, clientWantsUsage: false });
    expect(withUsage).toContain('"choices":[],"usage":{"prompt_tokens":100');
    expect(without).not.toContain('usage');
    expect(anthropicStream(a as ChatAnswer, CTX)).toContain('"usage":{"input_tokens":50,"output_tokens":7');
  });

  it('an answer the provider reported no usage for: no OpenAI usage, zeros for Anthropic (as the live path)', () => {
    const b = { ...(a as ChatAnswer), usage: undefined };
    expect(openAiJson(b, CTX).usage).toBeUndefined();
    expect(openAiStream(b, CTX)).not.toContain('"choices":[]');
    expect(anthropicJson(b, CTX).usage).toMatchObject({ input_tokens: 0, output_tokens: 0 });
  });
});

describe('tool calls split across chunks', () => {
  it('OpenAI: two calls interleaved by index, arguments in pieces', () => {
    const a = streamed('openai', [
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x"' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '}' } }] }),
      chunk({}, 'tool_calls'),
      DONE,
    ]);
    expect(a?.content.blocks).toEqual([
      { type: 'tool_call', id: 'call_a', name: 'f', arguments: '{"x":1}' },
      { type: 'tool_call', id: 'call_b', name: 'g', arguments: '{}' },
    ]);
    expect(anthropicJson(a as ChatAnswer, CTX).content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'f', input: { x: 1 } },
      { type: 'tool_use', id: 'call_b', name: 'g', input: {} },
    ]);
  });

  it('Anthropic: input_json_delta pieces, and a tool without input', () => {
    const a = streamed('anthropic', [
      start,
      toolStart(0, 'toolu_1', 'f'),
      jsonDelta(0, '{"city": "Pa'),
      jsonDelta(0, 'ris"}'),
      blockStop(0),
      toolStart(1, 'toolu_2', 'now'),
      blockStop(1),
      msgDelta('tool_use'),
      STOP,
    ]);
    expect(a?.content.blocks).toEqual([
      { type: 'tool_call', id: 'toolu_1', name: 'f', arguments: '{"city": "Paris"}' },
      { type: 'tool_call', id: 'toolu_2', name: 'now', arguments: '' },
    ]);
    expect(openAiJson(a as ChatAnswer, CTX).choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{"city": "Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'now', arguments: '' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('arguments that are not a JSON object are not captured (Anthropic replay needs an input object)', () => {
    const events = [
      chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '[1,' } }] }),
      chunk({}, 'tool_calls'),
    ];
    expect(streamed('openai', events)).toBeUndefined();
  });
});

describe('content blocks', () => {
  const body = {
    type: 'message',
    model: 'claude',
    content: [
      { type: 'text', text: 'one ' },
      { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: [1, 'é'] } },
      { type: 'text', text: 'two' },
      { type: 'text', text: '' },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
  };
  const a = fromAnthropicBody(body, USAGE) as ChatAnswer;

  it('keeps several blocks in order and drops empty text', () => {
    expect(a.content.blocks.map((b) => b.type)).toEqual(['text', 'tool_call', 'text']);
    expect(anthropicJson(a, CTX).content).toEqual(body.content.slice(0, 3));
  });

  it('OpenAI gets the text blocks joined and the calls after them', () => {
    const m = (openAiJson(a, CTX).choices as { message: Record<string, unknown> }[])[0]?.message;
    expect(m?.content).toBe('one two');
    expect(m?.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{"a":[1,"é"]}' } },
    ]);
  });

  it.each<[string, unknown, unknown]>([
    ['OpenAI content ""', '', []],
    ['OpenAI content null', null, []],
  ])('empty text: %s → no block, replayed as "" / []', (_n, content, blocks) => {
    const o = { model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] };
    const e = fromOpenAiBody(o, USAGE) as ChatAnswer;
    expect(e.content.blocks).toEqual(blocks);
    expect((openAiJson(e, CTX).choices as { message: { content: unknown } }[])[0]?.message.content).toBe('');
    expect(anthropicJson(e, CTX).content).toEqual([]);
    const s = anthropicStream(e, CTX);
    expect(s).not.toContain('content_block_start');
    expect(s).toContain('event: message_stop');
  });

  it('a stop sequence is kept for Anthropic replays (OpenAI: stop)', () => {
    const s = fromAnthropicBody(
      { ...body, content: [{ type: 'text', text: 'x' }], stop_reason: 'stop_sequence', stop_sequence: '##' },
      USAGE,
    ) as ChatAnswer;
    expect(anthropicJson(s, CTX)).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: '##' });
    expect(openAiJson(s, CTX).choices).toMatchObject([{ finish_reason: 'stop' }]);
  });
});

describe('unicode', () => {
  const text = 'héllo 世界 😀 ok';
  const sse =
    `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content: text.slice(0, 7) }, finish_reason: null }] })}\n\n` +
    `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content: text.slice(7) }, finish_reason: 'stop' }] })}\n\n` +
    'data: [DONE]\n\n';

  it('text split at every byte of the event stream is captured whole', () => {
    const bytes = new TextEncoder().encode(sse);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new SseParser();
      const c = streamCapture('openai');
      for (const e of [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut)), ...p.end()]) c.event(e);
      expect((c.end(USAGE, 'm') as ChatAnswer).content.blocks).toEqual([{ type: 'text', text }]);
    }
  });

  it('a surrogate pair split across two deltas (JSON escapes) joins into one character', () => {
    const d1 = '{"model":"m","choices":[{"index":0,"delta":{"content":"a\\ud83d"},"finish_reason":null}]}';
    const d2 = '{"model":"m","choices":[{"index":0,"delta":{"content":"\\ude00b"},"finish_reason":"stop"}]}';
    const a = streamed('openai', [{ data: d1 }, { data: d2 }]);
    expect(a?.content.blocks).toEqual([{ type: 'text', text: 'a😀b' }]);
    expect(anthropicStream(a as ChatAnswer, CTX)).toContain('"text":"a😀b"');
  });
});

describe('not captured', () => {
  const okOpenAi = [chunk({ content: 'x' }), chunk({}, 'stop'), DONE];
  it.each<[string, 'openai' | 'anthropic', SseEvent[]]>([
    ['no finish chunk (truncated)', 'openai', [chunk({ content: 'x' })]],
    ['an error event', 'openai', [chunk({ content: 'x' }), { data: '{"error":{"message":"overloaded"}}' }]],
    ['garbage', 'openai', [{ data: '{"choices":[' }, ...okOpenAi]],
    ['a model refusal', 'openai', [chunk({ refusal: 'I cannot' }), chunk({}, 'stop')]],
    [
      'logprobs',
      'openai',
      [
        {
          data: JSON.stringify({
            choices: [{ index: 0, delta: { content: 'x' }, logprobs: { content: [] }, finish_reason: 'stop' }],
          }),
        },
      ],
    ],
    [
      'several choices',
      'openai',
      [{ data: JSON.stringify({ choices: [{ index: 1, delta: { content: 'x' }, finish_reason: 'stop' }] }) }],
    ],
    ['content_filter', 'openai', [chunk({ content: 'x' }), chunk({}, 'content_filter')]],
    [
      'reasoning text (compatible servers)',
      'openai',
      [chunk({ reasoning_content: 'hmm' }), chunk({ content: 'x' }, 'stop')],
    ],
    ['no message_stop', 'anthropic', [start, textStart(0), textDelta(0, 'x'), blockStop(0), msgDelta('end_turn')]],
    ['an error event', 'anthropic', [start, textStart(0), ev('error', { error: { type: 'overloaded_error' } }), STOP]],
    [
      'a thinking block',
      'anthropic',
      [
        start,
        ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
        msgDelta('end_turn'),
        STOP,
      ],
    ],
    [
      'a citations delta',
      'anthropic',
      [
        start,
        textStart(0),
        ev('content_block_delta', { index: 0, delta: { type: 'citations_delta', citation: {} } }),
        msgDelta('end_turn'),
        STOP,
      ],
    ],
    ['pause_turn', 'anthropic', [start, textStart(0), textDelta(0, 'x'), msgDelta('pause_turn'), STOP]],
    ['a delta for no block', 'anthropic', [start, textDelta(3, 'x'), msgDelta('end_turn'), STOP]],
  ])('%s (%s stream)', (_name, format, events) => expect(streamed(format, events)).toBeUndefined());

  it.each<[string, unknown]>([
    [
      'n > 1',
      {
        choices: [
          { message: { content: 'a' }, finish_reason: 'stop' },
          { message: { content: 'b' }, finish_reason: 'stop' },
        ],
      },
    ],
    ['a refusal', { choices: [{ message: { content: null, refusal: 'no' }, finish_reason: 'stop' }] }],
    ['audio', { choices: [{ message: { content: 'a', audio: { id: 'x' } }, finish_reason: 'stop' }] }],
    ['reasoning text', { choices: [{ message: { content: 'a', reasoning_content: 'r' }, finish_reason: 'stop' }] }],
    ['not an answer', { error: { message: 'x' } }],
  ])('OpenAI body: %s', (_n, body) => expect(ANSWER_CAPTURE.json('openai', body, USAGE)).toBeUndefined());

  it('Anthropic body with a server tool block', () => {
    const body = {
      type: 'message',
      content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }],
      stop_reason: 'end_turn',
    };
    expect(ANSWER_CAPTURE.json('anthropic', body, USAGE)).toBeUndefined();
  });

  it('and the live stream events that are noise are ignored: ping, Azure filter chunks, usage chunks', () => {
    const a = streamed('openai', [
      { data: JSON.stringify({ choices: [], prompt_filter_results: [] }) },
      ...okOpenAi.slice(0, 2),
      { data: JSON.stringify({ choices: [], usage: { prompt_tokens: 1 } }) },
      DONE,
    ]);
    expect(a?.content.blocks).toEqual([{ type: 'text', text: 'x' }]);
    const b = streamed('anthropic', [
      start,
      ev('ping', {}),
      textStart(0),
      textDelta(0, 'y'),
      blockStop(0),
      msgDelta('end_turn'),
      STOP,
    ]);
    expect(b?.content.blocks).toEqual([{ type: 'text', text: 'y' }]);
  });
});

describe('replay round trip and stored entries', () => {
  const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
  const answers = readdirSync(testdata)
    .filter((f) => f.endsWith('.canonical.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(testdata, f), 'utf8')) as ChatAnswer | null] as const)
    .filter((x): x is readonly [string, ChatAnswer] => x[1] !== null);

  it('covers the golden answers', () => expect(answers.length).toBeGreaterThanOrEqual(15));

  it.each(answers)('%s: every replay captures back to the same answer', (_f, a) => {
    expect(isChatAnswer(a)).toBe(true);
    for (const format of ['openai', 'anthropic'] as const) {
      // What a format cannot carry: OpenAI has no stop sequence, Anthropic no system fingerprint.
      const c = a.content;
      const expected = {
        ...a,
        content: {
          ...c,
          stopSequence: format === 'openai' ? null : c.stopSequence,
          systemFingerprint: format === 'anthropic' ? null : c.systemFingerprint,
        },
      };
      const json = JSON.parse(ANSWER_REPLAY.json(a, format, CTX));
      // An Anthropic message carries a tool's input as an object: its JSON text comes back re-serialised.
      const blocks = expected.content.blocks.map((b) =>
        b.type === 'tool_call' && b.arguments !== '' && format === 'anthropic'
          ? { ...b, arguments: JSON.stringify(JSON.parse(b.arguments)) }
          : b,
      );
      expect(ANSWER_CAPTURE.json(format, json, a.usage)).toEqual({
        ...expected,
        content: { ...expected.content, blocks },
      });
      const cap = ANSWER_CAPTURE.stream(format);
      const p = new SseParser();
      for (const e of [...p.push(ANSWER_REPLAY.stream(a, format, CTX)), ...p.end()]) cap.event(e);
      expect(cap.end(a.usage, a.responseModel)).toEqual(expected);
    }
  });

  it.each<[string, (a: ChatAnswer) => unknown]>([
    ['another version', (a) => ({ ...a, v: 2 })],
    ['no blocks', (a) => ({ ...a, content: { ...a.content, blocks: 'x' } })],
    ['a bad block', (a) => ({ ...a, content: { ...a.content, blocks: [{ type: 'image' }] } })],
    [
      'bad tool arguments',
      (a) => ({ ...a, content: { ...a.content, blocks: [{ type: 'tool_call', id: 'i', name: 'n', arguments: '[' }] } }),
    ],
    ['an embedding', () => ({ v: 1, operation: 'embeddings', embedding: [1], inputTokens: 1 })],
  ])('a stored entry with %s is not a chat answer, and replaying it is a coded error', (_n, damage) => {
    const bad = damage((answers[0] as readonly [string, ChatAnswer])[1]) as ChatAnswer;
    expect(isChatAnswer(bad)).toBe(false);
    expect(() => ANSWER_REPLAY.json(bad, 'openai', CTX)).toThrow(GatewayError);
    expect(() => ANSWER_REPLAY.stream(bad, 'anthropic', CTX)).toThrow(GatewayError);
  });

  it('fresh ids per replay', () => {
    expect(freshId('openai')).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(freshId('anthropic')).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(freshId('openai')).not.toBe(freshId('openai'));
  });
});
