/**
 * Golden files of the canonical answer (UPDATE_GOLDEN=1 rewrites them; review them as diffs). Each case is a
 * provider cassette answered to one client format through the real translator and, for streams, the real stream
 * relay (proxy/stream-relay.ts), so the inputs are exactly what a client is sent (the capture reads the events of
 * that text, as the relay hands them to the cache's capture):
 *   <case>.in.json / .in.sse      the client-format answer or stream as written to the client
 *   <case>.canonical.json         the captured canonical answer (null: not stored)
 *   <case>.out.txt                its replays: OpenAI JSON, OpenAI stream (with and without usage), Anthropic JSON
 *                                 and stream (fixed ids and `created`, so the files are stable)
 * One capture per client format serves every provider wire (openai, anthropic, gemini, bedrock cassettes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WireFormat } from '../../../contract/gateway-config.js';
import { type BedrockCassette, bedrockCassette, encodeFrames } from '../../../test/support/bedrock-cassettes.js';
import { CHUNK_SIZES, cassette } from '../../../test/support/cassettes.js';
import type { ClientFormat } from '../errors.js';
import { EventStreamDecoder } from '../providers/bedrock/eventstream.js';
import { translatorFor } from '../providers/index.js';
import { StreamFault, StreamRelay } from '../proxy/stream-relay.js';
import { SseParser } from '../sse/sse.js';
import type { ChatAnswer } from './canonical.js';
import { fromAnthropicBody, fromOpenAiBody } from './canonical.js';
import { streamCapture } from './canonical-stream.js';
import { anthropicJson, anthropicStream, openAiJson, openAiStream } from './replay.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const NOW = 1700000000;
const CTX = { model: 'client-model', now: NOW, clientWantsUsage: false };

interface Case {
  name: string;
  cassette: string;
  wire: WireFormat;
  format: ClientFormat;
  stream: boolean;
}

const c = (name: string, wire: WireFormat, cas: string, format: ClientFormat, stream: boolean): Case => ({
  name,
  cassette: cas,
  wire,
  format,
  stream,
});

const CASES: Case[] = [
  c('openai-text', 'openai', 'openai/chat-text', 'openai', false),
  c('openai-tool-calls', 'openai', 'openai/chat-tool-calls', 'openai', false),
  c('openai-length', 'openai', 'openai/chat-length', 'openai', false),
  c('openai-stream-text', 'openai', 'openai/chat-stream-text', 'openai', true),
  c('openai-stream-tool-calls', 'openai', 'openai/chat-stream-tool-calls', 'openai', true),
  c('openai-from-anthropic-text', 'anthropic', 'anthropic/messages-text', 'openai', false),
  c('openai-from-anthropic-stream-tool-use', 'anthropic', 'anthropic/messages-stream-tool-use', 'openai', true),
  c('openai-from-gemini-stream-function-call', 'gemini', 'gemini/stream-function-call', 'openai', true),
  c('openai-from-bedrock-stream-tool-use', 'bedrock', 'bedrock/stream-tool-use', 'openai', true),
  c('anthropic-text', 'anthropic', 'anthropic/messages-text', 'anthropic', false),
  c('anthropic-tool-use', 'anthropic', 'anthropic/messages-tool-use', 'anthropic', false),
  c('anthropic-stop-sequence', 'anthropic', 'anthropic/messages-stop-sequence', 'anthropic', false),
  c('anthropic-max-tokens', 'anthropic', 'anthropic/messages-max-tokens', 'anthropic', false),
  c('anthropic-stream-text', 'anthropic', 'anthropic/messages-stream-text', 'anthropic', true),
  c('anthropic-stream-tool-use', 'anthropic', 'anthropic/messages-stream-tool-use', 'anthropic', true),
  c('anthropic-from-openai-tool-calls', 'openai', 'openai/chat-tool-calls', 'anthropic', false),
  c('anthropic-from-openai-stream-tool-calls', 'openai', 'openai/chat-stream-tool-calls', 'anthropic', true),
  c('anthropic-from-gemini-stream-function-call', 'gemini', 'gemini/stream-function-call', 'anthropic', true),
  c('anthropic-from-bedrock-stream-tool-use', 'bedrock', 'bedrock/stream-tool-use', 'anthropic', true),
];

/** The upstream's bytes of a streamed cassette (SSE text, or Bedrock's binary event-stream). */
function streamBytes(k: Case): Uint8Array {
  if (k.wire === 'bedrock')
    return encodeFrames((bedrockCassette(k.cassette.slice(8)) as BedrockCassette).eventstream ?? []);
  return new TextEncoder().encode(cassette(k.cassette).sse ?? '');
}

