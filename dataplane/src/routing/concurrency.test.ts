import { describe, expect, it } from '@jest/globals';
import type { GatewayConfig, ProviderConfig, RouteConfig } from '../../../contract/gateway-config.js';
import { ConcurrencyRegistry, ProviderSlots, roomInTier } from './concurrency.js';
import { HealthRegistry } from './health.js';
import { compileTables } from './table.js';

const provider = (name: string, maxConcurrency?: number): ProviderConfig => ({
  id: `ai/${name}`,
  namespace: 'ai',
  name,
  type: 'openai',
  baseUrl: 'http://127.0.0.1:1/v1',
  models: [],
  connectTimeoutMs: 1000,
  requestTimeoutMs: 1000,
  ...(maxConcurrency === undefined ? {} : { maxConcurrency, maxQueued: 2 }),
});

describe('ProviderSlots', () => {
  it('caps in-flight tries and hands a freed slot to the oldest waiter (FIFO), never to a newcomer', async () => {
    const s = new ProviderSlots('ai/a', 2, 3);
    expect([s.tryAcquire(), s.tryAcquire(), s.tryAcquire()]).toEqual([true, true, false]);
    const order: string[] = [];
    const w1 = s.wait(10_000)!;
    const w2 = s.wait(10_000)!;
    void w1.done.then((o) => order.push(`w1:${o}`));
    void w2.done.then((o) => order.push(`w2:${o}`));
    expect(s.queued).toBe(2);
    s.release();
    // The slot went to w1: still two in flight, and a newcomer finds no room.
    expect(s.inFlight).toBe(2);
    expect(s.tryAcquire()).toBe(false);
    await w1.done;
    expect(order).toEqual(['w1:granted']);
    s.release();
    await w2.done;
    expect(order).toEqual(['w1:granted', 'w2:granted']);
    s.release();
    s.release();
    expect(s.inFlight).toBe(0);
    expect(s.queued).toBe(0);
  });

  it('bounds the queue by count; a cancelled or timed-out waiter leaves it without a slot', async () => {
    const s = new ProviderSlots('ai/a', 1, 2);
    s.tryAcquire();
    const a = s.wait(10_000)!;
    const b = s.wait(1)!;
    expect(s.wait(10_000)).toBeUndefined();
    a.cancel();
    expect(await a.done).toBe('cancelled');
    expect(await b.done).toBe('timeout');
    expect(s.queued).toBe(0);
    s.release();
    expect(s.inFlight).toBe(0);
    const c = s.wait(10_000)!;
    c.cancel(true);
    expect(await c.done).toBe('shutdown');
  });

  it('follows a cap changed by a reload: raised lets waiters in, lowered lets in-flight tries drain first', async () => {
    const reg = new ConcurrencyRegistry();
    const s = reg.sync([provider('a', 1)]).get('ai/a')!;
    s.tryAcquire();
    const w = s.wait(10_000)!;
    // Same provider, higher cap: the same slots object (its waiter keeps its place) with room for it.
    expect(reg.sync([provider('a', 2)]).get('ai/a')).toBe(s);
    expect(await w.done).toBe('granted');
    expect(s.inFlight).toBe(2);
    reg.sync([provider('a', 1)]);
    const w2 = s.wait(10_000)!;
    s.release(); // 2 → 1: above the new cap, nobody is let in
    expect(s.queued).toBe(1);
    s.release(); // the slot now goes to the waiter
    expect(await w2.done).toBe('granted');
    expect(s.inFlight).toBe(1);
    // A provider without a cap has no entry.
    expect(reg.sync([provider('a')]).get('ai/a')).toBeUndefined();
  });
});

