import { describe, expect, it } from '@jest/globals';
import type { GatewayConfig, ProviderConfig } from '../../../../contract/gateway-config.js';
import type { CapacityHold, CapacitySkip } from '../../proxy/types.js';
import { HealthRegistry } from '../../routing/health.js';
import { pickBackend } from '../../routing/select.js';
import { compileTables } from '../../routing/table.js';
import { parseReset, readRateLimitHeaders } from './rate-limit-headers.js';
import { CapacityService } from './service.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const MIN = 60_000;

const raw = (h: Record<string, string>): Buffer[] =>
  Object.entries(h).flatMap(([k, v]) => [Buffer.from(k, 'latin1'), Buffer.from(v, 'latin1')]);

function provider(name: string, over: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    id: `ai/${name}`,
    namespace: 'ai',
    name,
    type: 'openai',
    baseUrl: 'http://127.0.0.1:1/v1',
    models: [],
    connectTimeoutMs: 1000,
    requestTimeoutMs: 1000,
    ...over,
  } as ProviderConfig;
}

const isSkip = (r: unknown): r is CapacitySkip => typeof r === 'object' && r !== null && 'reason' in r;

describe('upstream rate-limit headers', () => {
  it('reads Go durations, plain seconds and RFC 3339 instants as reset times', () => {
    expect(parseReset('1s', T0)).toBe(T0 + 1000);
    expect(parseReset('6m0s', T0)).toBe(T0 + 360_000);
    expect(parseReset('12ms', T0)).toBe(T0 + 12);
    expect(parseReset('1h2m3.5s', T0)).toBe(T0 + 3_723_500);
    expect(parseReset('20', T0)).toBe(T0 + 20_000);
    expect(parseReset('2026-12-04T12:00:30Z', T0)).toBe(T0 + 30_000);
    expect(parseReset('soon', T0)).toBe(-1);
    expect(parseReset('', T0)).toBe(-1);
  });

  it('reads the OpenAI/Azure and Anthropic families; -1 (Azure "unknown") and junk are not readings', () => {
    expect(
      readRateLimitHeaders(
        raw({
          'content-type': 'application/json',
          'X-RateLimit-Remaining-Requests': '0',
          'x-ratelimit-remaining-tokens': '1500',
          'x-ratelimit-reset-requests': '2s',
          'x-ratelimit-reset-tokens': '6m0s',
        }),
        T0,
      ),
    ).toEqual({ requestsRemaining: 0, requestsResetAt: T0 + 2000, tokensRemaining: 1500, tokensResetAt: T0 + 360_000 });
    expect(
      readRateLimitHeaders(
        raw({
          'anthropic-ratelimit-requests-remaining': '999',
          'anthropic-ratelimit-requests-reset': '2026-12-04T12:00:59Z',
          'anthropic-ratelimit-tokens-remaining': '0',
          'anthropic-ratelimit-tokens-reset': '2026-12-04T12:00:10Z',
        }),
        T0,
      ),
    ).toEqual({ requestsRemaining: 999, requestsResetAt: T0 + 59_000, tokensRemaining: 0, tokensResetAt: T0 + 10_000 });
    expect(readRateLimitHeaders(raw({ 'x-ratelimit-remaining-tokens': '-1' }), T0)?.tokensRemaining).toBe(-1);
    expect(readRateLimitHeaders(raw({ 'content-type': 'text/plain', age: '1' }), T0)).toBeUndefined();
  });
});

