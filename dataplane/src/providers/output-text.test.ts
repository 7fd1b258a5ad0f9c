/**
 * The client-visible output text every translator keeps for usage estimation: what the client received
 * (text, tool names and arguments), and for non-streaming responses only when the provider reported no usage.
 */
import { describe, expect, it } from '@jest/globals';
import { bedrockCassette, encodeFrames, replayBinary } from '../../../test/support/bedrock-cassettes.js';
import { CHUNK_SIZES, cassette, parsedData, replay } from '../../../test/support/cassettes.js';
import { SseParser } from '../sse/sse.js';
import { anthropicToAnthropic } from './anthropic/anthropic-to-anthropic.js';
import { anthropicToOpenAi } from './anthropic/anthropic-to-openai.js';
import { bedrockToAnthropic } from './bedrock/bedrock-to-anthropic.js';
import { bedrockToOpenAi } from './bedrock/bedrock-to-openai.js';
import { EventStreamDecoder } from './bedrock/eventstream.js';
import { geminiToAnthropic } from './gemini/gemini-to-anthropic.js';
import { geminiToOpenAi } from './gemini/gemini-to-openai.js';
import { openAiToAnthropic } from './openai/openai-to-anthropic-response.js';
import { openAiToOpenAi } from './openai/openai-to-openai.js';
import type { ResponseTranslator } from './types.js';

type Row = [string, ResponseTranslator, string];
const OPTS = { clientWantsUsage: true, clientModel: 'm', now: 1 };

/** The text a client of either format saw in its stream, read back from the events it got. */
function clientText(events: ReturnType<typeof replay>): string {
  let s = '';
  for (const d of parsedData(events)) {
    if (d === '[DONE]' || typeof d !== 'object' || d === null) continue;
    // biome-ignore lint/suspicious/noExplicitAny: reads back events of both client formats
    const o = d as Record<string, any>;
    const delta = o.choices?.[0]?.delta ?? o.delta;
    if (delta === undefined) {
      const b = o.content_block;
      if (b?.type === 'tool_use') s += b.name;
      continue;
    }
    if (typeof delta.content === 'string') s += delta.content;
    if (typeof delta.text === 'string') s += delta.text;
    if (typeof delta.partial_json === 'string') s += delta.partial_json;
    for (const tc of delta.tool_calls ?? []) s += (tc.function?.name ?? '') + (tc.function?.arguments ?? '');
  }
  return s;
}

describe('outputText of streams', () => {
  const rows: Row[] = [
    ['openai/chat-stream-text', openAiToOpenAi, 'openai → openai'],
    ['openai/chat-stream-tool-calls', openAiToOpenAi, 'openai tools → openai'],
    ['openai/chat-stream-text', openAiToAnthropic, 'openai → anthropic'],
    ['openai/chat-stream-tool-calls', openAiToAnthropic, 'openai tools → anthropic'],
    ['anthropic/messages-stream-text', anthropicToAnthropic, 'anthropic → anthropic'],
    ['anthropic/messages-stream-tool-use', anthropicToAnthropic, 'anthropic tools → anthropic'],
    ['anthropic/messages-stream-text', anthropicToOpenAi, 'anthropic → openai'],
    ['anthropic/messages-stream-tool-use', anthropicToOpenAi, 'anthropic tools → openai'],
    ['gemini/stream-text', geminiToOpenAi, 'gemini → openai'],
    ['gemini/stream-function-call', geminiToOpenAi, 'gemini tools → openai'],
    ['gemini/stream-text', geminiToAnthropic, 'gemini → anthropic'],
    ['gemini/stream-function-call', geminiToAnthropic, 'gemini tools → anthropic'],
  ];
  it.each(rows)('%s via %#: equals what the client received', (name, tr) => {
    for (const size of CHUNK_SIZES) {
      const t = tr.stream(OPTS);
      const events = replay(cassette(name).sse!, t, size);
      const expected = clientText(events);
      expect(expected.length).toBeGreaterThan(0);
      expect(t.outputText!()).toBe(expected);
    }
  });

  it.each([
    ['openai/chat-stream-text', openAiToOpenAi, 4],
    ['openai/chat-stream-text', openAiToAnthropic, 4],
    ['anthropic/messages-stream-text', anthropicToAnthropic, 4],
    ['anthropic/messages-stream-text', anthropicToOpenAi, 4],
    ['gemini/stream-text', geminiToOpenAi, 2],
    ['gemini/stream-text', geminiToAnthropic, 2],
  ] as [string, ResponseTranslator, number][])('%s cut after %#: the text sent before the cut', (name, tr, n) => {
    const all = new SseParser().push(cassette(name).sse!);
    const t = tr.stream(OPTS);
    const sent = all.slice(0, n).flatMap((e) => t.event(e));
    expect(t.done).toBe(false);
    const expected = clientText(sent);
    expect(expected.length).toBeGreaterThan(0);
    expect(t.outputText!()).toBe(expected);
  });
});

