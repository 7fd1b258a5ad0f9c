/**
 * The Bedrock provider (type `bedrock`, Converse API) behind the gateway, driven by the official `openai` and
 * `@anthropic-ai/sdk` clients: chat and streams in both client formats (streams in the binary AWS event-stream
 * framing, split in odd chunk sizes), tool calls, errors, a corrupt and a truncated stream, unsupported parameters.
 * The fake upstream checks what a real Bedrock endpoint would: a SigV4 signature recomputed over the exact bytes
 * it received (IAM keys) or the Bearer API key.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { ProviderConfig } from '../../contract/gateway-config.js';
import { encodeBedrockEvent } from '../../dataplane/src/providers/bedrock/eventstream.js';
import { signV4 } from '../../dataplane/src/providers/bedrock/sigv4.js';
import { FakeUpstream, type RecordedRequest } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

type OErr = InstanceType<typeof OpenAI.APIError>;
type AErr = InstanceType<typeof Anthropic.APIError>;

const CASSETTES = fileURLToPath(new URL('../fixtures/cassettes/bedrock/', import.meta.url));
const cassette = (name: string) => `${CASSETTES}${name}.json`;

const KEYS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};
const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const ARN = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0';

let br: FakeUpstream;
let brk: FakeUpstream;
let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

function bedrockProvider(name: string, baseUrl: string, credential: string): ProviderConfig {
  return { ...provider({ name, baseUrl, type: 'bedrock', credential }), region: 'us-east-1' } as ProviderConfig;
}

beforeAll(async () => {
  br = await FakeUpstream.start('br');
  brk = await FakeUpstream.start('brk');
  gw = await startGateway(
    gatewayConfig({
      providers: [bedrockProvider('br', br.url, JSON.stringify(KEYS)), bedrockProvider('brk', brk.url, 'br-api-key')],
      routes: [
        route({ name: 'iam', models: ['claude-b'], backends: [{ provider: 'br', model: MODEL }], attempts: 1 }),
        route({ name: 'key', models: ['claude-k'], backends: [{ provider: 'brk', model: ARN }], attempts: 1 }),
        route({
          name: 'failover',
          models: ['failover'],
          backends: [
            { provider: 'br', model: MODEL, priority: 0 },
            { provider: 'brk', model: ARN, priority: 1 },
          ],
          attempts: 2,
          backoffBaseMs: 1,
          backoffMaxMs: 1,
        }),
      ],
    }),
  );
  openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw.close();
  await br.close();
  await brk.close();
});

beforeEach(() => {
  br.reset();
  brk.reset();
});

/** Recomputes the SigV4 signature from what the upstream received, as Bedrock would. */
function expectSignedRequest(rec: RecordedRequest): void {
  const h = rec.headers;
  const auth = String(h.authorization);
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  expect(m).not.toBeNull();
  const [, keyId, day, region, service, signedHeaders, signature] = m!;
  expect([keyId, region, service]).toEqual(['AKIDEXAMPLE', 'us-east-1', 'bedrock']);
  expect(signedHeaders).toBe('content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token');
  expect(h['x-amz-security-token']).toBe(KEYS.sessionToken);
  expect(h['x-amz-content-sha256']).toBe(createHash('sha256').update(rec.raw).digest('hex'));
  const date = String(h['x-amz-date']);
  expect(date.slice(0, 8)).toBe(day);
  const now = Date.parse(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  expect(Math.abs(now - Date.now())).toBeLessThan(5 * 60_000);
  const again = signV4({
    method: rec.method,
    host: String(h.host),
    path: rec.path,
    headers: { 'content-type': String(h['content-type']) },
    body: new Uint8Array(rec.raw),
    region,
    service,
    credentials: KEYS,
    now,
    contentSha256Header: true,
  });
  expect(again.signature).toBe(signature);
}

describe('OpenAI client → bedrock', () => {
  it('chat: the request is a signed Converse call with the translated body', async () => {
    const r = await openai.chat.completions.create({
      model: 'claude-b',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Grüß dich' },
      ],
      max_tokens: 50,
      temperature: 0.3,
    });
    expect(r.choices[0]!.message.content).toBe('hello from br');
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.model).toBe('claude-b');
    expect(r.id).toMatch(/^chatcmpl-bedrock-/);
    expect(r.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 7 });
    const rec = br.requests[0]!;
    expect(rec.method).toBe('POST');
    expect(rec.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
    expect(rec.body).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'Grüß dich' }] }],
      inferenceConfig: { maxTokens: 50, temperature: 0.3 },
    });
    expectSignedRequest(rec);
  });

  it('chat with a Bedrock API key: Bearer, no SigV4; an inference-profile ARN as model id', async () => {
    const r = await openai.chat.completions.create({ model: 'claude-k', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('hello from brk');
    const rec = brk.requests[0]!;
    expect(rec.path).toBe(`/model/${encodeURIComponent(ARN)}/converse`);
    expect(rec.headers.authorization).toBe('Bearer br-api-key');
    expect(rec.headers['x-amz-date']).toBeUndefined();
  });

  it('stream (event-stream bytes in 7-byte chunks): text, finish, usage with cache reads', async () => {
    br.enqueueCassette(cassette('stream-text'), { chunkSize: 7 });
    const s = await openai.chat.completions.create({
      model: 'claude-b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const c of s) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('Hello! How can I help?');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({
      prompt_tokens: 1034,
      completion_tokens: 7,
      prompt_tokens_details: { cached_tokens: 1024 },
    });
    expect(br.requests[0]!.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse-stream`);
    expect(br.requests[0]!.headers.accept).toBe('application/vnd.amazon.eventstream');
    expectSignedRequest(br.requests[0]!);
  });

  it('stream with a tool call: id and name first, argument deltas after', async () => {
    br.enqueueCassette(cassette('stream-tool-use'), { chunkSize: 13 });
    const s = await openai.chat.completions.create({
      model: 'claude-b',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      stream: true,
    });
    let id: string | undefined;
    let name: string | undefined;
    let args = '';
    for await (const c of s)
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        id ??= tc.id;
        name ??= tc.function?.name;
        args += tc.function?.arguments ?? '';
      }
    expect([id, name, JSON.parse(args)]).toEqual([
      'tooluse_3hq1fQ2ZSeGyzjEAFSaTXA',
      'get_weather',
      { location: 'Paris' },
    ]);
    const sent = br.requests[0]!.body as { toolConfig: unknown };
    expect(sent.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }],
    });
  });

  it('429 ThrottlingException → 429 rate_limit_error with the Bedrock message', async () => {
    br.enqueueCassette(cassette('error-429-throttling'));
    const err = await openai.chat.completions
      .create({ model: 'claude-b', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as OErr).message).toContain('Too many requests');
  });

  it('400 ValidationException keeps its status and message', async () => {
    br.enqueueCassette(cassette('error-400-validation'));
    const err = await openai.chat.completions
      .create({ model: 'claude-b', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as OErr).message).toContain('ValidationException: The model returned the following errors');
  });

  it('403 AccessDenied: the gateway credential was refused → the next backend answers', async () => {
    br.enqueueCassette(cassette('error-403-access-denied'));
    const r = await openai.chat.completions.create({ model: 'failover', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('hello from brk');
    expect(br.requests).toHaveLength(1);
    expect(brk.requests).toHaveLength(1);
  });

  it('403 on the only backend → 502 naming the provider', async () => {
    br.enqueueCassette(cassette('error-403-unrecognized-client'));
    const err = await openai.chat.completions
      .create({ model: 'claude-b', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as OErr).status).toBe(502);
    expect((err as OErr).message).toContain(`provider "ai/br" rejected the gateway's credential`);
  });

  it('an unsupported parameter is a 400 naming it, and nothing reaches Bedrock', async () => {
    const err = await openai.chat.completions
      .create({ model: 'claude-b', messages: [{ role: 'user', content: 'hi' }], n: 2 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as OErr).param).toBe('n');
    expect(br.requests).toHaveLength(0);
  });

  it('a corrupt event stream (CRC mismatch) before any byte reached the client → 502 upstream_bad_response', async () => {
    const bad = new Uint8Array(encodeBedrockEvent('messageStart', { role: 'assistant' }));
    bad[bad.length - 6] = bad[bad.length - 6]! ^ 0xff;
    br.enqueue({ kind: 'bytes', chunks: [bad] });
    const err = await openai.chat.completions
      .create({ model: 'claude-b', messages: [{ role: 'user', content: 'hi' }], stream: true })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as OErr).status).toBe(502);
    expect((err as OErr).message).toContain('CRC mismatch');
  });

  it('a stream cut mid-message is reported as an error, not a clean end', async () => {
    const frames = [
      encodeBedrockEvent('messageStart', { role: 'assistant' }),
      encodeBedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hel' } }),
      encodeBedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lo' } }).subarray(0, 20),
    ];
    br.enqueue({ kind: 'bytes', chunks: frames });
    const s = await openai.chat.completions.create({
      model: 'claude-b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    const err = await (async () => {
      for await (const c of s) text += c.choices[0]?.delta.content ?? '';
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(text).toBe('Hel');
    expect(err).toBeInstanceOf(Error);
  });
});

describe('Anthropic client → bedrock', () => {
  it('messages with a tool call answer', async () => {
    br.enqueueCassette(cassette('converse-tool-use'));
    const r = await anthropic.messages.create({
      model: 'claude-b',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
    });
    expect(r.stop_reason).toBe('tool_use');
    expect(r.model).toBe('claude-b');
    expect(r.content).toEqual([
      { type: 'text', text: 'Let me check the weather.' },
      {
        type: 'tool_use',
        id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
        name: 'get_weather',
        input: { location: 'Paris', unit: 'celsius' },
      },
    ]);
    expect(r.usage).toMatchObject({ input_tokens: 310, output_tokens: 54 });
    const sent = br.requests[0]!.body as Record<string, unknown>;
    expect(sent.system).toEqual([{ text: 'Be brief.' }]);
    expect(sent.inferenceConfig).toEqual({ maxTokens: 100 });
    expect((sent.toolConfig as { toolChoice: unknown }).toolChoice).toEqual({ any: {} });
    expectSignedRequest(br.requests[0]!);
  });

  it('stream with a tool call (3-byte chunks): finalMessage has the tool_use input', async () => {
    br.enqueueCassette(cassette('stream-tool-use'), { chunkSize: 3 });
    const s = anthropic.messages.stream({
      model: 'claude-b',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
    });
    const m = await s.finalMessage();
    expect(m.stop_reason).toBe('tool_use');
    expect(m.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'tooluse_3hq1fQ2ZSeGyzjEAFSaTXA', name: 'get_weather', input: { location: 'Paris' } },
    ]);
    expect(m.usage).toMatchObject({ input_tokens: 402, output_tokens: 61 });
  });

  it('a throttlingException mid-stream reaches the client as an error event', async () => {
    br.enqueueCassette(cassette('stream-throttling'), { chunkSize: 11 });
    const s = anthropic.messages.stream({
      model: 'claude-b',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const err = await s.finalMessage().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain('Too many tokens');
  });

  it('503 ServiceUnavailable → 503 overloaded_error', async () => {
    br.enqueueCassette(cassette('error-503'));
    const err = await anthropic.messages
      .create({ model: 'claude-b', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as AErr).status).toBe(503);
    expect((err as AErr).message).toContain('temporarily unable');
  });

  it('an image by URL is rejected with 400 naming the field', async () => {
    const err = await anthropic.messages
      .create({
        model: 'claude-b',
        max_tokens: 10,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as AErr).message).toContain('messages[0].content[0].source.type');
    expect(br.requests).toHaveLength(0);
  });
});
