/**
 * spec.loadBalancing over real HTTP, driven by the official openai SDK: least-latency follows the faster of two
 * simulated backends and moves when it slows down; least-busy shows that a backend's in-flight count returns
 * to 0 after every way a try can end (ADR 0060).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { LoadBalancing } from '../../contract/gateway-config.js';
import type { GatewayOptions } from '../../dataplane/src/server/gateway.js';
import { FakeUpstream, openAiStream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup(
  loadBalancing: LoadBalancing,
  options: GatewayOptions = {},
  requestTimeoutMs = 10_000,
): Promise<{ a: FakeUpstream; b: FakeUpstream; client: OpenAI }> {
  const a = await FakeUpstream.start('a');
  cleanups.push(() => a.close());
  const b = await FakeUpstream.start('b');
  cleanups.push(() => b.close());
  const gw = await startGateway(
    gatewayConfig({
      providers: [a, b].map((u) => provider({ name: u.name, baseUrl: u.openaiBaseUrl, requestTimeoutMs })),
      routes: [
        {
          ...route({
            name: 'r',
            models: ['gpt-4o'],
            backends: [{ provider: 'a' }, { provider: 'b' }],
            attempts: 1, // a failed try is not retried on the other backend: each try's end is seen alone
          }),
          loadBalancing,
        },
      ],
    }),
    options,
  );
  cleanups.push(() => gw.close());
  return { a, b, client: new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 }) };
}

const messages = [{ role: 'user' as const, content: 'hi' }];

/** One request (a stream when `stream`), read to its end; the provider that answered (x-tollgate-backend). */
async function ask(client: OpenAI, stream: boolean): Promise<string> {
  if (stream) {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages, stream: true })
      .withResponse();
    for await (const _ of data);
    return response.headers.get('x-tollgate-backend')!.split('/')[0]!;
  }
  const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
  return response.headers.get('x-tollgate-backend')!.split('/')[0]!;
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('least-latency', () => {
  it('sends at least 90% to the faster backend and moves within seconds when it slows down', async () => {
    const { a, b, client } = await setup('least-latency');
    // Far apart, so that a CPU hiccup on a busy machine (a's sample spiking) does not make a look like b.
    a.defaultDelayMs = 5;
    b.defaultDelayMs = 250;
    let toA = 0;
    const n = 60;
    // Streams (time to first token) and plain answers (latency) alternate.
    for (let i = 0; i < n; i++) if ((await ask(client, i % 2 === 0)) === 'a') toA++;
    expect(toA / n).toBeGreaterThanOrEqual(0.9);
    expect(b.requests.length).toBeGreaterThan(0); // the slow one was probed, and then left alone

    // a becomes the slow one: the first slow answer is a peak, so traffic moves at once.
    a.defaultDelayMs = 600;
    const shiftStarted = performance.now();
    let inARow = 0;
    let sent = 0;
    for (; sent < 100 && inARow < 5; sent++) inARow = (await ask(client, sent % 2 === 0)) === 'b' ? inARow + 1 : 0;
    const shiftMs = performance.now() - shiftStarted;
    expect(inARow).toBe(5);
    expect(shiftMs).toBeLessThan(5_000);
    let toB = 0;
    const m = 30;
    for (let i = 0; i < m; i++) if ((await ask(client, i % 2 === 0)) === 'b') toB++;
    expect(toB / m).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});

describe('in flight per backend (least-busy)', () => {
  // random 0: ties go to the first backend, a; a try whose end was not counted would leave a busier than b,
  // and the next request would go to b.
  it('returns to 0 after answers, errors, timeouts and client aborts', async () => {
    const { a, b, client } = await setup('least-busy', { random: () => 0 }, 500);
    expect(await ask(client, false)).toBe('a');
    expect(await ask(client, true)).toBe('a');

    // While a try hangs on a, a is the busier one: the next request goes to b.
    a.enqueue({ kind: 'hang' });
    const ac = new AbortController();
    const hanging = client.chat.completions.create({ model: 'gpt-4o', messages }, { signal: ac.signal });
    hanging.catch(() => {});
    await until(() => a.requests.length === 3);
    expect(await ask(client, false)).toBe('b');
    // The client gives up on it (an abort before the upstream's headers).
    ac.abort();
    await a.requests[2]!.done;
    expect(a.requests[2]!.aborted).toBe(true);
    expect(await ask(client, false)).toBe('a');

    // An upstream 500 (not retried: attempts 1).
    a.enqueue({ kind: 'json', status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages })).rejects.toThrow(/boom/);
    expect(await ask(client, false)).toBe('a');

    // The provider's request timeout (500 ms) fires on a hang: 504.
    a.enqueue({ kind: 'hang' });
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages })).rejects.toMatchObject({
      status: 504,
    });
    expect(await ask(client, false)).toBe('a');

    // A stream the client leaves after its first event.
    a.enqueue({ kind: 'sse', chunks: openAiStream('one two').slice(0, 2), end: 'hang' });
    const ac2 = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      { signal: ac2.signal },
    );
    for await (const _ of stream) {
      ac2.abort();
      break;
    }
    const left = a.requests[a.requests.length - 1]!;
    await left.done;
    expect(left.aborted).toBe(true);
    expect(await ask(client, false)).toBe('a');

    // A stream cut by the upstream after its first event: the client gets an error event.
    a.enqueue({ kind: 'sse', chunks: openAiStream('one two').slice(0, 2), end: 'reset' });
    const consume = async () => {
      for await (const _ of await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }));
    };
    await expect(consume()).rejects.toThrow();
    expect(await ask(client, true)).toBe('a');

    // And b's count came back too: with a busy, b (0 in flight) is still the idler one.
    a.enqueue({ kind: 'hang' });
    const ac3 = new AbortController();
    const last = client.chat.completions.create({ model: 'gpt-4o', messages }, { signal: ac3.signal });
    last.catch(() => {});
    const seen = a.requests.length;
    await until(() => a.requests.length === seen + 1);
    expect(await ask(client, true)).toBe('b');
    ac3.abort();
    await a.requests[seen]!.done;
    expect(b.requests.length).toBe(2);
  }, 30_000);
});
