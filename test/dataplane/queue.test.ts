/**
 * LLMProvider maxConcurrency and its FIFO queue (ADR 0066), over real HTTP with the official SDKs: the fake
 * upstream holds each answer until the test releases it, so the tests wait on "N requests in flight upstream"
 * and "N waiting in the queue", never on time.
 */

import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { ProviderConfig, RouteConfig } from '../../contract/gateway-config.js';
import { AccountingHooks } from '../../dataplane/src/accounting/hooks.js';
import type { RequestObserver } from '../../dataplane/src/pipeline/hooks.js';
import { noopHooks, noopObserver } from '../../dataplane/src/pipeline/hooks.js';
import { ConcurrencyRegistry, type ProviderSlots } from '../../dataplane/src/routing/concurrency.js';
import type { GatewayOptions } from '../../dataplane/src/server/gateway.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function upstream(name: string): Promise<FakeUpstream> {
  const f = await FakeUpstream.start(name);
  cleanups.push(async () => {
    f.release(undefined, true);
    await f.close();
  });
  return f;
}

const capped = (up: FakeUpstream, maxConcurrency: number, maxQueued: number, type?: ProviderConfig['type']) =>
  ({
    ...provider({
      name: up.name,
      baseUrl: type === 'anthropic' ? up.anthropicBaseUrl : up.openaiBaseUrl,
      ...(type ? { type } : {}),
    }),
    maxConcurrency,
    maxQueued,
  }) as ProviderConfig;

async function gateway(providers: ProviderConfig[], routes: RouteConfig[], options: GatewayOptions = {}) {
  const concurrency = new ConcurrencyRegistry();
  const gw = await startGateway(gatewayConfig({ providers, routes }), { concurrency, ...options });
  cleanups.push(() => gw.close());
  return {
    gw,
    slots: (name: string): ProviderSlots => concurrency.get(`ai/${name}`)!,
    openai: new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 }),
    anthropic: new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 }),
  };
}

/** Waits for a condition of the gateway's state (re-checked on each turn of the event loop). */
async function until(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const chat = (client: OpenAI, model = 'gpt-4o', signal?: AbortSignal) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }, { signal });

