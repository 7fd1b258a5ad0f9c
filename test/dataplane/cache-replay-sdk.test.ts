/**
 * Replayed answers through the official SDKs over real HTTP (ADR 0073): a node:http server writes each golden
 * canonical answer (dataplane/src/cache/testdata) as replay.ts renders it, in the format and mode the SDK asked
 * for, and the SDK's own parsers must read back the answer's text, tool calls, stop and usage:
 * `openai` chat.completions.create (whole, stream with and without include_usage) and .stream().finalChatCompletion(),
 * `@anthropic-ai/sdk` messages.create (whole, stream: true) and messages.stream().finalMessage().
 * The gateway-level cache tests (lookup, store, headers) are the cache stages'.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ChatAnswer } from '../../dataplane/src/cache/canonical.js';
import { ANSWER_REPLAY, finishForOpenAi, stopReasonForAnthropic } from '../../dataplane/src/cache/replay.js';

const testdata = fileURLToPath(new URL('../../dataplane/src/cache/testdata/', import.meta.url));
const ANSWERS = readdirSync(testdata)
  .filter((f) => f.endsWith('.canonical.json'))
  .map((f) => [f.slice(0, -'.canonical.json'.length), JSON.parse(readFileSync(join(testdata, f), 'utf8'))] as const)
  .filter((x): x is readonly [string, ChatAnswer] => x[1] !== null);

let current: ChatAnswer;
let server: Server;
let openai: OpenAI;
let anthropic: Anthropic;
const NOW = Math.floor(Date.now() / 1000);

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      const r = JSON.parse(body) as { model: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
      const format = req.url?.endsWith('/messages') ? 'anthropic' : 'openai';
      const ctx = { model: r.model, now: NOW, clientWantsUsage: r.stream_options?.include_usage === true };
      if (r.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        res.end(ANSWER_REPLAY.stream(current, format, ctx));
      } else {
        const text = ANSWER_REPLAY.json(current, format, ctx);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const text = (a: ChatAnswer): string => a.content.blocks.map((b) => (b.type === 'text' ? b.text : '')).join('');
const calls = (a: ChatAnswer) =>
  a.content.blocks.flatMap((b) =>
    b.type === 'tool_call' ? [{ id: b.id, type: 'function', function: { name: b.name, arguments: b.arguments } }] : [],
  );
const anthropicBlocks = (a: ChatAnswer) =>
  a.content.blocks.map((b) =>
    b.type === 'text'
      ? { type: 'text', text: b.text }
      : { type: 'tool_use', id: b.id, name: b.name, input: b.arguments === '' ? {} : JSON.parse(b.arguments) },
  );
const model = (a: ChatAnswer): string => a.content.model ?? 'asked';
const messages = [{ role: 'user' as const, content: 'hi' }];

function expectOpenAiUsage(u: OpenAI.CompletionUsage | null | undefined, a: ChatAnswer): void {
  expect(u?.prompt_tokens).toBe(a.usage?.inputTokens);
  expect(u?.completion_tokens).toBe(a.usage?.outputTokens);
  expect(u?.prompt_tokens_details?.cached_tokens).toBe(a.usage?.cachedInputTokens);
}

function expectOpenAiMessage(m: OpenAI.ChatCompletionMessage | undefined, a: ChatAnswer): void {
  const t = text(a);
  expect(m?.content ?? '').toBe(t);
  if (calls(a).length > 0) expect(m?.tool_calls).toEqual(calls(a));
  else expect(m?.tool_calls ?? []).toEqual([]);
}

function expectAnthropicMessage(m: Anthropic.Message, a: ChatAnswer): void {
  expect(m.model).toBe(model(a));
  expect(m.content).toEqual(anthropicBlocks(a));
  expect(m.stop_reason).toBe(stopReasonForAnthropic(a.stop, a.content.stopSequence));
  expect(m.stop_sequence).toBe(a.content.stopSequence);
  const u = a.usage;
  if (u === undefined) return;
  expect(m.usage.output_tokens).toBe(u.outputTokens);
  expect(m.usage.input_tokens).toBe(u.inputTokens - u.cachedInputTokens - u.cacheCreationTokens);
  expect(m.usage.cache_read_input_tokens).toBe(u.cachedInputTokens);
}

describe('replayed answers read by the official SDKs', () => {
  it('has the golden answers to replay', () => expect(ANSWERS.length).toBeGreaterThanOrEqual(15));

  describe.each(ANSWERS)('%s', (_name, a) => {
    beforeEach(() => {
      current = a;
    });

    it('openai: chat.completions.create, whole', async () => {
      const r = await openai.chat.completions.create({ model: 'asked', messages });
      expect(r.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
      expect(r.created).toBe(NOW);
      expect(r.model).toBe(model(a));
      expect(r.choices[0]?.finish_reason).toBe(finishForOpenAi(a.stop));
      expectOpenAiMessage(r.choices[0]?.message, a);
      expectOpenAiUsage(r.usage, a);
      expect(r.system_fingerprint ?? null).toBe(a.content.systemFingerprint);
    });

    it.each([true, false])('openai: stream with include_usage %p, chunks and finalChatCompletion()', async (usage) => {
      const chunks = [];
      const s = await openai.chat.completions.create({
        model: 'asked',
        messages,
        stream: true,
        ...(usage ? { stream_options: { include_usage: true } } : {}),
      });
      for await (const c of s) chunks.push(c);
      const usageChunks = chunks.filter((c) => c.usage);
      expect(usageChunks.length).toBe(usage ? 1 : 0);
      if (usage) expectOpenAiUsage(usageChunks[0]?.usage, a);
      const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason).filter((f) => f !== null));
      expect(finishes).toEqual([finishForOpenAi(a.stop)]);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(text(a));

      const runner = openai.chat.completions.stream({
        model: 'asked',
        messages,
        ...(usage ? { stream_options: { include_usage: true } } : {}),
      });
      const final = await runner.finalChatCompletion();
      expect(final.choices[0]?.finish_reason).toBe(finishForOpenAi(a.stop));
      expectOpenAiMessage(final.choices[0]?.message, a);
      if (usage) expectOpenAiUsage(final.usage, a);
    });

    it('anthropic: messages.create, whole', async () => {
      const m = await anthropic.messages.create({ model: 'asked', max_tokens: 100, messages });
      expect(m.id).toMatch(/^msg_[0-9a-f]{24}$/);
      expectAnthropicMessage(m, a);
    });

    it('anthropic: messages.stream().finalMessage() and create({stream: true})', async () => {
      const m = await anthropic.messages.stream({ model: 'asked', max_tokens: 100, messages }).finalMessage();
      expectAnthropicMessage(m, a);
      const types: string[] = [];
      const s = await anthropic.messages.create({ model: 'asked', max_tokens: 100, messages, stream: true });
      for await (const e of s) types.push(e.type);
      expect(types[0]).toBe('message_start');
      expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
      expect(types.filter((t) => t === 'content_block_start').length).toBe(a.content.blocks.length);
      expect(types.filter((t) => t === 'content_block_stop').length).toBe(a.content.blocks.length);
    });
  });
});
