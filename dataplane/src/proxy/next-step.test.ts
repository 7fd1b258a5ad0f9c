/** docs/routing.md "Retries" and "Choosing a backend", one row per rule: what nextStep() does after a failed try. */
import { describe, expect, it } from '@jest/globals';
import type { GatewayConfig, RetryCondition, RouteConfig } from '../../../contract/gateway-config.js';
import { HealthRegistry } from '../routing/health.js';
import { backoffMs } from '../routing/select.js';
import { type CompiledRoute, compileTables, matchRoute } from '../routing/table.js';
import { nextStep, type TriedFailure } from './next-step.js';

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

const retry = { attempts: 4, backoffBaseMs: 100, backoffMaxMs: 400, on: ['429', '5xx', 'timeout'] as RetryCondition[] };

/** a, b in tier 0, c in tier 1. */
function compiled(over: Partial<RouteConfig['retry']> = {}, health = new HealthRegistry()): CompiledRoute {
  const route: RouteConfig = {
    id: 'ai/r',
    namespace: 'ai',
    name: 'r',
    models: [{ name: 'gpt-4o', prefix: false }],
    headers: [],
    backends: [
      { provider: 'ai/a', weight: 1, priority: 0 },
      { provider: 'ai/b', weight: 1, priority: 0 },
      { provider: 'ai/c', weight: 1, priority: 1 },
    ],
    retry: { ...retry, ...over },
    timeoutMs: 10_000,
  };
  const config: GatewayConfig = {
    version: 1,
    hash: 'x',
    providers: [provider('a'), provider('b'), provider('c')],
    routes: [route],
    quotaPolicies: [],
    apiKeys: [],
    requireKeys: false,
  };
  return matchRoute(compileTables(config, health).byNamespace.get('ai')!, 'gpt-4o', () => undefined)!;
}

const failed = (condition: RetryCondition | undefined, retryAfterMs?: number): TriedFailure => ({
  condition,
  retryAfterMs,
});
const half = () => 0.5;
const bit = (r: CompiledRoute, name: string) => 1 << r.backends.find((b) => b.provider.name === name)!.index;
const named = (r: CompiledRoute, name: string) => r.backends.find((b) => b.provider.name === name)!;

describe('whether to try again', () => {
  const r = compiled();
  const a = named(r, 'a');
  const rows: Array<[string, TriedFailure, number, boolean]> = [
    ['a 5xx with attempts left is retried', failed('5xx'), 1, true],
    ['a 429 with attempts left is retried', failed('429'), 1, true],
    ['a timeout with attempts left is retried', failed('timeout'), 1, true],
    ['`retry.attempts` is the total number of tries: the 4th failure of 4 is final', failed('5xx'), 4, false],
    ['a condition not listed in retry.on is never retried', failed('connect-failure'), 1, false],
    ['a failure that falls under no condition (other 4xx, client gone) is never retried', failed(undefined), 1, false],
  ];
  it.each(rows)('%s', (_rule, f, attempts, retried) => {
    expect(nextStep(r, f, attempts, bit(r, 'a'), a, 10_000, 0, half) !== undefined).toBe(retried);
  });
});

describe('where the next try goes', () => {
  const r = compiled();
  it('a failed try moves to another usable backend of the same tier', () => {
    expect(nextStep(r, failed('5xx'), 1, bit(r, 'a'), named(r, 'a'), 10_000, 0, half)?.backend.provider.name).toBe('b');
  });
  it('then to the next tier', () => {
    const tried = bit(r, 'a') | bit(r, 'b');
    expect(nextStep(r, failed('5xx'), 2, tried, named(r, 'b'), 10_000, 0, half)?.backend.provider.name).toBe('c');
  });
  it('when every backend was tried and attempts remain, the choice starts over', () => {
    const tried = bit(r, 'a') | bit(r, 'b') | bit(r, 'c');
    const next = nextStep(r, failed('5xx'), 3, tried, named(r, 'c'), 10_000, 0, half)?.backend.provider.name;
    expect(['a', 'b']).toContain(next);
  });
  it('an ejected backend is skipped while another of the route is usable', () => {
    const health = new HealthRegistry({ failureThreshold: 1, now: () => 0 });
    const h = compiled({}, health);
    named(h, 'b').health.failure();
    expect(nextStep(h, failed('5xx'), 1, bit(h, 'a'), named(h, 'a'), 10_000, 0, half)?.backend.provider.name).toBe('c');
  });
});

describe('how long to wait', () => {
  it('between tries: backoff with jitter, base × 2^(n-1) capped at max, drawn between base and that cap', () => {
    const r = compiled();
    const rows: Array<[attempts: number, random: number, delay: number]> = [
      [1, 0.5, 100],
      [2, 0, 100],
      [2, 1, 200],
      [3, 0.5, 250],
      [3, 1, 400],
    ];
    for (const [attempts, random, delay] of rows) {
      const step = nextStep(r, failed('5xx'), attempts, bit(r, 'a'), named(r, 'a'), 10_000, 0, () => random);
      expect(step?.delayMs).toBe(delay);
      expect(step?.delayMs).toBe(backoffMs(r.config.retry, attempts, () => random));
    }
  });

  it('Retry-After on the same backend is honoured when it fits the remaining timeout', () => {
    const health = new HealthRegistry({ failureThreshold: 1, now: () => 0 });
    const r = compiled({}, health);
    named(r, 'b').health.failure();
    named(r, 'c').health.failure();
    const a = named(r, 'a');
    expect(nextStep(r, failed('429', 1500), 1, bit(r, 'a'), a, 10_000, 0, half)).toEqual({ backend: a, delayMs: 1500 });
    expect(nextStep(r, failed('5xx', 1500), 1, bit(r, 'a'), a, 10_000, 0, half)).toEqual({ backend: a, delayMs: 1500 });
  });
  it('Retry-After on the same backend that does not fit: give up at once (no wasted wait)', () => {
    const health = new HealthRegistry({ failureThreshold: 1, now: () => 0 });
    const r = compiled({}, health);
    named(r, 'b').health.failure();
    named(r, 'c').health.failure();
    expect(nextStep(r, failed('429', 10_000), 1, bit(r, 'a'), named(r, 'a'), 10_000, 0, half)).toBeUndefined();
    expect(nextStep(r, failed('429', 20_000), 1, bit(r, 'a'), named(r, 'a'), 10_000, 0, half)).toBeUndefined();
  });
  it('a try on a different backend uses the normal backoff, whatever the Retry-After', () => {
    const r = compiled();
    const step = nextStep(r, failed('429', 5000), 1, bit(r, 'a'), named(r, 'a'), 10_000, 0, half);
    expect(step?.backend.provider.name).toBe('b');
    expect(step?.delayMs).toBe(100);
  });
  it('the wait never runs past the route timeout: a backoff that does not fit gives up', () => {
    const r = compiled();
    const a = named(r, 'a');
    // Attempt 3, random 0.5: 100 + 0.5 × (400 − 100) = 250 ms.
    expect(nextStep(r, failed('5xx'), 3, bit(r, 'a'), a, 251, 0, half)?.delayMs).toBe(250);
    expect(nextStep(r, failed('5xx'), 3, bit(r, 'a'), a, 250, 0, half)).toBeUndefined();
    expect(nextStep(r, failed('5xx'), 3, bit(r, 'a'), a, 0, 0, half)).toBeUndefined();
  });
});
