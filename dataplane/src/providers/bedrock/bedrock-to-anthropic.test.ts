import { describe, expect, it } from '@jest/globals';
import { bedrockCassette, encodeFrames, replayBinary } from '../../../../test/support/bedrock-cassettes.js';
import { CHUNK_SIZES } from '../../../../test/support/cassettes.js';
import { bedrockToAnthropic } from './bedrock-to-anthropic.js';

/** The fields these tests read from Anthropic stream events. */
interface Ev {
  event: string;
  index: number;
  message: Record<string, unknown>;
  content_block: Record<string, unknown>;
  delta: { type?: string; text?: string; partial_json?: string; stop_reason?: string };
  usage: Record<string, unknown>;
  [k: string]: unknown;
}

function stream(name: string, size: number) {
  const c = bedrockCassette(name);
  const t = bedrockToAnthropic.stream({ clientWantsUsage: true, clientModel: 'claude-b' });
  const events = replayBinary(encodeFrames(c.eventstream!), t, size);
  return { t, events, data: events.map((e) => ({ event: e.event, ...JSON.parse(e.data) })) as Ev[] };
}

describe('Bedrock Converse → Anthropic client: responses', () => {
  it('text and usage: input_tokens excludes cache reads and writes again', () => {
    const r = bedrockToAnthropic.response(bedrockCassette('converse-text').body, { model: 'claude-b' });
    expect(r.body).toEqual({
      id: expect.stringMatching(/^msg_bedrock_[0-9a-f]{24}$/),
      type: 'message',
      role: 'assistant',
      model: 'claude-b',
      content: [{ type: 'text', text: 'Hello! How can I help you today?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 9, cache_read_input_tokens: 2000, cache_creation_input_tokens: 48 },
    });
    expect(r.usage?.inputTokens).toBe(2060);
  });

  it('tool use → tool_use block with the input object', () => {
    const r = bedrockToAnthropic.response(bedrockCassette('converse-tool-use').body);
    expect(r.body).toMatchObject({
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'Let me check the weather.' },
        {
          type: 'tool_use',
          id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
          name: 'get_weather',
          input: { location: 'Paris', unit: 'celsius' },
        },
      ],
    });
  });

  it.each([
    ['converse-max-tokens', 'max_tokens'],
    ['converse-guardrail', 'refusal'],
  ])('%s → stop_reason %s', (name, stop) => {
    expect(bedrockToAnthropic.response(bedrockCassette(name).body).body).toMatchObject({ stop_reason: stop });
  });
});

describe('Bedrock Converse → Anthropic client: streams', () => {
  it.each(CHUNK_SIZES)('text stream in %i-byte chunks: the full Anthropic event sequence', (size) => {
    const { t, data } = stream('stream-text', size);
    expect(data.map((d) => d.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(data[0]!.message).toMatchObject({
      model: 'claude-b',
      role: 'assistant',
      id: expect.stringMatching(/^msg_bedrock_/),
    });
    expect(data[1]).toMatchObject({ index: 0, content_block: { type: 'text', text: '' } });
    expect(
      data
        .slice(2, 5)
        .map((d) => d.delta.text)
        .join(''),
    ).toBe('Hello! How can I help?');
    expect(data[6]).toMatchObject({
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 1024, cache_creation_input_tokens: 0 },
    });
    expect(t.usage()).toMatchObject({ inputTokens: 1034, outputTokens: 7 });
  });

  it.each(CHUNK_SIZES)(
    'tool-use stream in %i-byte chunks: tool_use block with id and name, input_json_delta',
    (size) => {
      const { data } = stream('stream-tool-use', size);
      const starts = data.filter((d) => d.event === 'content_block_start');
      expect(starts.map((s) => s.content_block)).toEqual([
        { type: 'text', text: '' },
        { type: 'tool_use', id: 'tooluse_3hq1fQ2ZSeGyzjEAFSaTXA', name: 'get_weather', input: {} },
      ]);
      expect(starts.map((s) => s.index)).toEqual([0, 1]);
      const json = data
        .filter((d) => d.event === 'content_block_delta' && d.delta.type === 'input_json_delta')
        .map((d) => d.delta.partial_json)
        .join('');
      expect(JSON.parse(json)).toEqual({ location: 'Paris' });
      expect(data.filter((d) => d.event === 'content_block_stop').map((d) => d.index)).toEqual([0, 1]);
      expect(data.find((d) => d.event === 'message_delta')!.delta.stop_reason).toBe('tool_use');
    },
  );

  it('a throttlingException mid-stream becomes an Anthropic error event', () => {
    const { t, data } = stream('stream-throttling', 3);
    expect(t.error).toMatchObject({ code: 'upstream_rate_limited' });
    expect(data[data.length - 1]).toMatchObject({
      event: 'error',
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.stringContaining('Too many tokens') },
    });
  });
});
