/**
 * The client-visible output text every translator keeps for usage estimation: what the client received
 * (text, tool names and arguments), and for non-streaming responses only when the provider reported no usage.
 */
import { describe, expect, it } from '@jest/globals';
import { SseParser } from '../sse/sse.js';
import { anthropicToAnthropic } from './anthropic/anthropic-to-anthropic.js';
import { anthropicToOpenAi } from './anthropic/anthropic-to-openai.js';
import { geminiToAnthropic } from './gemini/gemini-to-anthropic.js';
import { geminiToOpenAi } from './gemini/gemini-to-openai.js';
import { openAiToAnthropic } from './openai/openai-to-anthropic-response.js';
import { openAiToOpenAi } from './openai/openai-to-openai.js';
import { CHUNK_SIZES, cassette, parsedData, replay } from './testing.js';
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