/** The stream through the real relay in chunks of `size`: the text the client got and the capture's answer. */
function relayed(k: Case, size: number): { text: string; answer: ChatAnswer | undefined } {
  const st = translatorFor(k.format, k.wire, 'chat').stream({
    clientWantsUsage: false,
    clientModel: 'client-model',
    now: NOW,
  });
  const relay = new StreamRelay(st, k.wire === 'bedrock' ? new EventStreamDecoder() : new SseParser());
  const bytes = streamBytes(k);
  let text = '';
  const take = (out: string | StreamFault): void => {
    if (out instanceof StreamFault) throw out.error;
    text += out;
  };
  for (let i = 0; i < bytes.length; i += size) take(relay.push(bytes.subarray(i, i + size), true));
  take(relay.flush(true));
  take(relay.close());
  // Converse answers have no id: the translator makes a random one (the only part that differs between runs).
  text = text.replace(/(msg_bedrock_|chatcmpl-bedrock-)[0-9a-f]{24}/g, '$1<random>');
  const capture = streamCapture(k.format);
  const events = new SseParser();
  for (const ev of [...events.push(text), ...events.end()]) capture.event(ev);
  return { text, answer: capture.end(st.usage(), st.responseModel()) as ChatAnswer | undefined };
}

function whole(k: Case): { text: string; answer: ChatAnswer | undefined } {
  const out = translatorFor(k.format, k.wire, 'chat').response(
    k.wire === 'bedrock' ? bedrockCassette(k.cassette.slice(8)).body : cassette(k.cassette).body,
    {
      now: NOW,
      model: 'client-model',
    },
  );
  const answer =
    k.format === 'anthropic' ? fromAnthropicBody(out.body, out.usage) : fromOpenAiBody(out.body, out.usage);
  return { text: `${JSON.stringify(out.body, null, 2)}\n`, answer };
}

function replays(a: ChatAnswer): string {
  const sections: [string, string][] = [
    ['openai json', `${JSON.stringify(openAiJson(a, CTX, 'chatcmpl-replay'), null, 2)}\n`],
    ['openai stream', openAiStream(a, CTX, 'chatcmpl-replay')],
    ['openai stream, include_usage', openAiStream(a, { ...CTX, clientWantsUsage: true }, 'chatcmpl-replay')],
    ['anthropic json', `${JSON.stringify(anthropicJson(a, CTX, 'msg_replay'), null, 2)}\n`],
    ['anthropic stream', anthropicStream(a, CTX, 'msg_replay')],
  ];
  return sections.map(([title, body]) => `===== ${title} =====\n${body}`).join('');
}

function golden(file: string, text: string): void {
  const path = join(testdata, file);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

describe('canonical answer golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
  it.each(CASES.map((k) => [k.name, k] as const))('%s', (_name, k) => {
    const got = k.stream ? relayed(k, 1 << 20) : whole(k);
    golden(`${k.name}.in.${k.stream ? 'sse' : 'json'}`, got.text);
    golden(`${k.name}.canonical.json`, `${JSON.stringify(got.answer ?? null, null, 2)}\n`);
    if (got.answer !== undefined) golden(`${k.name}.out.txt`, replays(got.answer));
    if (k.stream)
      for (const size of CHUNK_SIZES) {
        // Any chunking of the upstream bytes gives the same client text and the same canonical answer.
        const again = relayed(k, size);
        expect(again.text).toBe(got.text);
        expect(again.answer).toEqual(got.answer);
      }
  });

  it('stores the complete answers and only those', () => {
    const stored = CASES.filter((k) => (k.stream ? relayed(k, 64) : whole(k)).answer !== undefined).map((k) => k.name);
    expect(stored).toEqual(CASES.map((k) => k.name).filter((n) => !/length|max-tokens/.test(n)));
  });
});
