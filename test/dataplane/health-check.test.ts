/**
 * Active health checks (LLMProvider spec.healthCheck, ADR 0067) over real HTTP with the official OpenAI SDK:
 * the probe timer is injected and fired by the test, and the test waits on each probe's reported outcome,
 * never on time.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { ProviderConfig } from '../../contract/gateway-config.js';
import type { ProbeOutcome, ProbeTimers } from '../../dataplane/src/proxy/health-probe.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Timers the test fires itself. */
class ManualTimers implements ProbeTimers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  private next = 1;
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clear(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** Runs every pending timer (the probes they start report through onProbe). */
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const d of due) d.fn();
  }
}

/** Collects probe outcomes; `next()` resolves with the next one. */
class Probes {
  readonly seen: Array<{ id: string; outcome: ProbeOutcome }> = [];
  private waiting: Array<(o: ProbeOutcome) => void> = [];
  readonly onProbe = (id: string, outcome: ProbeOutcome): void => {
    this.seen.push({ id, outcome });
    for (const w of this.waiting.splice(0)) w(outcome);
  };
  next(): Promise<ProbeOutcome> {
    return new Promise((r) => this.waiting.push(r));
  }
}

async function upstream(name: string): Promise<FakeUpstream> {
  const f = await FakeUpstream.start(name);
  cleanups.push(() => f.close());
  return f;
}

const check = (request: 'completion' | 'models'): NonNullable<ProviderConfig['healthCheck']> => ({
  intervalMs: 10_000,
  timeoutMs: 2_000,
  request,
  ...(request === 'completion' ? { model: 'probe-model' } : {}),
  unhealthyThreshold: 2,
});

async function setup(request: 'completion' | 'models') {
  const down = await upstream('down');
  const other = await upstream('other');
  const timers = new ManualTimers();
  const probes = new Probes();
  const providers = (hc?: ProviderConfig['healthCheck']) => [
    { ...provider({ name: 'down', baseUrl: down.openaiBaseUrl }), ...(hc ? { healthCheck: hc } : {}) },
    provider({ name: 'other', baseUrl: other.openaiBaseUrl }),
  ];
  const routes = [route({ name: 'r', models: ['gpt-4o'], backends: [{ provider: 'down' }, { provider: 'other' }] })];
  const gw: TestGateway = await startGateway(gatewayConfig({ providers: providers(check(request)), routes }), {
    // The weighted choice always draws the first backend of the tier (down) when it is usable.
    random: () => 0,
    healthProbes: { timers, onProbe: probes.onProbe },
  });
  cleanups.push(() => gw.close());
  const client = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  const reload = (hc?: ProviderConfig['healthCheck']) =>
    gw.gateway.applyConfig(gatewayConfig({ providers: providers(hc), routes }));
  return { down, other, timers, probes, gw, client, reload };
}

const chat = (client: OpenAI) =>
  client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();

describe('active health checks', () => {
  it('ejects a down backend before any user request reaches it, and readmits it once a probe succeeds', async () => {
    const { down, other, timers, probes, client } = await setup('completion');
    down.enqueue(
      { kind: 'json', status: 503, body: { error: { message: 'down' } } },
      { kind: 'json', status: 503, body: { error: { message: 'down' } } },
    );
    // The first probe is due at once when the config loads, the next after the interval.
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([0]);
    let outcome = probes.next();
    timers.fire();
    expect(await outcome).toEqual({ ok: false, reason: 'answered 503' });
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([10_000]);
    outcome = probes.next();
    timers.fire();
    expect(await outcome).toEqual({ ok: false, reason: 'answered 503' });

    // Two failed probes (unhealthyThreshold) ejected it: the user's request goes to the other backend.
    const first = await chat(client);
    expect(first.data.choices[0]!.message.content).toBe('hello from other');
    expect(first.response.headers.get('x-tollgate-attempts')).toBe('1');
    expect(other.requests).toHaveLength(1);
    // Only the probes reached it: one-token completions of the probe model, with the provider's credential.
    expect(down.requests).toHaveLength(2);
    for (const r of down.requests) {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/v1/chat/completions');
      expect(r.headers.authorization).toBe('Bearer sk-upstream-test');
      expect(r.body).toMatchObject({ model: 'probe-model', max_tokens: 1 });
    }

    // It recovered: the next probe succeeds and readmits it at once (no cool-down wait).
    outcome = probes.next();
    timers.fire();
    expect(await outcome).toEqual({ ok: true });
    const back = await chat(client);
    expect(back.data.choices[0]!.message.content).toBe('hello from down');
    expect(down.requests).toHaveLength(4);
  });

  it('one failed probe below the threshold does not eject; a 429 counts neither way', async () => {
    const { down, timers, probes, client } = await setup('completion');
    down.enqueue(
      { kind: 'json', status: 500, body: { error: { message: 'flaky' } } },
      { kind: 'json', status: 429, body: { error: { message: 'busy' } } },
    );
    let outcome = probes.next();
    timers.fire();
    expect(await outcome).toEqual({ ok: false, reason: 'answered 500' });
    outcome = probes.next();
    timers.fire();
    expect(await outcome).toEqual({ ok: 'busy' });
    const res = await chat(client);
    expect(res.data.choices[0]!.message.content).toBe('hello from down');
  });

  it('probes the models list with the provider credential; one timer per provider, stopped on reload and close', async () => {
    const { down, timers, probes, gw, reload } = await setup('models');
    const outcome = probes.next();
    timers.fire();
    expect(await outcome).toEqual({ ok: true });
    expect(down.requests).toHaveLength(1);
    expect(down.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models' });
    expect(down.requests[0]!.headers.authorization).toBe('Bearer sk-upstream-test');
    expect(timers.pending.size).toBe(1);
    // A reload with the same check keeps the timer (no new immediate probe).
    const [kept] = timers.pending.keys();
    reload(check('models'));
    expect([...timers.pending.keys()]).toEqual([kept]);
    // A changed check restarts it; a removed one stops it.
    reload(check('completion'));
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([0]);
    reload(undefined);
    expect(timers.pending.size).toBe(0);
    reload(check('models'));
    expect(timers.pending.size).toBe(1);
    await gw.close();
    expect(timers.pending.size).toBe(0);
  });
});
