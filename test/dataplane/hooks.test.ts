/** The accounting seam: admission can refuse (in the client's format, with its headers), observers see every step. */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { GatewayError } from '../../dataplane/src/errors.js';
import type { FinishInfo, GatewayHooks, RejectedInfo, RequestObserver } from '../../dataplane/src/pipeline/hooks.js';
import type { FakeUpstream } from '../support/fake-upstream.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { type HookedGateway, startHookedGateway } from '../support/hooked-gateway.js';

let setup: HookedGateway;
let up: FakeUpstream;
let gw: TestGateway;
let client: OpenAI;
const events: string[] = [];
const finished: FinishInfo[] = [];
const rejected: RejectedInfo[] = [];

const TICKET = Object.freeze({ headers: { 'x-ratelimit-remaining-requests': '9' } });

const hooks: GatewayHooks = {
  admission: {
    admit(req) {
      if (req.model === 'gpt-4o' && req.body.user === 'over-quota')
        throw new GatewayError('quota_exceeded', 'quota research-team exceeded', { headers: { 'retry-after': '42' } });
      // Asynchronous admission (a Redis round trip) is allowed too.
      return req.stream ? Promise.resolve(TICKET) : TICKET;
    },
  },
  observe(_req, ticket): RequestObserver {
    return {
      headers: ticket?.headers,
      attemptStart: (a) => events.push(`start:${a.attempt}:${a.backend}`),
      attemptEnd: (a, r) => events.push(`end:${a.attempt}:${r.outcome}:${r.status}`),
      firstByte: () => events.push('firstByte'),
      finish: (f) => {
        events.push('finish');
        finished.push(f);
      },
    };
  },
  rejected: (info) => rejected.push(info),
};

beforeAll(async () => {
  setup = await startHookedGateway(hooks);
  ({ up, gw, client } = setup);
});

afterAll(() => setup.close());

it('calls the observer in order, with usage, and adds its headers', async () => {
  up.enqueue({ kind: 'json', status: 500, body: { error: { message: 'x', type: 'server_error' } } });
  const r = await client.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  expect(r.response.headers.get('x-ratelimit-remaining-requests')).toBe('9');
  expect(events).toEqual([
    'start:1:up/gpt-4o',
    'end:1:http_5xx:500',
    'start:2:up/gpt-4o',
    'end:2:ok:200',
    'firstByte',
    'finish',
  ]);
  const f = finished.at(-1)!;
  expect(f).toMatchObject({
    status: 200,
    attempts: 2,
    backend: 'up/gpt-4o',
    errorCode: undefined,
    clientAborted: false,
  });
  expect(f.usage).toMatchObject({ inputTokens: 5, outputTokens: 7 });
});

it('reports stream usage at finish (async admission)', async () => {
  events.length = 0;
  const s = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  for await (const _ of s) {
  }
  expect(events).toEqual(['start:1:up/gpt-4o', 'firstByte', 'end:1:ok:200', 'finish']);
  expect(finished.at(-1)!.usage).toMatchObject({ inputTokens: 5, outputTokens: 7 });
});

it('renders an admission refusal in the client format with its headers, and reports it as rejected', async () => {
  const before = up.requests.length;
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const e = (await client.chat.completions
    .create(
      { model: 'gpt-4o', user: 'over-quota', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { traceparent } },
    )
    .catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
  expect(e.status).toBe(429);
  expect(e.code).toBe('quota_exceeded');
  expect(e.headers?.get('retry-after')).toBe('42');
  expect(e.headers?.get('x-tollgate-route')).toBe('ai/r');
  expect(up.requests.length).toBe(before);
  expect(rejected.at(-1)).toMatchObject({
    status: 429,
    errorCode: 'quota_exceeded',
    operation: 'chat',
    model: 'gpt-4o',
    route: { id: 'ai/r' },
    body: { messages: [{ role: 'user', content: 'hi' }] },
    traceparent,
  });
  await expect(
    client.chat.completions.create({ model: 'unknown', messages: [{ role: 'user', content: 'x' }] }),
  ).rejects.toThrow();
  expect(rejected.at(-1)).toMatchObject({
    status: 404,
    errorCode: 'model_not_found',
    operation: 'chat',
    route: undefined,
    body: { messages: [{ role: 'user', content: 'x' }] },
    traceparent: undefined,
  });
  // Refused before the body was read or parsed: the operation is known, the body is not.
  const bad = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', body: '{"model":' });
  expect(bad.status).toBe(400);
  expect(rejected.at(-1)).toMatchObject({ status: 400, errorCode: 'invalid_json', operation: 'embeddings' });
  expect(rejected.at(-1)!.body).toBeUndefined();
  await fetch(`${gw.url}/v1/models`, { method: 'POST' });
  expect(rejected.at(-1)).toMatchObject({ status: 405, errorCode: 'method_not_allowed', operation: undefined });
});

it('joins no completion text when usage is reported; hooks with keepOutputText get it for every answer', async () => {
  const s = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  for await (const _ of s) {
  }
  expect(finished.at(-1)!.usage).toBeDefined();
  expect(finished.at(-1)!.outputText).toBeUndefined();

  const kept: FinishInfo[] = [];
  const keeping: GatewayHooks = {
    keepOutputText: true,
    observe: () => ({
      headers: undefined,
      attemptStart: () => {},
      attemptEnd: () => {},
      firstByte: () => {},
      finish: (f) => kept.push(f),
    }),
    rejected: () => {},
  };
  const gw2 = await startGateway(gw.gateway.config, { hooks: keeping });
  try {
    const c2 = new OpenAI({ baseURL: gw2.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    up.enqueue({ kind: 'default', text: 'kept answer' });
    await c2.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    up.enqueue({ kind: 'default', text: 'kept stream' });
    const st = await c2.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const _ of st) {
    }
    // An Anthropic client of an OpenAI-wire provider: the text of the translated body it got.
    up.enqueue({ kind: 'default', text: 'kept translated' });
    const res = await fetch(`${gw2.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'unused', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'gpt-4o', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(kept.map((f) => [f.usage?.outputTokens, f.outputText])).toEqual([
      [7, 'kept answer'],
      [7, 'kept stream'],
      [7, 'kept translated'],
    ]);
  } finally {
    await gw2.close();
  }
});
