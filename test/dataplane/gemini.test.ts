/**
 * The Gemini provider (type `gemini`) behind the gateway, driven by the official `openai` and `@anthropic-ai/sdk`
 * clients: chat and streams in both client formats, tool calls both ways, errors, unsupported parameters.
 * The upstream is the fake provider replaying documented Gemini answers (test/fixtures/cassettes/gemini).
 */
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

const CASSETTES = fileURLToPath(new URL('../fixtures/cassettes/gemini/', import.meta.url));
const cassette = (name: string) => `${CASSETTES}${name}.json`;

let gm: FakeUpstream;
let spare: FakeUpstream;
let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  gm = await FakeUpstream.start('gm');
  spare = await FakeUpstream.start('spare');
  gw = await startGateway(
    gatewayConfig({
      providers: [
        provider({ name: 'gm', baseUrl: gm.geminiBaseUrl, type: 'gemini', credential: 'AIza-gateway-key' }),
        provider({ name: 'spare', baseUrl: spare.geminiBaseUrl, type: 'gemini', credential: 'AIza-spare-key' }),
      ],
      routes: [
        route({ name: 'gemini', models: ['gemini-*'], backends: [{ provider: 'gm' }], attempts: 1 }),
        route({
          name: 'smart',
          models: ['smart'],
          backends: [{ provider: 'gm', model: 'gemini-2.5-flash' }],
          attempts: 1,
        }),
        route({
          name: 'failover',
          models: ['failover'],
          backends: [
            { provider: 'gm', model: 'gemini-2.5-flash', priority: 0 },
            { provider: 'spare', model: 'gemini-2.5-pro', priority: 1 },
          ],
          attempts: 2,
        }),
      ],
    }),
  );
  openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw.close();
  await gm.close();
  await spare.close();
});

beforeEach(() => {
  gm.reset();
  spare.reset();
});

/** For calls that must fail: a success fails the test. */
const succeeded = (): never => {
  throw new Error('expected the call to fail');
};

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

describe('OpenAI client → Gemini provider', () => {
  it('answers a chat completion: generateContent, x-goog-api-key, translated body and usage', async () => {
    gm.enqueueCassette(cassette('generate-text'));
    const { data, response } = await openai.chat.completions
      .create({
        model: 'smart',
        messages: [
          { role: 'system', content: 'Be nice.' },
          { role: 'user', content: 'Hello' },
        ],
        max_completion_tokens: 50,
        temperature: 0.2,
      })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.choices[0]!.message.content).toBe('Hello! How can I help you today?');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.model).toBe('gemini-2.5-flash');
    expect(data.usage).toEqual(
      expect.objectContaining({
        prompt_tokens: 2100,
        completion_tokens: 41,
        prompt_tokens_details: expect.objectContaining({ cached_tokens: 2048 }),
        completion_tokens_details: expect.objectContaining({ reasoning_tokens: 32 }),
      }),
    );
    const sent = gm.requests.at(-1)!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(sent.headers['x-goog-api-key']).toBe('AIza-gateway-key');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be nice.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Hello' }] }],
      generationConfig: { maxOutputTokens: 50, temperature: 0.2 },
    });
  });

  it('streams from streamGenerateContent?alt=sse, chunks split at odd places, with usage', async () => {
    gm.enqueueCassette(cassette('stream-text'), { chunkSize: 7 });
    const stream = await openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello there! How can I help? ✨');
    expect(finish).toBe('stop');
    expect(usage).toEqual(expect.objectContaining({ prompt_tokens: 11, completion_tokens: 32, total_tokens: 43 }));
    expect(gm.requests.at(-1)!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('returns whole function calls as tool_calls and sends tool results back as functionResponse by name', async () => {
    gm.enqueueCassette(cassette('generate-function-call'));
    const first = await openai.chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }],
      tools: [weatherTool],
      tool_choice: 'auto',
    });
    const msg = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(msg.tool_calls).toHaveLength(2);
    const calls = msg.tool_calls!.map((c) => (c.type === 'function' ? c : undefined)!);
    expect(calls.map((c) => JSON.parse(c.function.arguments))).toEqual([
      { location: 'Paris', unit: 'celsius' },
      { location: 'Tokyo', unit: 'celsius' },
    ]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(gm.requests.at(-1)!.body).toEqual(
      expect.objectContaining({
        tools: [
          {
            functionDeclarations: [
              expect.objectContaining({ name: 'get_weather', parametersJsonSchema: weatherTool.function.parameters }),
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      }),
    );

    const second = await openai.chat.completions.create({
      model: 'smart',
      messages: [
        { role: 'user', content: 'Weather in Paris and Tokyo?' },
        msg,
        { role: 'tool', tool_call_id: calls[0]!.id, content: '18C' },
        { role: 'tool', tool_call_id: calls[1]!.id, content: '22C' },
      ],
      tools: [weatherTool],
    });
    expect(second.choices[0]!.message.content).toBe('hello from gm');
    expect((gm.requests.at(-1)!.body as { contents: unknown[] }).contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Tokyo?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Let me check both cities.' },
          { functionCall: { name: 'get_weather', args: { location: 'Paris', unit: 'celsius' } } },
          { functionCall: { name: 'get_weather', args: { location: 'Tokyo', unit: 'celsius' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { content: '18C' } } },
          { functionResponse: { name: 'get_weather', response: { content: '22C' } } },
        ],
      },
    ]);
  });

  it('streams a function call the SDK can assemble', async () => {
    gm.enqueueCassette(cassette('stream-function-call'), { chunkSize: 13 });
    const stream = openai.chat.completions.stream({
      model: 'smart',
      messages: [{ role: 'user', content: 'Weather in SF?' }],
      tools: [weatherTool],
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function.name).toBe('get_weather');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
      location: 'San Francisco, CA',
      unit: 'fahrenheit',
    });
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('maps a Gemini 429 to upstream_rate_limited with retry-after from RetryInfo', async () => {
    gm.enqueueCassette(cassette('error-429'));
    const err = await openai.chat.completions
      .create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] })
      .then(succeeded, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.code).toBe('upstream_rate_limited');
    expect(e.message).toContain('You exceeded your current quota');
    expect(e.headers?.get('retry-after')).toBe('17');
  });

  it('treats API_KEY_INVALID as the gateway credential being refused: 502 and failover to the next backend', async () => {
    gm.enqueueCassette(cassette('error-400-api-key'));
    const r = await openai.chat.completions.create({ model: 'failover', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('hello from spare');
    expect(spare.requests.at(-1)!.path).toBe('/v1beta/models/gemini-2.5-pro:generateContent');
    expect(spare.requests.at(-1)!.headers['x-goog-api-key']).toBe('AIza-spare-key');

    gm.enqueueCassette(cassette('error-400-api-key'));
    const err = await openai.chat.completions
      .create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] })
      .then(succeeded, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(err.status).toBe(502);
    expect(err.message).toContain(`provider "ai/gm" rejected the gateway's credential`);
    expect(err.message).not.toContain('AIza');
  });

  it('rejects a parameter Gemini cannot take with 400 unsupported_parameter, before any upstream call', async () => {
    const err = await openai.chat.completions
      .create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }], n: 3 })
      .then(succeeded, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(err.status).toBe(400);
    expect(err.code).toBe('unsupported_parameter');
    expect(err.param).toBe('n');
    expect(gm.requests).toHaveLength(0);
  });

  it('rejects embeddings routed to a gemini provider with 400 unsupported_parameter', async () => {
    const err = await openai.embeddings
      .create({ model: 'gemini-embedding-001', input: 'x' })
      .then(succeeded, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(err.status).toBe(400);
    expect(err.code).toBe('unsupported_parameter');
    expect(gm.requests).toHaveLength(0);
  });
});

