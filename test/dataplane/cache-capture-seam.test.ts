/**
 * The attempt loop's capture seam (RoutedRequest.capture, ADR 0073) on the real ProxyCall, a fake provider over
 * real HTTP and the official SDKs as clients: the sink hears of exactly the answers that reached the client whole
 * and successfully, with the client-format body or events the client got (one stream capture per streaming try)
 * and the call's usage; never of errors, truncated streams, error events, or a try that failed before its first
 * byte. The cache stages that build a sink and store its answers are the cache helper's (and its tests).
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ChatAnswer } from '../../dataplane/src/cache/canonical.js';
import { ANSWER_CAPTURE } from '../../dataplane/src/cache/canonical-stream.js';
import type { StreamCapture } from '../../dataplane/src/cache/types.js';
import type { ClientFormat } from '../../dataplane/src/errors.js';
import { createLogger } from '../../dataplane/src/log.js';
import { noopObserver } from '../../dataplane/src/pipeline/hooks.js';
import * as providers from '../../dataplane/src/providers/index.js';
import { clientWantsUsage } from '../../dataplane/src/providers/index.js';
import type { Usage } from '../../dataplane/src/providers/types.js';
import { ProxyCall } from '../../dataplane/src/proxy/call.js';
import type { AnswerSink, AnswerSource, CallShared } from '../../dataplane/src/proxy/types.js';
import { UpstreamPools } from '../../dataplane/src/proxy/upstream.js';
import { HealthRegistry } from '../../dataplane/src/routing/health.js';
import { type CompiledRoute, compileRoute } from '../../dataplane/src/routing/table.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { provider, route } from '../support/gateway.js';

const CASSETTES = fileURLToPath(new URL('../fixtures/cassettes/', import.meta.url));

/** Records what the call told it; stream captures are the real ones (canonical-stream.ts). */
class RecordingSink implements AnswerSink<StreamCapture> {
  format: ClientFormat = 'openai';
  streams: StreamCapture[] = [];
  answers: { answer: ChatAnswer | undefined; body: unknown; from: AnswerSource }[] = [];
  ended: { answer: ChatAnswer | undefined; capture: StreamCapture; usage: Usage | undefined }[] = [];

  stream(): StreamCapture {
    const c = ANSWER_CAPTURE.stream(this.format);
    this.streams.push(c);
    return c;
  }
  answered(body: unknown, usage: Usage | undefined, _model: string | undefined, from: AnswerSource): void {
    this.answers.push({ answer: ANSWER_CAPTURE.json(this.format, body, usage) as ChatAnswer | undefined, body, from });
  }
  streamed(capture: StreamCapture, usage: Usage | undefined, model: string | undefined): void {
    this.ended.push({ answer: capture.end(usage, model) as ChatAnswer | undefined, capture, usage });
  }
}

let a: FakeUpstream;
let b: FakeUpstream;
let server: Server;
let shared: CallShared;
let compiled: CompiledRoute;
let sink: RecordingSink;
const logged: string[] = [];
let openai: OpenAI;
let anthropic: Anthropic;
const runs: Promise<void>[] = [];

beforeAll(async () => {
  a = await FakeUpstream.start('a');
  b = await FakeUpstream.start('b');
  const pa = provider({ name: 'a', baseUrl: a.anthropicBaseUrl, type: 'anthropic' });
  const pb = provider({ name: 'b', baseUrl: b.openaiBaseUrl, type: 'openai' });
  const pools = new UpstreamPools();
  pools.sync([pa, pb]);
  const health = new HealthRegistry();
  shared = {
    pools,
    providers,
    health,
    random: () => 0,
    logger: createLogger({ level: 'warn', write: (line) => logged.push(line) }),
    keepOutputText: false,
  };
  // Tier 0 is the Anthropic provider, tier 1 the OpenAI one (a failed first try moves on to it).
  const r = route({
    name: 'chat',
    models: ['m'],
    backends: [
      { provider: 'a', priority: 0 },
      { provider: 'b', priority: 1 },
    ],
    on: ['5xx', '429', 'connect-failure', 'timeout'],
  });
  compiled = compileRoute(r, new Map([pa, pb].map((p) => [p.id, p])), health);
  server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      const format: ClientFormat = req.url?.endsWith('/messages') ? 'anthropic' : 'openai';
      sink.format = format;
      const call = new ProxyCall(shared, res, {
        format,
        operation: 'chat',
        body,
        model: String(body.model),
        stream: body.stream === true,
        clientWantsUsage: clientWantsUsage(format, body),
        route: compiled,
        key: undefined,
        observer: noopObserver,
        startedAt: performance.now(),
        capture: sink,
      });
      runs.push(call.run());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
});

beforeEach(() => {
  sink = new RecordingSink();
  a.reset();
  b.reset();
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await shared.pools.close();
  await a.close();
  await b.close();
});

