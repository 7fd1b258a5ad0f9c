import {
  type GatewayConfig,
  GatewayConfigSchema,
  MAX_ROUTE_BACKENDS,
  type ProviderConfig,
  type RouteConfig,
} from '../../../contract/gateway-config.js';
import { LIMITS } from '../config/resources.js';
import { translate } from '../config/translate.js';
import { HealthRegistry } from './health.js';
import { pickBackend } from './select.js';
import { compileRoute, compileTables } from './table.js';

const providers: ProviderConfig[] = Array.from({ length: MAX_ROUTE_BACKENDS + 1 }, (_, i) => ({
  id: `ai/p${i}`,
  namespace: 'ai',
  name: `p${i}`,
  type: 'openai',
  baseUrl: 'https://api.openai.com/v1',
  models: [],
  connectTimeoutMs: 1000,
  requestTimeoutMs: 1000,
}));

const route = (n: number): RouteConfig => ({
  id: 'ai/r',
  namespace: 'ai',
  name: 'r',
  models: [{ name: 'm', prefix: false }],
  headers: [],
  backends: providers.slice(0, n).map((p) => ({ provider: p.id, weight: 1, priority: 0 })),
  retry: { attempts: 3, backoffBaseMs: 1, backoffMaxMs: 1, on: ['5xx'] },
  timeoutMs: 1000,
});

const config = (n: number): GatewayConfig => ({
  version: 1,
  hash: 'sha256:x',
  providers,
  routes: [route(n)],
  quotaPolicies: [],
  apiKeys: [],
  requireKeys: false,
});

describe('backends per route: the cap is stated once and enforced, never by dropping', () => {
  it('the LLMRoute schema (and so the CRD, see gen-crds.test.ts) caps spec.backends at what routing serves', () => {
    expect(LIMITS.routeBackends).toBe(MAX_ROUTE_BACKENDS);
  });

  it('compiles every backend of a route at the cap, each reachable by the attempt loop', () => {
    const compiled = compileRoute(
      route(MAX_ROUTE_BACKENDS),
      new Map(providers.map((p) => [p.id, p])),
      new HealthRegistry(),
    );
    expect(compiled.backends).toHaveLength(MAX_ROUTE_BACKENDS);
    // Every backend is picked once before any repeats: the tried-mask has a bit for each.
    let tried = 0;
    const picked = new Set<string>();
    for (let i = 0; i < MAX_ROUTE_BACKENDS; i++) {
      const b = pickBackend(compiled, tried, 0, () => 0.5);
      expect(b).toBeDefined();
      picked.add(b!.provider.id);
      tried |= 1 << b!.index;
    }
    expect(picked.size).toBe(MAX_ROUTE_BACKENDS);
  });

  it('a snapshot with one backend more is invalid, and compiling it throws instead of keeping a part', () => {
    expect(GatewayConfigSchema.safeParse(config(MAX_ROUTE_BACKENDS)).success).toBe(true);
    const over = GatewayConfigSchema.safeParse(config(MAX_ROUTE_BACKENDS + 1));
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]?.path).toEqual(['routes', 0, 'backends']);
    expect(() => compileTables(config(MAX_ROUTE_BACKENDS + 1), new HealthRegistry())).toThrow(
      `route ai/r has ${MAX_ROUTE_BACKENDS + 1} backends; at most ${MAX_ROUTE_BACKENDS} are served per route`,
    );
  });

  it('translate rejects an LLMRoute over the cap with a message naming spec.backends', () => {
    const { statuses, config: out } = translate(
      {
        providers: [{ kind: 'LLMProvider', metadata: { name: 'p', namespace: 'ai' }, spec: { type: 'openai' } }],
        routes: [
          {
            kind: 'LLMRoute',
            metadata: { name: 'big', namespace: 'ai' },
            spec: {
              models: ['m'],
              backends: Array.from({ length: MAX_ROUTE_BACKENDS + 1 }, () => ({ provider: 'p' })),
            },
          },
        ],
        quotaPolicies: [],
        secrets: [],
      },
      { version: 1, requireKeys: false },
    );
    expect(out.routes).toEqual([]);
    const accepted = statuses.find((s) => s.name === 'big')!.conditions.find((c) => c.type === 'Accepted')!;
    expect(accepted).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(accepted.message).toBe(
      `LLMRoute ai/big is invalid: spec.backends: at most ${MAX_ROUTE_BACKENDS} backends allowed`,
    );
  });
});