describe('capacity service (in process)', () => {
  function service(providers: ProviderConfig[]) {
    let now = T0;
    const s = new CapacityService({ now: () => now, defaultMaxTokens: 100 });
    s.apply(providers);
    return { s, at: (t: number) => (now = t) };
  }

  it('counts a request limit across tries: exactly N admitted, then a capacity skip until the window frees', async () => {
    const p = provider('a', { limits: [{ kind: 'requests', amount: 3, window: { type: 'sliding', ms: MIN } }] });
    const { s, at } = service([p]);
    const answers = [0, 1, 2, 3].map(() => s.admit(p, 'gpt-4o', 10, T0));
    expect(answers.slice(0, 3).every((r) => !isSkip(r))).toBe(true);
    const refused = answers[3];
    expect(isSkip(refused) && refused.reason).toBe('capacity');
    expect(isSkip(refused) && refused.retryAfterMs).toBeGreaterThan(0);
    expect(isSkip(refused) && refused.retryAfterMs).toBeLessThanOrEqual(MIN + 1000);
    expect(await s.usage('ai/a')).toEqual([{ kind: 'requests', used: 3, limit: 3 }]);
    at(T0 + MIN + 2000);
    expect(isSkip(s.admit(p, 'gpt-4o', 10, T0 + MIN + 2000))).toBe(false);
  });

  it('token limits are strict (reservation must fit) and settle to real tokens; model limits add to the provider', async () => {
    const p = provider('a', {
      limits: [{ kind: 'tokens', amount: 1000, window: { type: 'sliding', ms: MIN } }],
      models: [{ name: 'gpt-4o', limits: [{ kind: 'tokens', amount: 500, window: { type: 'sliding', ms: MIN } }] }],
    });
    const { s } = service([p]);
    const first = s.admit(p, 'gpt-4o', 400, T0) as CapacityHold;
    expect(isSkip(first)).toBe(false);
    // 400 + 400 > 500 (the model's limit): refused although the provider's 1000 has room.
    expect(isSkip(s.admit(p, 'gpt-4o', 400, T0))).toBe(true);
    // Another model of the provider only has the provider's limit.
    expect(isSkip(s.admit(p, 'gpt-4o-mini', 400, T0))).toBe(false);
    await first.settle({ tokens: 50, costNano: 0 });
    // The provider's counter: 50 (settled) + 400 (gpt-4o-mini); the model's own: 50.
    expect(await s.usage('ai/a')).toEqual([{ kind: 'tokens', used: 450, limit: 1000 }]);
    expect(await s.usage('ai/a', 'gpt-4o')).toEqual([{ kind: 'tokens', used: 50, limit: 500 }]);
    expect(isSkip(s.admit(p, 'gpt-4o', 400, T0))).toBe(false);
  });

  it('learns from headers: no requests left skips until the reset; fewer tokens left than needed skips too', () => {
    const p = provider('a', { limits: [] });
    const { s } = service([p]);
    expect(isSkip(s.admit(p, 'gpt-4o', 10, T0))).toBe(false);
    s.learn(p, 'gpt-4o', raw({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2s' }), T0);
    const skip = s.admit(p, 'gpt-4o', 10, T0 + 500);
    expect(skip).toEqual({ reason: 'rate_limit_headers', retryAfterMs: 1500 });
    // Per upstream model: another model of the same provider is not affected.
    expect(isSkip(s.admit(p, 'gpt-4o-mini', 10, T0 + 500))).toBe(false);
    expect(isSkip(s.admit(p, 'gpt-4o', 10, T0 + 2000))).toBe(false);
    s.learn(p, 'gpt-4o', raw({ 'x-ratelimit-remaining-tokens': '50', 'x-ratelimit-reset-tokens': '1s' }), T0 + 2000);
    expect(isSkip(s.admit(p, 'gpt-4o', 40, T0 + 2100))).toBe(false);
    expect(s.admit(p, 'gpt-4o', 60, T0 + 2100)).toEqual({ reason: 'rate_limit_headers', retryAfterMs: 900 });
    expect(isSkip(s.admit(p, 'gpt-4o', 60, T0 + 3000))).toBe(false);
  });

  it('a provider without limits is not known to the service (the call never asks for it)', () => {
    const { s } = service([provider('a')]);
    expect(s.active).toBe(false);
  });

  it('estimates a try as rough input plus max_tokens (or the default)', () => {
    const { s } = service([]);
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(400) }] };
    const withMax = s.estimate('chat', { ...body, max_tokens: 7 });
    const without = s.estimate('chat', body);
    expect(without - withMax).toBe(100 - 7);
    expect(withMax).toBeGreaterThan(7);
  });
});

describe('pickBackend skip mask', () => {
  const cfg: GatewayConfig = {
    version: 1,
    hash: 'x',
    providers: [provider('a'), provider('b'), provider('c')],
    routes: [
      {
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
        retry: { attempts: 3, backoffBaseMs: 1, backoffMaxMs: 1, on: ['5xx'] },
        timeoutMs: 1000,
      },
    ],
    quotaPolicies: [],
    apiKeys: [],
    requireKeys: false,
  };
  const r = compileTables(cfg, new HealthRegistry()).byNamespace.get('ai')!.exact.get('gpt-4o')![0]!;

  it('never picks a skipped backend: the tier mate, then the next tier, then none', () => {
    expect(pickBackend(r, 0, 0, () => 0.1, 0b001)?.provider.name).toBe('b');
    expect(pickBackend(r, 0, 0, () => 0.1, 0b011)?.provider.name).toBe('c');
    expect(pickBackend(r, 0, 0, () => 0.1, 0b111)).toBeUndefined();
  });

  it('keeps skipped backends out when the tried-set starts over', () => {
    // a and c tried, b skipped: starting over may only pick a or c again.
    expect(pickBackend(r, 0b101, 0, () => 0.1, 0b010)?.provider.name).toBe('a');
    expect(pickBackend(r, 0b101, 0, () => 0.9, 0b010)?.provider.name).toBe('a');
    expect(pickBackend(r, 0b110, 0, () => 0.9, 0b001)?.provider.name).toBe('b');
  });
});
