import { describe, expect, it } from '@jest/globals';
import type { GatewayConfig, RouteConfig } from '../../../contract/gateway-config.js';
import { HealthRegistry } from './health.js';
import { backoffMs, parseRetryAfter, pickBackend } from './select.js';
import { compileTables, matchRoute } from './table.js';

const provider = (name: string) => ({
  id: `ai/${name}`,
  namespace: 'ai',
  name,
  type: 'openai' as const,
  baseUrl: 'http://127.0.0.1:1/v1',
  models: [],
  connectTimeoutMs: 1000,
  requestTimeoutMs: 1000,
});

function route(name: string, over: Partial<RouteConfig> = {}, ns = 'ai'): RouteConfig {
  return {
    id: `${ns}/${name}`,
    namespace: ns,
    name,
    models: [{ name: 'gpt-4o', prefix: false }],
    headers: [],
    backends: [{ provider: 'ai/a', weight: 1, priority: 0 }],
    retry: { attempts: 3, backoffBaseMs: 100, backoffMaxMs: 2000, on: ['5xx'] },
    timeoutMs: 1000,
    ...over,
  };
}

function config(routes: RouteConfig[]): GatewayConfig {
  return {
    version: 1,
    hash: 'x',
    providers: [provider('a'), provider('b'), provider('c')],
    routes,
    quotaPolicies: [],
    apiKeys: [],
    requireKeys: false,
  };
}

const noHeaders = () => undefined;

describe('route matching', () => {
  it('prefers exact over prefix, longer prefix over shorter, more header matches over fewer', () => {
    const { byNamespace } = compileTables(
      config([
        route('short', { models: [{ name: 'gpt', prefix: true }] }),
        route('long', { models: [{ name: 'gpt-4o', prefix: true }] }),
        route('exact', { models: [{ name: 'gpt-4o', prefix: false }] }),
        route('team', { models: [{ name: 'gpt-4o', prefix: false }], headers: [{ name: 'x-team', value: 'r' }] }),
      ]),
      new HealthRegistry(),
    );
    const t = byNamespace.get('ai')!;
    expect(matchRoute(t, 'gpt-4o', noHeaders)?.id).toBe('ai/exact');
    expect(matchRoute(t, 'gpt-4o', (n) => (n === 'x-team' ? 'r' : undefined))?.id).toBe('ai/team');
    expect(matchRoute(t, 'gpt-4o-mini', noHeaders)?.id).toBe('ai/long');
    expect(matchRoute(t, 'gpt-3.5', noHeaders)?.id).toBe('ai/short');
    expect(matchRoute(t, 'claude', noHeaders)).toBeUndefined();
    expect(JSON.parse(t.modelsBody).data.map((m: { id: string }) => m.id)).toEqual(['gpt*', 'gpt-4o', 'gpt-4o*']);
  });

  it('keeps namespaces apart and orders equal routes by age', () => {
    const { byNamespace, all } = compileTables(
      config([
        route('new', { createdAt: '2025-02-01T00:00:00Z' }),
        route('old', { createdAt: '2025-01-01T00:00:00Z' }),
        route('other', {}, 'team2'),
      ]),
      new HealthRegistry(),
    );
    expect(matchRoute(byNamespace.get('ai')!, 'gpt-4o', noHeaders)?.id).toBe('ai/old');
    expect(matchRoute(byNamespace.get('team2')!, 'gpt-4o', noHeaders)?.id).toBe('team2/other');
    expect(matchRoute(all, 'gpt-4o', noHeaders)).toBeDefined();
  });
});

describe('backend choice', () => {
  const cfg = config([
    route('r', {
      backends: [
        { provider: 'ai/a', weight: 3, priority: 0 },
        { provider: 'ai/b', weight: 1, priority: 0 },
        { provider: 'ai/c', weight: 1, priority: 1 },
      ],
    }),
  ]);

  it('weights within the lowest tier, then moves to untried ones, then the next tier', () => {
    const health = new HealthRegistry();
    const r = matchRoute(compileTables(cfg, health).byNamespace.get('ai')!, 'gpt-4o', noHeaders)!;
    expect(pickBackend(r, 0, 0, () => 0.1)?.provider.name).toBe('a');
    expect(pickBackend(r, 0, 0, () => 0.9)?.provider.name).toBe('b');
    expect(pickBackend(r, 1, 0, () => 0.1)?.provider.name).toBe('b');
    expect(pickBackend(r, 0b11, 0, () => 0.1)?.provider.name).toBe('c');
    expect(pickBackend(r, 0b111, 0, () => 0.1)?.provider.name).toBe('a');
  });

  it('skips ejected backends, lets them back after the cool-down, and panics when all are ejected', () => {
    let now = 1000;
    const health = new HealthRegistry({ failureThreshold: 2, ejectMs: 100, now: () => now });
    const r = matchRoute(compileTables(cfg, health).byNamespace.get('ai')!, 'gpt-4o', noHeaders)!;
    const [a, b, c] = r.backends;
    a!.health.failure();
    expect(a!.health.isEjected(now)).toBe(false);
    a!.health.failure();
    expect(a!.health.isEjected(now)).toBe(true);
    expect(pickBackend(r, 0, now, () => 0)?.provider.name).toBe('b');
    b!.health.failure();
    b!.health.failure();
    expect(pickBackend(r, 0, now, () => 0)?.provider.name).toBe('c');
    c!.health.failure();
    c!.health.failure();
    expect(pickBackend(r, 0, now, () => 0)?.provider.name).toBe('a'); // panic: all ejected
    now += 101;
    expect(a!.health.isEjected(now)).toBe(false);
    a!.health.failure();
    a!.health.failure();
    expect(a!.health.ejectedUntil - now).toBe(200); // repeated ejection doubles
    a!.health.success();
    expect(a!.health.isEjected(now)).toBe(false);
  });
});

