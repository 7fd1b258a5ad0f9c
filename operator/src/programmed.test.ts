import type { GatewayConfig } from '../../contract/gateway-config.js';
import { advanceIndex, programmedCondition, resourceKey } from './programmed.js';

function config(version: number, credential: string, routeGen = 1): GatewayConfig {
  return {
    version,
    hash: `h${version}`,
    providers: [
      {
        id: 'ai/openai',
        namespace: 'ai',
        name: 'openai',
        type: 'openai',
        baseUrl: 'https://api.openai.com/v1',
        credential,
        models: [],
        connectTimeoutMs: 5000,
        requestTimeoutMs: 300000,
        generation: 1,
      },
    ],
    routes: [
      {
        id: 'ai/chat',
        namespace: 'ai',
        name: 'chat',
        models: [{ name: 'gpt-4o', prefix: false }],
        headers: [],
        backends: [{ provider: 'ai/openai', weight: 1, priority: 0 }],
        retry: { attempts: 3, backoffBaseMs: 100, backoffMaxMs: 2000, on: ['429'] },
        timeoutMs: 120000,
        generation: routeGen,
      },
    ],
    quotaPolicies: [],
    apiKeys: [],
    requireKeys: true,
  };
}

const P = resourceKey('LLMProvider', 'ai', 'openai');
const R = resourceKey('LLMRoute', 'ai', 'chat');

describe('advanceIndex', () => {
  it('keeps `since` for unchanged entries and moves it for changed ones (a new credential counts)', () => {
    const i1 = advanceIndex(new Map(), config(10, 'k1'));
    expect(i1.get(P)?.since).toBe(10);
    const i2 = advanceIndex(i1, config(11, 'k1', 2));
    expect(i2.get(P)?.since).toBe(10);
    expect(i2.get(R)?.since).toBe(11);
    expect(i2.get(R)?.generation).toBe(2);
    const i3 = advanceIndex(i2, config(12, 'k2', 2));
    expect(i3.get(P)?.since).toBe(12);
    expect(i3.get(R)?.since).toBe(11);
  });

  it('drops resources no longer in the config', () => {
    const c = config(5, 'k');
    c.routes = [];
    expect(advanceIndex(advanceIndex(new Map(), config(4, 'k')), c).has(R)).toBe(false);
  });
});

describe('programmedCondition', () => {
  const entry = { fingerprint: 'x', since: 7 };
  it('is True only when every connected pod applied a version at least as new', () => {
    expect(programmedCondition(entry, [{ appliedVersion: 7 }, { appliedVersion: 9 }], true).status).toBe('True');
    const pending = programmedCondition(entry, [{ appliedVersion: 7 }, { appliedVersion: 6 }, {}], true);
    expect(pending).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(pending.message).toContain('2 of 3');
  });
  it('is False with a reason when no pod is connected or the resource is not accepted', () => {
    expect(programmedCondition(entry, [], true).reason).toBe('NoDataPlane');
    expect(programmedCondition(entry, [{ appliedVersion: 9 }], false).reason).toBe('NotAccepted');
    expect(programmedCondition(undefined, [{ appliedVersion: 9 }], true).reason).toBe('NotAccepted');
  });
});