async function settled(): Promise<void> {
  await Promise.all(runs.splice(0));
}

const messages = [{ role: 'user' as const, content: 'hi' }];

it('a whole answer: the body the client got, translated, with the provider and model', async () => {
  a.enqueueCassette(`${CASSETTES}anthropic/messages-tool-use.json`);
  const r = await openai.chat.completions.create({ model: 'm', messages });
  await settled();
  expect(sink.answers).toHaveLength(1);
  expect(sink.answers[0]?.body).toEqual(JSON.parse(JSON.stringify(r)));
  expect(sink.answers[0]?.from).toEqual({ provider: 'ai/a', upstreamModel: 'm' });
  const got = sink.answers[0]?.answer;
  expect(got?.stop).toBe('tool_calls');
  expect(got?.usage?.inputTokens).toBe(r.usage?.prompt_tokens);
  expect(sink.streams).toHaveLength(0);
});

it('a stream: the events the client got, and the usage the client did not ask for', async () => {
  b.enqueueCassette(`${CASSETTES}openai/chat-stream-text.json`, { chunkSize: 5 });
  a.enqueue({ kind: 'json', status: 503, body: { type: 'error', error: { type: 'overloaded_error', message: 'x' } } });
  const s = await openai.chat.completions.create({ model: 'm', messages, stream: true });
  let text = '';
  let usageChunks = 0;
  for await (const c of s) {
    text += c.choices[0]?.delta.content ?? '';
    if (c.usage) usageChunks++;
  }
  await settled();
  expect(usageChunks).toBe(0);
  expect(sink.ended).toHaveLength(1);
  const got = sink.ended[0]?.answer;
  expect(got?.content.blocks).toEqual([{ type: 'text', text }]);
  // The provider's usage (asked for by the gateway, stripped from the client's stream) still reaches the sink.
  expect(got?.usage?.outputTokens).toBeGreaterThan(0);
});

it('a try that failed before its first byte is let go with its capture: only the answering try is captured', async () => {
  // The Anthropic provider opens its stream and, in the same read, sends an overloaded error before any content
  // reached the client (message_start included): the try fails unseen and is retried on b.
  const start = { type: 'message_start', message: { id: 'x', model: 'c', content: [], usage: { input_tokens: 1 } } };
  const overloaded = { type: 'error', error: { type: 'overloaded_error', message: 'busy' } };
  a.enqueue({
    kind: 'sse',
    chunks: [
      {
        raw: `event: message_start\ndata: ${JSON.stringify(start)}\n\nevent: error\ndata: ${JSON.stringify(overloaded)}\n\n`,
      },
    ],
  });
  b.enqueueCassette(`${CASSETTES}openai/chat-stream-tool-calls.json`, { chunkSize: 11 });
  const m = await anthropic.messages.stream({ model: 'm', max_tokens: 50, messages }).finalMessage();
  await settled();
  expect(sink.streams).toHaveLength(2);
  expect(sink.ended).toHaveLength(1);
  expect(sink.ended[0]?.capture).toBe(sink.streams[1]);
  const got = sink.ended[0]?.answer;
  expect(got?.content.model).toBe(m.model);
  expect(got?.content.blocks.map((x) => (x.type === 'tool_call' ? x.name : 'text'))).toEqual(
    m.content.map((x) => (x.type === 'tool_use' ? x.name : 'text')),
  );
});

it.each([
  ['a mid-stream error event', 'anthropic/messages-stream-error.json'],
  ['a truncated stream', 'anthropic/messages-stream-truncated.json'],
])('%s after the first byte: never reported', async (_name, file) => {
  a.enqueueCassette(`${CASSETTES}${file}`);
  await expect(anthropic.messages.stream({ model: 'm', max_tokens: 50, messages }).finalMessage()).rejects.toThrow();
  await settled();
  expect(sink.streams).toHaveLength(1);
  expect(sink.ended).toHaveLength(0);
});

it('an error answer: never reported', async () => {
  a.enqueueCassette(`${CASSETTES}anthropic/error-400.json`);
  await expect(anthropic.messages.create({ model: 'm', max_tokens: 50, messages })).rejects.toThrow();
  await settled();
  expect(sink.answers).toHaveLength(0);
});

it('a sink that throws is logged, and the client still has its answer', async () => {
  a.enqueueCassette(`${CASSETTES}anthropic/messages-text.json`);
  sink.answered = () => {
    throw new Error('boom');
  };
  const m = await anthropic.messages.create({ model: 'm', max_tokens: 50, messages });
  await settled();
  expect(m.content.length).toBeGreaterThan(0);
  expect(logged.filter((l) => l.includes('cache capture threw') && l.includes('boom'))).toHaveLength(1);
});
