/**
 * End to end on a real cluster (test/e2e/kind.sh sets it up): the official OpenAI and Anthropic SDKs
 * drive the data-plane Service (port-forwarded to TOLLGATE_E2E_URL) with the key TOLLGATE_E2E_KEY, through
 * the routes in test/e2e/manifests.yaml, to `tollgate simulate` running in the cluster as the upstream.
 *
 * Not part of `npm test` (it needs a cluster): `npm run test:e2e` runs it, with its own jest config.
 * Without the two variables every test fails and says what is missing; nothing is skipped.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

const URL_ = process.env.TOLLGATE_E2E_URL?.replace(/\/+$/, '') ?? '';
const KEY = process.env.TOLLGATE_E2E_KEY ?? '';
const NS = process.env.TOLLGATE_E2E_APP_NAMESPACE ?? 'tollgate-e2e';

function requireEnv(): void {
  if (!URL_ || !KEY) {
    throw new Error(
      'TOLLGATE_E2E_URL (the data-plane Service, e.g. http://127.0.0.1:18080) and TOLLGATE_E2E_KEY (an API key ' +
        'Secret in the cluster) must be set; test/e2e/kind.sh sets both',
    );
  }
}

const openai = (apiKey = KEY) => new OpenAI({ baseURL: `${URL_}/v1`, apiKey, maxRetries: 2, timeout: 30_000 });
const anthropic = (apiKey = KEY) => new Anthropic({ baseURL: URL_, apiKey, maxRetries: 2, timeout: 30_000 });

beforeAll(() => requireEnv());

describe('the gateway in a cluster', () => {
  it('is alive and ready', async () => {
    expect((await fetch(`${URL_}/healthz`)).status).toBe(200);
    expect((await fetch(`${URL_}/readyz`)).status).toBe(200);
  });

  it('lists the models this key may use', async () => {
    const ids: string[] = [];
    for await (const m of openai().models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o-mini', 'claude-via-openai']));
  });

  it('answers an OpenAI chat completion through the in-cluster upstream, with the credential and quota headers', async () => {
    const { data, response } = await openai()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from kind' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toMatch(/Simulated answer/);
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-tollgate-route')).toBe(`${NS}/chat`);
    // The simulate Deployment answers only with the credential from simulate-credentials, so a 200
    // from openai-sim (not the fallback) means the operator delivered it to the pods.
    expect(response.headers.get('x-tollgate-backend')).toBe('openai-sim/gpt-4o-mini');
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('10000');
    expect(Number(response.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(10000);
  });

  it('streams an OpenAI chat completion with usage at the end', async () => {
    const stream = await openai().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toMatch(/Simulated answer/);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('answers an Anthropic message, streamed and not', async () => {
    const msg = await anthropic().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(msg.content[0]?.type).toBe('text');
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const stream = anthropic().messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'stream' }],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBeDefined();
    const block = final.content[0];
    expect(block?.type === 'text' ? block.text : '').toMatch(/Simulated answer/);
  });

  it('translates between formats: an OpenAI client served by the Anthropic provider, and the reverse', async () => {
    const { data, response } = await openai()
      .chat.completions.create({ model: 'claude-via-openai', messages: [{ role: 'user', content: 'cross' }] })
      .withResponse();
    expect(response.headers.get('x-tollgate-backend')).toBe('anthropic-sim/claude-sonnet-4-5');
    expect(data.choices[0]?.message.content).toMatch(/Simulated answer/);
    const msg = await anthropic().messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'cross the other way' }],
    });
    expect(msg.content[0]?.type).toBe('text');
  });

  it('refuses a wrong key and an unknown model in each client format', async () => {
    await expect(
      openai('tg-wrong-key').chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(
      anthropic('tg-wrong-key').messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(
      openai().chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      anthropic().messages.create({
        model: 'no-such-model',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});