describe('outputText of responses', () => {
  const rows: [string, ResponseTranslator][] = [
    ['openai/chat-text', openAiToOpenAi],
    ['openai/chat-tool-calls', openAiToOpenAi],
    ['openai/chat-text', openAiToAnthropic],
    ['anthropic/messages-text', anthropicToAnthropic],
    ['anthropic/messages-tool-use', anthropicToOpenAi],
    ['gemini/generate-text', geminiToOpenAi],
    ['gemini/generate-function-call', geminiToAnthropic],
    ['bedrock/converse-text', bedrockToOpenAi],
    ['bedrock/converse-tool-use', bedrockToOpenAi],
    ['bedrock/converse-text', bedrockToAnthropic],
    ['bedrock/converse-tool-use', bedrockToAnthropic],
  ];
  it.each(rows)('%s: none when usage is reported, the completion text when it is not', (name, tr) => {
    const body = cassette(name).body as Record<string, unknown>;
    const withUsage = tr.response(body, { now: 1 });
    expect(withUsage.usage).toBeDefined();
    expect(withUsage.outputText).toBeUndefined();
    const { usage: _u, usageMetadata: _m, ...bare } = body;
    const without = tr.response(bare, { now: 1 });
    expect(without.usage).toBeUndefined();
    expect(without.outputText!.length).toBeGreaterThan(0);
  });

  it('the text is what the client body carries', () => {
    const body = { ...(cassette('openai/chat-tool-calls').body as Record<string, unknown>), usage: undefined };
    const out = openAiToAnthropic.response(body);
    const blocks = (out.body as { content: { type: string; text?: string; name?: string; input?: unknown }[] }).content;
    const expected = blocks.map((b) => (b.type === 'text' ? b.text : `${b.name}${JSON.stringify(b.input)}`)).join('');
    expect(out.outputText).toBe(expected);
  });
});

describe('outputText of Bedrock (event-stream framing, usage only in the last event)', () => {
  const translators: [string, ResponseTranslator][] = [
    ['openai', bedrockToOpenAi],
    ['anthropic', bedrockToAnthropic],
  ];
  const streams = ['stream-text', 'stream-tool-use'];
  const rows = streams.flatMap((name) => translators.map(([client, tr]) => [name, client, tr] as const));

  /** The decoded events of a Bedrock stream cassette, and the bytes they came from. */
  function decoded(name: string) {
    const bytes = encodeFrames(bedrockCassette(name).eventstream!);
    return { bytes, events: new EventStreamDecoder().push(bytes) };
  }

  it.each(rows)('%s → %s client, in odd chunk sizes: equals what the client received', (name, _client, tr) => {
    const { bytes } = decoded(name);
    for (const size of CHUNK_SIZES) {
      const t = tr.stream(OPTS);
      const events = replayBinary(bytes, t, size);
      expect(t.usage()).toBeDefined();
      const expected = clientText(events);
      expect(expected.length).toBeGreaterThan(0);
      expect(t.outputText!()).toBe(expected);
    }
  });

  // Cut before messageStop: not done (truncated). Cut before metadata: done, but the usage never came.
  const cuts = rows.flatMap((r) =>
    (['messageStop', 'metadata'] as const).map((cutAt) => [r[0], r[1], cutAt, r[2]] as const),
  );
  it.each(cuts)('%s → %s client, cut before %s: no usage, the text sent before the cut', (name, _c, cutAt, tr) => {
    const { events } = decoded(name);
    const t = tr.stream(OPTS);
    const sent = events
      .slice(
        0,
        events.findIndex((e) => e.event === cutAt),
      )
      .flatMap((e) => t.event(e));
    sent.push(...t.end());
    expect(t.done).toBe(cutAt === 'metadata');
    expect(t.usage()).toBeUndefined();
    const expected = clientText(sent);
    expect(expected.length).toBeGreaterThan(0);
    expect(t.outputText!()).toBe(expected);
  });

  it.each(rows)(
    '%s → %s client, bytes cut mid-frame in odd chunk sizes: the text of whole frames',
    (name, _client, tr) => {
      const { bytes, events } = decoded(name);
      const stop = events.findIndex((e) => e.event === 'messageStop');
      // Cut 5 bytes into the messageStop frame: everything before it arrived whole.
      const frameStart = encodeFrames(bedrockCassette(name).eventstream!.slice(0, stop)).length;
      const cut = bytes.subarray(0, frameStart + 5);
      for (const size of [1, 3, 7, 64]) {
        const d = new EventStreamDecoder();
        const t = tr.stream(OPTS);
        const sent = [];
        for (let i = 0; i < cut.length; i += size)
          for (const e of d.push(cut.subarray(i, i + size))) sent.push(...t.event(e));
        expect(d.pending).toBe(true);
        expect(t.done).toBe(false);
        const expected = clientText(sent);
        expect(expected.length).toBeGreaterThan(0);
        expect(t.outputText!()).toBe(expected);
      }
    },
  );

  it('a response without usage: the text, tool name and input the client body carries', () => {
    const { usage: _u, ...bare } = bedrockCassette('converse-tool-use').body as Record<string, unknown>;
    const openai = bedrockToOpenAi.response(bare, { now: 1, model: 'm' });
    expect(openai.usage).toBeUndefined();
    expect(openai.outputText).toBe('Let me check the weather.get_weather{"location":"Paris","unit":"celsius"}');
    const anthropic = bedrockToAnthropic.response(bare, { model: 'm' });
    expect(anthropic.outputText).toBe(openai.outputText);
  });
});
