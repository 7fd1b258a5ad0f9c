/**
 * A slow admission (a shared quota store): nothing is sent upstream until it answers; a refusal, or a
 * client that left while it was under way, never reaches the upstream (the provider would bill it).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { GatewayError } from '../../dataplane/src/errors.js';
import type { AdmissionTicket, GatewayHooks, RequestObserver } from '../../dataplane/src/pipeline/hooks.js';
import type { FakeUpstream } from '../support/fake-upstream.js';
import { type HookedGateway, startHookedGateway } from '../support/hooked-gateway.js';

let setup: HookedGateway;
let up: FakeUpstream;
let client: OpenAI;
/** Admissions waiting for the test to answer them. */
const pending: { user: unknown; answer: (ok: boolean) => void }[] = [];
const starts: string[] = [];

const hooks: GatewayHooks = {
  rejected() {},
  admission: {
    admit(req) {
      return new Promise<AdmissionTicket>((resolve, reject) => {
        pending.push({
          user: req.body.user,
          answer: (ok) =>
            ok
              ? resolve({ headers: { 'x-ratelimit-remaining-requests': '7' } })
              : reject(new GatewayError('quota_exceeded', 'quota p exceeded', { headers: { 'retry-after': '3' } })),
        });
      });
    },
  },
  observe(req, ticket): RequestObserver {
    return {
      headers: ticket?.headers,
      attemptStart: (a) => starts.push(`${String(req.body.user)}:${a.attempt}`),
      upstreamHeaders: () => ({ 'x-from-observer': String(req.body.user) }),
      attemptEnd() {},
      firstByte() {},
      finish() {},
    };
  },
};

async function admissionOf(user: string): Promise<(ok: boolean) => void> {
  for (let i = 0; i < 200; i++) {
    const p = pending.find((x) => x.user === user);
    if (p) return p.answer;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no admission for ${user}`);
}

beforeAll(async () => {
  setup = await startHookedGateway(hooks);
  ({ up, client } = setup);
});

afterAll(() => setup.close());

it('sends nothing upstream until admitted, then the request with the admitted observer', async () => {
  up.requests.length = 0;
  const call = client.chat.completions
    .create({ model: 'gpt-4o', user: 'alice', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  const answer = await admissionOf('alice');
  await new Promise((r) => setTimeout(r, 100));
  expect(up.requests).toHaveLength(0);
  answer(true);
  const r = await call;
  expect(r.data.choices[0]!.message.content).toBeTruthy();
  expect(r.response.headers.get('x-ratelimit-remaining-requests')).toBe('7');
  expect(up.requests).toHaveLength(1);
  expect(up.requests[0]!.headers['x-from-observer']).toBe('alice');
  expect(starts).toContain('alice:1');
});

it('a refused admission never reaches the upstream', async () => {
  up.requests.length = 0;
  const call = client.chat.completions
    .create({ model: 'gpt-4o', user: 'bob', messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e);
  (await admissionOf('bob'))(false);
  const err = await call;
  expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  await new Promise((r) => setTimeout(r, 50));
  expect(up.requests).toHaveLength(0);
});

it('a client that leaves during the admission causes no upstream call', async () => {
  up.requests.length = 0;
  const ac = new AbortController();
  const call = client.chat.completions
    .create({ model: 'gpt-4o', user: 'carol', messages: [{ role: 'user', content: 'hi' }] }, { signal: ac.signal })
    .catch((e: unknown) => e);
  const answer = await admissionOf('carol');
  ac.abort();
  await call;
  await new Promise((r) => setTimeout(r, 100)); // the gateway sees the socket close
  answer(true);
  await new Promise((r) => setTimeout(r, 100));
  expect(up.requests).toHaveLength(0);
  expect(starts).not.toContain('carol:1');
});
