import type { QuotaPolicyConfig } from '../../../../contract/gateway-config.js';
import { outcome, quotaPolicy } from '../../../../test/support/quota.js';
import { GatewayError } from '../../errors.js';
import { QuotaService, type QuotaTicket } from './service.js';
import type { CounterStore } from './store.js';

const MIN = 60_000;

const policy = (over: Partial<QuotaPolicyConfig> = {}) =>
  quotaPolicy({
    id: 'ai/team',
    name: 'team',
    limits: [{ kind: 'requests', amount: 3, window: { type: 'sliding', ms: MIN } }],
    keys: ['ai/k1', 'ai/k2'],
    ...over,
  });

const req = (keyId: string | undefined, model = 'gpt-4o', reserveTokens = 0, reserveCostNano = 0) => ({
  keyId,
  model,
  reserveTokens,
  reserveCostNano,
});

describe('QuotaService (in-process)', () => {
  let clock = Date.UTC(2026, 10, 23, 12, 0, 0);
  const rejected: string[] = [];
  let svc: QuotaService;
  beforeEach(() => {
    clock = Date.UTC(2026, 10, 23, 12, 0, 0);
    rejected.length = 0;
    svc = new QuotaService({ now: () => clock, metrics: { quotaRejected: (id) => rejected.push(id) } });
  });
  afterEach(() => svc.close());

  test('ungoverned requests cost nothing and return undefined synchronously', () => {
    svc.applyPolicies([policy()]);
    expect(svc.admit(req('ai/other'))).toBeUndefined();
    expect(svc.admit(req(undefined))).toBeUndefined();
  });

  test('admitNow answers at once: tickets, then the 429 thrown, with the same counters as admit', async () => {
    svc.applyPolicies([policy()]);
    expect(svc.admitNow(req('ai/other'))).toBeUndefined();
    expect((svc.admitNow(req('ai/k1')) as QuotaTicket).headers['x-ratelimit-remaining-requests']).toBe('2');
    expect(await outcome(svc.admit(req('ai/k1')))).not.toBeInstanceOf(GatewayError);
    expect((svc.admitNow(req('ai/k2')) as QuotaTicket).headers['x-ratelimit-remaining-requests']).toBe('0');
    let thrown: unknown;
    try {
      svc.admitNow(req('ai/k1'));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).code).toBe('quota_exceeded');
    expect((thrown as GatewayError).headers?.['retry-after']).toBeDefined();
    expect(rejected).toEqual(['ai/team']);
  });

  test('shared requests limit: exactly N, then 429 with retry-after and headers', async () => {
    svc.applyPolicies([policy()]);
    const a = await outcome(svc.admit(req('ai/k1')));
    expect(a).not.toBeInstanceOf(GatewayError);
    expect((a as QuotaTicket).headers).toEqual({
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '2',
    });
    await outcome(svc.admit(req('ai/k2')));
    const c = (await outcome(svc.admit(req('ai/k1')))) as QuotaTicket;
    expect(c.headers['x-ratelimit-remaining-requests']).toBe('0');
    const d = await outcome(svc.admit(req('ai/k2')));
    expect(d).toBeInstanceOf(GatewayError);
    const err = d as GatewayError;
    expect(err.code).toBe('quota_exceeded');
    expect(err.status).toBe(429);
    expect(err.headers?.['x-ratelimit-remaining-requests']).toBe('0');
    // All three landed in the current bucket: it leaves the 1m window about a minute later.
    const ra = Number(err.headers?.['retry-after']);
    expect(ra).toBeGreaterThanOrEqual(60);
    expect(ra).toBeLessThanOrEqual(62);
    expect(rejected).toEqual(['ai/team']);
  });

  test('the window slides: room again once the old bucket expires, not before', async () => {
    svc.applyPolicies([policy()]);
    for (let i = 0; i < 3; i++) await outcome(svc.admit(req('ai/k1')));
    clock += 30_000;
    expect(await outcome(svc.admit(req('ai/k1')))).toBeInstanceOf(GatewayError);
    clock += 32_000;
    expect(await outcome(svc.admit(req('ai/k1')))).not.toBeInstanceOf(GatewayError);
  });

  test('perKey scope: a counter per key', async () => {
    svc.applyPolicies([policy({ scope: 'perKey' })]);
    for (let i = 0; i < 3; i++) await outcome(svc.admit(req('ai/k1')));
    expect(await outcome(svc.admit(req('ai/k1')))).toBeInstanceOf(GatewayError);
    expect(await outcome(svc.admit(req('ai/k2')))).not.toBeInstanceOf(GatewayError);
  });

  test('model filter: exact and prefix', () => {
    svc.applyPolicies([
      policy({
        models: [
          { name: 'gpt-4o', prefix: true },
          { name: 'claude-x', prefix: false },
        ],
      }),
    ]);
    expect(svc.admit(req('ai/k1', 'gpt-4o-mini'))).toBeDefined();
    expect(svc.admit(req('ai/k1', 'claude-x'))).toBeDefined();
    expect(svc.admit(req('ai/k1', 'claude-x-2'))).toBeUndefined();
    expect(svc.admit(req('ai/k1', 'gpt-4'))).toBeUndefined();
  });

  test('anonymous requests are governed only by selector-less policies', async () => {
    svc.applyPolicies([policy({ matchesAnonymous: true, scope: 'perKey' })]);
    for (let i = 0; i < 3; i++) await outcome(svc.admit(req(undefined)));
    expect(await outcome(svc.admit(req(undefined)))).toBeInstanceOf(GatewayError);
  });

  test('calendar month rolls over at the UTC boundary', async () => {
    clock = Date.UTC(2026, 0, 31, 23, 59, 58);
    svc.applyPolicies([policy({ limits: [{ kind: 'requests', amount: 2, window: { type: 'calendarMonth' } }] })]);
    await outcome(svc.admit(req('ai/k1')));
    await outcome(svc.admit(req('ai/k1')));
    const e = (await outcome(svc.admit(req('ai/k1')))) as GatewayError;
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.headers?.['retry-after']).toBe('2');
    clock = Date.UTC(2026, 1, 1, 0, 0, 0);
    expect(await outcome(svc.admit(req('ai/k1')))).not.toBeInstanceOf(GatewayError);
  });

  test('tokens: reserve before, settle after, released difference frees room', async () => {
    svc.applyPolicies([policy({ limits: [{ kind: 'tokens', amount: 250, window: { type: 'sliding', ms: MIN } }] })]);
    const a = (await outcome(svc.admit(req('ai/k1', 'gpt-4o', 100)))) as QuotaTicket;
    expect(a.headers['x-ratelimit-remaining-tokens']).toBe('150');
    const b = (await outcome(svc.admit(req('ai/k1', 'gpt-4o', 100)))) as QuotaTicket;
    const c = (await outcome(svc.admit(req('ai/k1', 'gpt-4o', 100)))) as QuotaTicket; // 200 < 250: admitted
    expect(c).not.toBeInstanceOf(GatewayError);
    expect(await outcome(svc.admit(req('ai/k1', 'gpt-4o', 100)))).toBeInstanceOf(GatewayError); // 300 >= 250
    await a.settle({ tokens: 10, costNano: 0 });
    await b.settle({ tokens: 10, costNano: 0 });
    await a.settle({ tokens: 99, costNano: 0 }); // idempotent: second settle ignored
    const d = (await outcome(svc.admit(req('ai/k1', 'gpt-4o', 100)))) as QuotaTicket; // 120 < 250
    expect(d.headers['x-ratelimit-remaining-tokens']).toBe('30');
    await c.settle({ tokens: 0, costNano: 0 }); // failed request releases its whole reservation
    await d.settle({ tokens: 500, costNano: 0 }); // underestimate: the real usage is charged
    const u = await svc.usage('ai/team');
    expect(u).toEqual([{ kind: 'tokens', used: 520, limit: 250 }]);
  });

  test('cost budget in USD with nano-USD counters', async () => {
    svc.applyPolicies([policy({ limits: [{ kind: 'costUSD', amount: 0.01, window: { type: 'calendarMonth' } }] })]);
    let admitted = 0;
    let spent = 0;
    for (let i = 0; i < 100; i++) {
      const t = await outcome(svc.admit(req('ai/k1', 'gpt-4o', 0, 3_000_000)));
      if (t instanceof GatewayError) break;
      admitted++;
      spent += 2_500_000;
      await t.settle({ tokens: 0, costNano: 2_500_000 });
    }
    // 0.01 USD = 10_000_000 nano; each costs 2.5M: admitted while spent < limit → 4 requests, exactly $0.01
    expect(admitted).toBe(4);
    expect(spent).toBe(10_000_000);
  });

  test('all-or-nothing across policies: a rejection by one takes nothing from the others', async () => {
    svc.applyPolicies([
      policy({ id: 'ai/a', limits: [{ kind: 'requests', amount: 10, window: { type: 'sliding', ms: MIN } }] }),
      policy({ id: 'ai/b', limits: [{ kind: 'requests', amount: 1, window: { type: 'sliding', ms: MIN } }] }),
    ]);
    await outcome(svc.admit(req('ai/k1')));
    for (let i = 0; i < 5; i++) expect(await outcome(svc.admit(req('ai/k1')))).toBeInstanceOf(GatewayError);
    expect(await svc.usage('ai/a')).toEqual([{ kind: 'requests', used: 1, limit: 10 }]);
    expect(rejected.every((id) => id === 'ai/b')).toBe(true);
  });
});

describe('QuotaService failure modes', () => {
  const broken: CounterStore = {
    kind: 'redis',
    reserve: () => Promise.reject(new Error('connect ECONNREFUSED')),
    settle: () => Promise.reject(new Error('connect ECONNREFUSED')),
    read: () => Promise.reject(new Error('connect ECONNREFUSED')),
    close: () => Promise.resolve(),
  };

  test('open: local approximate limits', async () => {
    const svc = new QuotaService({ store: broken });
    svc.applyPolicies([policy()]);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await outcome(svc.admit(req('ai/k1'))));
    expect(results.filter((r) => !(r instanceof GatewayError))).toHaveLength(3);
    expect((results[0] as QuotaTicket).store).toBe('memory');
    await svc.close();
  });

  test('closed: 503 quota_store_unavailable', async () => {
    const svc = new QuotaService({ store: broken });
    svc.applyPolicies([policy({ failureMode: 'closed' })]);
    const r = await outcome(svc.admit(req('ai/k1')));
    expect(r).toBeInstanceOf(GatewayError);
    expect((r as GatewayError).code).toBe('quota_store_unavailable');
    expect((r as GatewayError).status).toBe(503);
    await svc.close();
  });
});