describe('Anthropic client → Gemini provider', () => {
  it('answers a message (non-stream) with Anthropic usage', async () => {
    gm.enqueueCassette(cassette('generate-text'));
    const m = await anthropic.messages.create({
      model: 'smart',
      max_tokens: 64,
      system: 'Be nice.',
      messages: [{ role: 'user', content: 'Hello' }],
      // Sampling fields this SDK version no longer types; the Messages API still takes them.
      ...({ temperature: 0.5, top_k: 20 } as object),
    });
    expect(m.content).toEqual([{ type: 'text', text: 'Hello! How can I help you today?' }]);
    expect(m.stop_reason).toBe('end_turn');
    expect(m.usage).toEqual(
      expect.objectContaining({ input_tokens: 52, cache_read_input_tokens: 2048, output_tokens: 41 }),
    );
    expect(gm.requests.at(-1)!.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be nice.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Hello' }] }],
      generationConfig: { maxOutputTokens: 64, temperature: 0.5, topK: 20 },
    });
  });

  it('streams a message the SDK assembles', async () => {
    gm.enqueueCassette(cassette('stream-text'), { chunkSize: 5 });
    const final = await anthropic.messages
      .stream({ model: 'smart', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] })
      .finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello there! How can I help? ✨' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(32);
    expect(final.usage.input_tokens).toBe(11);
  });

  it('streams a tool_use block and sends the tool_result back as a functionResponse', async () => {
    gm.enqueueCassette(cassette('stream-function-call'), { chunkSize: 11 });
    const tools = [
      { name: 'get_weather', description: 'Weather', input_schema: { type: 'object' as const, properties: {} } },
    ];
    const final = await anthropic.messages
      .stream({ model: 'smart', max_tokens: 64, messages: [{ role: 'user', content: 'SF?' }], tools })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const use = final.content.find((b) => b.type === 'tool_use')!;
    expect(use).toEqual(
      expect.objectContaining({ name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'fahrenheit' } }),
    );

    const next = await anthropic.messages.create({
      model: 'smart',
      max_tokens: 64,
      tools,
      messages: [
        { role: 'user', content: 'SF?' },
        { role: 'assistant', content: final.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: use.type === 'tool_use' ? use.id : '', content: '61F' }],
        },
      ],
    });
    expect(next.content).toEqual([{ type: 'text', text: 'hello from gm' }]);
    const contents = (gm.requests.at(-1)!.body as { contents: { parts: unknown[] }[] }).contents;
    expect(contents[2]).toEqual({
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { content: '61F' } } }],
    });
  });

  it('maps an unknown model (404) to not_found_error and a mid-stream error to an error event', async () => {
    gm.enqueueCassette(cassette('error-404'));
    const err = await anthropic.messages
      .create({ model: 'gemini-9-ultra', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .then(succeeded, (e: unknown) => e as InstanceType<typeof Anthropic.APIError>);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect((err.error as { error: { type: string } }).error.type).toBe('not_found_error');

    gm.enqueueCassette(cassette('stream-error'), { chunkSize: 9 });
    const streamErr = await anthropic.messages
      .stream({ model: 'smart', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] })
      .finalMessage()
      .then(succeeded, (e: unknown) => e as Error);
    expect(streamErr).toBeInstanceOf(Error);
    expect(String(streamErr.message)).toContain('overloaded');
  });

  it('rejects a server tool with 400 invalid_request_error naming it', async () => {
    const err = await anthropic.messages
      .create({
        model: 'smart',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      })
      .then(succeeded, (e: unknown) => e as InstanceType<typeof Anthropic.APIError>);
    expect(err.status).toBe(400);
    expect(err.message).toContain('tools[0].type');
    expect(gm.requests).toHaveLength(0);
  });
});