describe('maxConcurrency and the queue', () => {
  it('a burst of 3 x maxConcurrency all succeed, never more than maxConcurrency in flight upstream', async () => {
    const up = (await upstream('up')).hold();
    const waits: Array<{ provider: string; model: string; seconds: number }> = [];
    const observer: RequestObserver = {
      ...noopObserver,
      queueWait: (p: ProviderConfig, model: string, seconds: number) =>
        waits.push({ provider: p.name, model, seconds }),
    };
    const { openai, slots } = await gateway(
      [capped(up, 2, 4)],
      [route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'up' }] })],
      { hooks: { ...noopHooks, observe: () => observer } },
    );
    const all = Array.from({ length: 6 }, () => chat(openai));
    await up.whenHeld(2);
    await until('4 queued', () => slots('up').queued === 4);
    expect(up.requests).toHaveLength(2);
    expect(slots('up').inFlight).toBe(2);
    // Each release frees two slots; the two oldest waiters take them.
    up.release();
    await up.whenHeld(2);
    await until('2 queued', () => slots('up').queued === 2);
    expect(up.requests).toHaveLength(4);
    up.release();
    await up.whenHeld(2);
    expect(slots('up').queued).toBe(0);
    expect(up.requests).toHaveLength(6);
    up.release();
    const answers = await Promise.all(all);
    expect(answers.map((a) => a.choices[0]!.message.content)).toEqual(Array(6).fill('hello from up'));
    expect(slots('up').inFlight).toBe(0);
    expect(waits).toHaveLength(4);
    for (const w of waits) {
      expect(w).toMatchObject({ provider: 'up', model: 'gpt-4o' });
      expect(w.seconds).toBeGreaterThan(0);
    }
  });

  it('tollgate_queue_wait_seconds{backend} counts the requests that waited (accounting hooks, /metrics)', async () => {
    const up = (await upstream('up')).hold();
    const acc = new AccountingHooks({});
    cleanups.push(() => acc.close());
    const { openai, slots, gw } = await gateway(
      [capped(up, 1, 4)],
      [route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'up' }] })],
      { hooks: acc },
    );
    const all = [chat(openai), chat(openai), chat(openai)];
    await up.whenHeld(1);
    await until('2 queued', () => slots('up').queued === 2);
    up.release(undefined, true);
    await Promise.all(all);
    const text = await (await fetch(gw.metricsUrl)).text();
    expect(text).toContain('# TYPE tollgate_queue_wait_seconds histogram');
    expect(text).toContain('tollgate_queue_wait_seconds_count{backend="up/gpt-4o"} 2');
  });

  it('a full queue answers 429 queue_full with retry-after, in the OpenAI and the Anthropic format', async () => {
    const up = (await upstream('up')).hold();
    const ant = (await upstream('ant')).hold();
    const { openai, anthropic, slots } = await gateway(
      [capped(up, 1, 1), capped(ant, 1, 1, 'anthropic')],
      [
        route({ name: 'o', models: ['gpt-4o'], backends: [{ provider: 'up' }] }),
        route({ name: 'a', models: ['claude-test'], backends: [{ provider: 'ant' }] }),
      ],
    );
    const msg = () =>
      anthropic.messages.create({
        model: 'claude-test',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      });
    const inFlight = [chat(openai), chat(openai), msg(), msg()];
    await up.whenHeld(1);
    await ant.whenHeld(1);
    await until('one queued on each', () => slots('up').queued === 1 && slots('ant').queued === 1);

    const o = await chat(openai).catch((e: unknown) => e);
    expect(o).toBeInstanceOf(OpenAI.APIError);
    const oe = o as InstanceType<typeof OpenAI.APIError>;
    expect(oe.status).toBe(429);
    expect(oe.headers?.get('retry-after')).toBe('1');
    expect(oe.code).toBe('queue_full');
    expect(oe.type).toBe('rate_limit_error');
    expect(oe.message).toContain('maxConcurrency (1)');

    const a = await msg().catch((e: unknown) => e);
    expect(a).toBeInstanceOf(Anthropic.RateLimitError);
    const ae = a as InstanceType<typeof Anthropic.RateLimitError>;
    expect(ae.status).toBe(429);
    expect(ae.headers?.get('retry-after')).toBe('1');
    expect((ae.error as { error: { type: string } }).error.type).toBe('rate_limit_error');

    // The refused requests never reached an upstream; the queued ones are served once released.
    up.release(undefined, true);
    ant.release(undefined, true);
    await Promise.all(inFlight);
    expect(up.requests).toHaveLength(2);
    expect(ant.requests).toHaveLength(2);
  });

  it('a queued request whose client leaves is removed from the queue and never sent upstream', async () => {
    const up = (await upstream('up')).hold();
    const { openai, slots } = await gateway(
      [capped(up, 1, 4)],
      [route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'up' }] })],
    );
    const first = chat(openai);
    await up.whenHeld(1);
    const leaving = new AbortController();
    const gone = chat(openai, 'gpt-4o', leaving.signal).catch((e: unknown) => e);
    await until('one queued', () => slots('up').queued === 1);
    leaving.abort();
    expect(await gone).toBeInstanceOf(OpenAI.APIUserAbortError);
    await until('the queue to empty', () => slots('up').queued === 0);
    up.release(undefined, true);
    await first;
    // Had the gone request kept its place it would have been sent before this one (FIFO).
    await chat(openai);
    expect(up.requests).toHaveLength(2);
    expect(slots('up').inFlight).toBe(0);
  });

  it("the route's timeout while queued answers 504 queue_timeout, with nothing sent upstream", async () => {
    const up = (await upstream('up')).hold();
    const { openai, slots } = await gateway(
      [capped(up, 1, 4)],
      [
        route({ name: 'long', models: ['gpt-4o'], backends: [{ provider: 'up' }] }),
        route({ name: 'short', models: ['gpt-4o-mini'], backends: [{ provider: 'up' }], timeoutMs: 300 }),
      ],
    );
    const first = chat(openai);
    await up.whenHeld(1);
    const e = await chat(openai, 'gpt-4o-mini').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    const ge = e as InstanceType<typeof OpenAI.APIError>;
    expect(ge.status).toBe(504);
    expect(ge.code).toBe('queue_timeout');
    expect(ge.message).toContain('300 ms');
    expect(slots('up').queued).toBe(0);
    expect(up.requests).toHaveLength(1);
    up.release(undefined, true);
    await first;
  });

  it('a request still queued when the shutdown grace ends gets 503 shutting_down and is never sent', async () => {
    const up = (await upstream('up')).hold();
    const { openai, slots, gw } = await gateway(
      [capped(up, 1, 4)],
      [route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'up' }] })],
      { closeGraceMs: 100 },
    );
    const first = chat(openai).catch((e: unknown) => e);
    await up.whenHeld(1);
    const queued = chat(openai).catch((e: unknown) => e);
    await until('one queued', () => slots('up').queued === 1);
    await gw.close();
    const e = (await queued) as InstanceType<typeof OpenAI.APIError>;
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(e.status).toBe(503);
    expect(e.code).toBe('shutting_down');
    expect(slots('up').queued).toBe(0);
    expect(up.requests).toHaveLength(1);
    await first;
  });

  it('uses another backend of the tier with room before queueing, never a fallback tier', async () => {
    const a = (await upstream('a')).hold();
    const b = (await upstream('b')).hold();
    const c = await upstream('c');
    const { openai, slots } = await gateway(
      [capped(a, 1, 4), capped(b, 1, 4), provider({ name: 'c', baseUrl: c.openaiBaseUrl })],
      [
        route({
          name: 'r',
          models: ['gpt-4o'],
          backends: [{ provider: 'a' }, { provider: 'b' }, { provider: 'c', priority: 1 }],
        }),
      ],
      // The weighted choice always draws the first backend of the tier (a).
      { random: () => 0 },
    );
    const first = chat(openai);
    await a.whenHeld(1);
    // a is full: the second goes to b, which has room.
    const second = chat(openai);
    await b.whenHeld(1);
    // Both full: the third waits in a's queue rather than going to the fallback tier c.
    const third = chat(openai);
    await until('one queued on a', () => slots('a').queued === 1);
    expect(c.requests).toHaveLength(0);
    a.release(undefined, true);
    b.release(undefined, true);
    await Promise.all([first, second, third]);
    expect(a.requests).toHaveLength(2);
    expect(b.requests).toHaveLength(1);
    expect(c.requests).toHaveLength(0);
  });
});
