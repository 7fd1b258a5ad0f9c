/**
 * The simulated provider, driven by the official `openai` and `@anthropic-ai/sdk` clients over loopback:
 * if these SDKs parse what it sends, the formats are the providers' own.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { optionsFromArgs } from '../../dataplane/src/cli/simulate.js';
import { embeddingVector } from '../../dataplane/src/simulate/formats.js';
import { createSimulator, type Simulator } from '../../dataplane/src/simulate/server.js';
import { SseParser } from '../../dataplane/src/sse/sse.js';

let sim: Simulator;
let base: string;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  sim = createSimulator({ outputTokens: 8 });
  const port = await sim.listen(0);
  base = `http://127.0.0.1:${port}`;
  openai = new OpenAI({ apiKey: 'sk-sim', baseURL: `${base}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-sim', baseURL: base, maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

describe('OpenAI chat completions', () => {
  test('non-streaming answer is deterministic and its usage is honest', async () => {
    const r = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello there simulated world' },
      ],
    });
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('gpt-4o-mini');
    expect(r.choices[0]?.message.role).toBe('assistant');
    expect(r.choices[0]?.message.content).toBe('Simulated answer to 6 words: lorem ipsum dolor');
    expect(r.choices[0]?.finish_reason).toBe('stop');
    expect(r.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 8, total_tokens: 14 });
  });

  test('max_tokens caps the answer with finish_reason length', async () => {
    const r = await openai.chat.completions.create({
      model: 'gpt-4o',
      max_tokens: 3,
      messages: [{ role: 'user', content: 'one' }],
    });
    expect(r.choices[0]?.message.content).toBe('Simulated answer to');
    expect(r.choices[0]?.finish_reason).toBe('length');
    expect(r.usage?.completion_tokens).toBe(3);
  });

  test('stream with include_usage: content chunks, finish chunk, then a usage chunk with empty choices', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'two words' }] }],
    });
    let text = '';
    let contentChunks = 0;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let usageChunkChoices = -1;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        text += choice.delta.content;
        contentChunks++;
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) {
        usage = chunk.usage;
        usageChunkChoices = chunk.choices.length;
      } else expect(chunk.usage).toBeNull();
    }
    expect(text).toBe('Simulated answer to 2 words: lorem ipsum dolor');
    expect(finish).toBe('stop');
    expect(usageChunkChoices).toBe(0);
    expect(usage).toMatchObject({
      prompt_tokens: 2,
      completion_tokens: contentChunks,
      total_tokens: 2 + contentChunks,
    });
  });

  test('stream without include_usage has no usage field and ends with [DONE]', async () => {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await res.text();
    expect(body).not.toContain('"usage"');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  test('paced stream: per-request chunk interval and output tokens', async () => {
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-simulate-chunk-interval': '5ms', 'x-simulate-output-tokens': '4' } },
    );
    const parts: string[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) parts.push(chunk.choices[0].delta.content);
    expect(parts).toEqual(['Simulated', ' answer', ' to', ' 1']);
  });
});

describe('OpenAI embeddings and models', () => {
  test('embeddings (the SDK asks for base64) decode to the deterministic vector', async () => {
    const r = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a b', 'c'], dimensions: 4 });
    expect(r.object).toBe('list');
    expect(r.data).toHaveLength(2);
    expect(r.data[1]?.index).toBe(1);
    const expected = Array.from(embeddingVector('a b', 4));
    expect(r.data[0]?.embedding).toHaveLength(4);
    r.data[0]?.embedding.forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i]!, 6);
    });
    expect(r.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
  });

  test('float encoding over raw HTTP', async () => {
    const res = await fetch(`${base}/v1/embeddings`, {
      method: 'POST',
      body: JSON.stringify({ model: 'e', input: 'hi', encoding_format: 'float', dimensions: 3 }),
    });
    const j = (await res.json()) as { data: { embedding: number[] }[] };
    expect(j.data[0]?.embedding).toHaveLength(3);
  });

  test('models list', async () => {
    const ids: string[] = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    expect(ids).toContain('gpt-4o-mini');
    expect(ids).toContain('claude-sonnet-4-5');
  });
});

describe('Anthropic messages', () => {
  test('non-streaming message', async () => {
    const m = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      system: 'be kind',
      messages: [{ role: 'user', content: 'three little words' }],
    });
    expect(m.type).toBe('message');
    expect(m.role).toBe('assistant');
    expect(m.content[0]).toEqual({ type: 'text', text: 'Simulated answer to 5 words: lorem ipsum dolor' });
    expect(m.stop_reason).toBe('end_turn');
    expect(m.usage.input_tokens).toBe(5);
    expect(m.usage.output_tokens).toBe(8);
  });

  test('stream: the full documented event sequence on the wire', async () => {
    const res = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ model: 'c', max_tokens: 6, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = new SseParser().push(await res.text());
    const names = events.map((e) => e.event);
    expect(names).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array(6).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of events) expect((JSON.parse(e.data) as { type: string }).type).toBe(e.event);
    expect(JSON.parse(events.at(-2)!.data)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { output_tokens: 6 },
    });
  });

  test('stream: the SDK assembles the final message with honest usage', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 6,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'count these four words' }] }],
    });
    let deltas = 0;
    stream.on('streamEvent', (e) => {
      if (e.type === 'content_block_delta') deltas++;
    });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Simulated answer to 4 words: lorem' });
    expect(final.stop_reason).toBe('max_tokens');
    expect(final.usage.output_tokens).toBe(deltas);
    expect(final.usage.input_tokens).toBe(4);
  });

  test('missing max_tokens is a 400 in Anthropic format', async () => {
    const res = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ model: 'c', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
  });

  test('a stream cut mid-way sends an Anthropic error event the SDK raises', async () => {
    const stream = anthropic.messages.stream(
      { model: 'c', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-simulate-disconnect-after': '2', 'x-simulate-chunk-interval': '1ms' } },
    );
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded/);
  });
});

describe('scripted faults', () => {
  test('x-simulate-status 429 gives the OpenAI SDK a RateLimitError with retry-after', async () => {
    const err = await openai.chat.completions
      .create(
        { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-simulate-status': '429', 'x-simulate-retry-after': '7' } },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.headers.get('retry-after')).toBe('7');
    expect(e.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
  });

  test('x-simulate-status 529 gives the Anthropic SDK an overloaded_error', async () => {
    const err = await anthropic.messages
      .create(
        { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-simulate-status': '529' } },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error' },
    });
  });

  test('x-simulate-latency delays the answer', async () => {
    const t0 = performance.now();
    await openai.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-simulate-latency': '120ms' } },
    );
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
  });

  test('an OpenAI stream cut mid-way makes the SDK fail, not hang', async () => {
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-simulate-disconnect-after': '2', 'x-simulate-chunk-interval': '1ms' } },
    );
    const consume = async () => {
      for await (const _ of stream) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow();
  });

  test('a bad override header is a 400 naming the header', async () => {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-simulate-latency': 'soon' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    const j = (await res.json()) as { error: { message: string; type: string } };
    expect(j.error.type).toBe('invalid_request_error');
    expect(j.error.message).toMatch(/x-simulate-latency/);
  });

  test('error-rate and rate-limit-rate draw errors in the route format, reproducibly by seed', async () => {
    const run = async () => {
      const s = createSimulator({ errorRate: 0.3, rateLimitRate: 0.2, seed: 42 });
      const port = await s.listen(0);
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
          method: 'POST',
          body: JSON.stringify({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
        });
        const j = (await res.json()) as { type: string; error?: { type: string } };
        if (res.status !== 200) {
          expect(j.type).toBe('error');
          expect(res.status === 429 ? 'rate_limit_error' : res.status === 529 ? 'overloaded_error' : 'api_error').toBe(
            j.error?.type,
          );
        }
        statuses.push(res.status);
      }
      await s.close();
      return statuses;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(5);
    expect(a.some((s) => s === 429)).toBe(true);
    expect(a.some((s) => s === 500 || s === 529)).toBe(true);
  });
});

describe('bad input never crashes the simulator', () => {
  const post = (path: string, body: string) => fetch(`${base}${path}`, { method: 'POST', body });
  test.each([
    ['/v1/chat/completions', '{not json', 400, /not valid JSON/],
    ['/v1/chat/completions', '[1,2]', 400, /JSON object/],
    ['/v1/chat/completions', '{"messages":[]}', 400, /model/],
    ['/v1/chat/completions', '{"model":"m","messages":"hi"}', 400, /messages/],
    [
      '/v1/chat/completions',
      '{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-1}',
      400,
      /max_tokens/,
    ],
    ['/v1/embeddings', '{"model":"m","input":{}}', 400, /input/],
    ['/v1/embeddings', '{"model":"m","input":"x","dimensions":0}', 400, /dimensions/],
    ['/v1/embeddings', '{"model":"m","input":"x","encoding_format":"hex"}', 400, /encoding_format/],
    ['/v1/nothing', '{}', 404, /no such route/],
  ])('POST %s %s → %d', async (path, body, status, msg) => {
    const res = await post(path, body);
    expect(res.status).toBe(status);
    const j = (await res.json()) as { error: { message: string } };
    expect(j.error.message).toMatch(msg);
  });

  test('GET on a POST route is 405', async () => {
    const res = await fetch(`${base}/v1/messages`);
    expect(res.status).toBe(405);
    expect(((await res.json()) as { type: string }).type).toBe('error');
  });

  test('a body over the limit is 413', async () => {
    const s = createSimulator({ maxBodyBytes: 100 });
    const port = await s.listen(0);
    const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, { method: 'POST', body: 'x'.repeat(1000) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    await s.close();
  });

  test('--api-key: a request without the key is 401, with it 200', async () => {
    const s = createSimulator({ apiKey: 'secret-key' });
    const port = await s.listen(0);
    const ok = new OpenAI({ apiKey: 'secret-key', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const bad = new OpenAI({ apiKey: 'wrong', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const msg = { model: 'm', messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(ok.chat.completions.create(msg)).resolves.toMatchObject({ object: 'chat.completion' });
    await expect(bad.chat.completions.create(msg)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const ant = new Anthropic({ apiKey: 'secret-key', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
    await expect(ant.messages.create({ ...msg, max_tokens: 2 })).resolves.toMatchObject({ type: 'message' });
    await s.close();
  });
});

describe('command line flags', () => {
  test('durations, paces and rates parse', () => {
    const r = optionsFromArgs(['--port', '0', '--latency', '20ms', '--tokens-per-second', '50', '--error-rate', '0.1']);
    expect(r).not.toBe('help');
    if (r === 'help') return;
    expect(r.port).toBe(0);
    expect(r.options.latencyMs).toBe(20);
    expect(r.options.chunkIntervalMs).toBe(20);
    expect(r.options.errorRate).toBe(0.1);
  });

  test.each([
    [['--latency', 'soon'], /--latency/],
    [['--error-rate', '2'], /--error-rate/],
    [['--tokens-per-second', '5', '--chunk-interval', '5ms'], /give one/],
    [['--port', '70000'], /--port/],
    [['--bogus'], /bogus/],
    [['--error-rate', '0.7', '--rate-limit-rate', '0.5'], /exceed 1/],
  ])('%j is rejected', (args, msg) => {
    expect(() => optionsFromArgs(args)).toThrow(msg);
  });

  test('--help', () => {
    expect(optionsFromArgs(['--help'])).toBe('help');
  });
});