describe('spec.loadBalancing through pickBackend', () => {
  const lb = (loadBalancing: RouteConfig['loadBalancing'], priced = false) => {
    const c = config([
      route('r', {
        loadBalancing,
        backends: [
          { provider: 'ai/a', model: 'gpt-4o', weight: 1, priority: 0 },
          { provider: 'ai/b', model: 'gpt-4o', weight: 1, priority: 0 },
          { provider: 'ai/c', model: 'gpt-4o', weight: 1, priority: 1 },
        ],
      }),
    ]);
    if (priced)
      c.providers = c.providers.map((p, i) => ({
        ...p,
        models: [{ name: 'gpt-4o', pricing: { input: [3, 2, 1][i]!, output: 1 } }],
      }));
    const health = new HealthRegistry({ failureThreshold: 1, now: () => 0 });
    return { health, c, r: matchRoute(compileTables(c, health).byNamespace.get('ai')!, 'gpt-4o', noHeaders)! };
  };
  const req = { model: 'gpt-4o', operation: 'chat' as const, body: { messages: [{ role: 'user', content: 'hi' }] } };

  it('least-busy takes the idler backend of the first tier, the tried-set and ejection still apply', () => {
    const { r } = lb('least-busy');
    const [a, b, c] = r.backends;
    a!.stats.inFlight = 2;
    b!.stats.inFlight = 1;
    c!.stats.inFlight = 0; // idlest of all, but a fallback tier
    expect(pickBackend(r, 0, 0, () => 0)?.provider.name).toBe('b');
    expect(pickBackend(r, 0b010, 0, () => 0)?.provider.name).toBe('a');
    b!.health.failure();
    expect(pickBackend(r, 0, 0, () => 0)?.provider.name).toBe('a');
    expect(pickBackend(r, 0b001, 0, () => 0)?.provider.name).toBe('c');
  });

  it('skip passes a backend over, also when the tried-set is forgotten', () => {
    const { r } = lb('least-busy');
    expect(pickBackend(r, 0, 0, () => 0, 0b001)?.provider.name).toBe('b');
    expect(pickBackend(r, 0b111, 0, () => 0, 0b001)?.provider.name).toBe('b');
    expect(pickBackend(r, 0, 0, () => 0, 0b011)?.provider.name).toBe('c');
    expect(pickBackend(r, 0, 0, () => 0, 0b111)).toBeUndefined();
    const w = lb(undefined).r; // weighted honours it too
    expect(pickBackend(w, 0, 0, () => 0, 0b001)?.provider.name).toBe('b');
  });

  it('least-latency compares the two drawn backends of the tier', () => {
    const { r } = lb('least-latency');
    const [a, b] = r.backends;
    a!.stats.observe(300, 0);
    b!.stats.observe(20, 0);
    expect(pickBackend(r, 0, 0, () => 0)?.provider.name).toBe('b');
    expect(pickBackend(r, 0, 0, () => 0.99)?.provider.name).toBe('b');
    expect(pickBackend(r, 0b010, 0, () => 0)?.provider.name).toBe('a');
  });

  it('lowest-cost prices the expected tokens; without a request every priced backend costs the same', () => {
    const { r } = lb('lowest-cost', true);
    expect(pickBackend(r, 0, 0, () => 0, 0, req)?.provider.name).toBe('b'); // input 2 < 3; c is a fallback tier
    expect(pickBackend(r, 0, 0, () => 0, 0b010, req)?.provider.name).toBe('a');
    expect(pickBackend(r, 0, 0, () => 0)?.provider.name).toBe('a'); // all cost 0: drawn by weight
  });

  it('keeps each backend stats across a reload, as health', () => {
    const { health, c, r } = lb('least-busy');
    r.backends[0]!.stats.inFlight = 4;
    const again = matchRoute(compileTables(c, health).byNamespace.get('ai')!, 'gpt-4o', noHeaders)!;
    expect(again).not.toBe(r);
    expect(again.backends[0]!.stats).toBe(r.backends[0]!.stats);
    expect(again.backends[0]!.stats.inFlight).toBe(4);
    expect(again.loadBalancing).toBe('least-busy');
    expect(lb(undefined).r.loadBalancing).toBe('weighted');
  });
});

describe('retry timing', () => {
  it('backs off exponentially with jitter between base and max', () => {
    const retry = { attempts: 5, backoffBaseMs: 100, backoffMaxMs: 1000, on: [] };
    expect(backoffMs(retry, 1, () => 0.5)).toBe(100);
    expect(backoffMs(retry, 2, () => 1)).toBe(200);
    expect(backoffMs(retry, 3, () => 0)).toBe(100);
    expect(backoffMs(retry, 10, () => 1)).toBe(1000);
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    const now = Date.parse('2026-12-02T10:00:00Z');
    expect(parseRetryAfter(['0'], now)).toBe(0);
    expect(parseRetryAfter('Wed, 02 Dec 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 09:00:00 GMT', now)).toBe(0); // a date past: at once
  });
});