describe('roomInTier (which backend a request uses when the chosen one is at its cap)', () => {
  const tables = (providers: ProviderConfig[], backends: RouteConfig['backends']) => {
    const reg = new ConcurrencyRegistry();
    const health = new HealthRegistry({ now: () => 0 });
    const config: GatewayConfig = {
      version: 1,
      hash: 'x',
      providers,
      routes: [
        {
          id: 'ai/r',
          namespace: 'ai',
          name: 'r',
          models: [{ name: 'gpt-4o', prefix: false }],
          headers: [],
          backends,
          retry: { attempts: 3, backoffBaseMs: 1, backoffMaxMs: 1, on: ['5xx'] },
          timeoutMs: 1000,
        },
      ],
      quotaPolicies: [],
      apiKeys: [],
      requireKeys: false,
    };
    const route = compileTables(config, health, reg.sync(providers)).all.exact.get('gpt-4o')![0]!;
    return { route, reg };
  };
  const b = (p: string, priority = 0, weight = 1, model?: string) => ({ provider: `ai/${p}`, priority, weight, model });

  // Each row: providers (with caps), the route's backends, which providers are full, the tried-mask,
  // ejected backends, the random draw → the backend used (provider/model), or undefined = wait in the queue.
  const rows: Array<{
    name: string;
    providers: ProviderConfig[];
    backends: RouteConfig['backends'];
    full: string[];
    tried?: number;
    ejected?: number[];
    random?: number;
    want: string | undefined;
  }> = [
    {
      name: 'an uncapped backend of the tier takes it',
      providers: [provider('a', 1), provider('b')],
      backends: [b('a'), b('b')],
      full: ['a'],
      want: 'b',
    },
    {
      name: 'a capped backend of the tier with a free slot takes it',
      providers: [provider('a', 1), provider('b', 1)],
      backends: [b('a'), b('b')],
      full: ['a'],
      want: 'b',
    },
    {
      name: 'every backend of the tier full: wait, even with room in a lower tier',
      providers: [provider('a', 1), provider('b', 1), provider('c')],
      backends: [b('a'), b('b'), b('c', 1)],
      full: ['a', 'b'],
      want: undefined,
    },
    {
      name: 'another model of the same provider shares its cap: no room there',
      providers: [provider('a', 1)],
      backends: [b('a', 0, 1, 'm1'), b('a', 0, 1, 'm2')],
      full: ['a'],
      want: undefined,
    },
    {
      name: 'a backend this request already tried is not used for room',
      providers: [provider('a', 1), provider('b')],
      backends: [b('a'), b('b')],
      full: ['a'],
      tried: 0b10,
      want: undefined,
    },
    {
      name: 'an ejected backend is not used for room',
      providers: [provider('a', 1), provider('b')],
      backends: [b('a'), b('b')],
      full: ['a'],
      ejected: [1],
      want: undefined,
    },
    {
      name: 'several with room: weighted like the tier (draw low → first)',
      providers: [provider('a', 1), provider('b'), provider('c')],
      backends: [b('a'), b('b', 0, 1), b('c', 0, 3)],
      full: ['a'],
      random: 0.2,
      want: 'b',
    },
    {
      name: 'several with room: weighted like the tier (draw high → heavier)',
      providers: [provider('a', 1), provider('b'), provider('c')],
      backends: [b('a'), b('b', 0, 1), b('c', 0, 3)],
      full: ['a'],
      random: 0.5,
      want: 'c',
    },
    {
      name: 'a chosen backend in a fallback tier looks for room in that tier only',
      providers: [provider('a'), provider('b', 1), provider('c')],
      backends: [b('a'), b('b', 1), b('c', 1)],
      full: ['b'],
      tried: 0b1,
      want: 'c',
    },
  ];

  it.each(rows)('$name', (row) => {
    const { route, reg } = tables(row.providers, row.backends);
    for (const p of row.full) {
      const s = reg.get(`ai/${p}`)!;
      while (s.tryAcquire());
    }
    for (const i of row.ejected ?? []) route.backends[i]!.health.ejectedUntil = 1;
    const chosen = route.backends.find((x) => row.full.includes(x.provider.name))!;
    const got = roomInTier(route, chosen, row.tried ?? 0, 0, () => row.random ?? 0);
    expect(got?.provider.name).toBe(row.want);
  });
});

describe('SlotWaiter', () => {
  it('a cancel after the handover is noted for the call to give the slot back (not lost, not used)', async () => {
    const s = new ProviderSlots('ai/a', 1, 2);
    s.tryAcquire();
    const w = s.wait(10_000)!;
    s.release();
    w.cancel();
    expect(await w.done).toBe('granted');
    expect(w.lateCancel).toBe('cancelled');
    expect(s.inFlight).toBe(1);
  });
});
