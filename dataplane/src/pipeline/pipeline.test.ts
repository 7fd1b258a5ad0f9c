/**
 * The stage list (ADR 0043): a stage listed between parse and route runs in that order over the exchange,
 * its refusal (returned, thrown, or from a Promise) is answered by the one writer in the client's format and
 * reported once to `rejected`, and a client that leaves while a stage waits on I/O gets nothing more done.
 */

import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream } from '../../../test/support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../../../test/support/gateway.js';
import { GatewayError } from '../errors.js';
import type { Exchange } from './exchange.js';
import type { GatewayHooks, RejectedInfo, RequestObserver } from './hooks.js';
import { noopObserver } from './hooks.js';
import type { Stage, StageResult } from './stage.js';
import { STAGES } from './stages/index.js';
import { parseStage } from './stages/parse.js';
import { routeStage } from './stages/route.js';

const events: string[] = [];
const rejected: RejectedInfo[] = [];
/** Stage runs waiting for the test to let them go on (the async test stage), with their exchange. */
const held = new Map<string, { x: Exchange; resolve: (r: StageResult) => void }>();

/** The client's cue: OpenAI `user`, Anthropic `metadata.user_id`. */
function cue(x: Exchange): string {
  const b = x.body;
  if (b === undefined) return 'no body';
  if (typeof b.user === 'string') return b.user;
  const meta = b.metadata as { user_id?: string } | undefined;
  return String(meta?.user_id);
}

/** Test-only: looks at what parse left and route has not done yet, and refuses on the client's cue. */
const probe: Stage = {
  name: 'probe',
  run(x: Exchange): StageResult | Promise<StageResult> {
    const user = cue(x);
    events.push(`probe:${x.model}:${x.compiled === undefined ? 'unrouted' : 'routed'}:${user}`);
    if (user === 'refuse') return new GatewayError('invalid_request', 'refused by the probe stage', { param: 'user' });
    if (user === 'throw') throw new Error('probe broke');
    if (user.startsWith('hold')) return new Promise((resolve) => held.set(user, { x, resolve }));
    return x;
  },
};

/** Test-only: runs after route, to see the order. */
const after: Stage = {
  name: 'after',
  run(x: Exchange): StageResult {
    events.push(`after:${x.compiled?.id}`);
    return x;
  },
};

const hooks: GatewayHooks = {
  admission: {
    admit(req) {
      events.push(`admit:${req.route.id}`);
      return undefined;
    },
  },
  observe(): RequestObserver {
    events.push('observe');
    return noopObserver;
  },
  rejected: (info) => rejected.push(info),
};

let up: FakeUpstream;
let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  up = await FakeUpstream.start('up');
  gw = await startGateway(
    gatewayConfig({
      providers: [provider({ name: 'up', baseUrl: up.openaiBaseUrl })],
      routes: [route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'up' }] })],
    }),
    { hooks, stages: [parseStage, probe, routeStage, after] },
  );
  openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw.close();
  await up.close();
});

beforeEach(() => {
  events.length = 0;
  rejected.length = 0;
  up.requests.length = 0;
});

const chat = (user: string, signal?: AbortSignal) =>
  openai.chat.completions.create({ model: 'gpt-4o', user, messages: [{ role: 'user', content: 'hi' }] }, { signal });

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('condition not met in 5 s');
}

it('the default list is parse then route', () => {
  expect(STAGES.map((s) => s.name)).toEqual(['parse', 'route']);
});

it('runs a listed stage in its place: after parse, before route, then the admission and the upstream', async () => {
  const r = await chat('alice');
  expect(r.choices[0]!.message.content).toBeTruthy();
  expect(events).toEqual(['probe:gpt-4o:unrouted:alice', 'after:ai/r', 'admit:ai/r', 'observe']);
  expect(up.requests).toHaveLength(1);
  expect(rejected).toHaveLength(0);
});

it("a stage's refusal is answered in the client's format and reported once; later stages never run", async () => {
  const err = await chat('refuse').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  const e = err as InstanceType<typeof OpenAI.BadRequestError>;
  expect(e.message).toContain('refused by the probe stage');
  expect(e.param).toBe('user');
  expect(e.code).toBe('invalid_request');

  const aerr = await anthropic.messages
    .create({
      model: 'gpt-4o',
      max_tokens: 10,
      metadata: { user_id: 'refuse' },
      messages: [{ role: 'user', content: 'hi' }],
    })
    .catch((x: unknown) => x);
  expect(aerr).toBeInstanceOf(Anthropic.BadRequestError);
  expect((aerr as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
    type: 'error',
    error: { type: 'invalid_request_error', message: 'refused by the probe stage' },
  });

  expect(events).toEqual(['probe:gpt-4o:unrouted:refuse', 'probe:gpt-4o:unrouted:refuse']);
  expect(up.requests).toHaveLength(0);
  expect(rejected.map((r) => [r.clientFormat, r.status, r.errorCode, r.model, r.route])).toEqual([
    ['openai', 400, 'invalid_request', 'gpt-4o', undefined],
    ['anthropic', 400, 'invalid_request', 'gpt-4o', undefined],
  ]);
  expect(rejected[0]!.body).toMatchObject({ user: 'refuse' });
  expect(rejected[1]!.body).toMatchObject({ metadata: { user_id: 'refuse' } });
});

it('a stage that throws something else is a 500 internal error, not a crash', async () => {
  const err = await chat('throw').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.InternalServerError);
  expect(rejected.map((r) => r.errorCode)).toEqual(['internal']);
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
});

it('a stage that returns a Promise: the request waits for it, then goes on (or is refused)', async () => {
  const ok = chat('hold-ok');
  await until(() => held.has('hold-ok'));
  expect(events).toEqual(['probe:gpt-4o:unrouted:hold-ok']);
  expect(up.requests).toHaveLength(0);
  held.get('hold-ok')!.resolve(new GatewayError('quota_exceeded', 'not yet', { headers: { 'retry-after': '5' } }));
  const err = await ok.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('5');

  events.length = 0;
  const go = chat('hold-go');
  await until(() => held.has('hold-go'));
  const go1 = held.get('hold-go')!;
  go1.resolve(go1.x);
  expect((await go).choices[0]!.message.content).toBeTruthy();
  expect(events).toEqual(['probe:gpt-4o:unrouted:hold-go', 'after:ai/r', 'admit:ai/r', 'observe']);
  expect(up.requests).toHaveLength(1);
});

it('a client that leaves while a stage waits: no later stage, no admission, nothing upstream; reported as 499', async () => {
  const ac = new AbortController();
  const call = chat('hold-gone', ac.signal).catch((e: unknown) => e);
  await until(() => held.has('hold-gone'));
  ac.abort();
  await call;
  // The gateway sees the socket close before the stage answers.
  const gone = held.get('hold-gone')!;
  await until(() => gone.x.req.socket.destroyed);
  gone.resolve(gone.x);
  await until(() => rejected.length > 0);
  expect(events).toEqual(['probe:gpt-4o:unrouted:hold-gone']);
  expect(rejected.map((r) => [r.status, r.errorCode, r.model])).toEqual([[499, 'upstream_error', 'gpt-4o']]);
  expect(up.requests).toHaveLength(0);
});
