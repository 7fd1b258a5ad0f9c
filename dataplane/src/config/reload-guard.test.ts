import type { GatewayConfig } from '../../../contract/gateway-config.js';
import { parseDocuments } from './load-files.js';
import { removals, removesAnything, runReadiness } from './reload-guard.js';
import { translate } from './translate.js';

const docs = {
  provider: 'apiVersion: tollgate.dev/v1alpha1\nkind: LLMProvider\nmetadata: { name: p }\nspec: { type: openai }\n',
  route: (backend = 'p') =>
    `apiVersion: tollgate.dev/v1alpha1\nkind: LLMRoute\nmetadata: { name: r }\nspec: { models: [m], backends: [{ provider: ${backend} }] }\n`,
  key: (name: string) =>
    `apiVersion: v1\nkind: Secret\nmetadata: { name: ${name}, labels: { tollgate.dev/api-key: "true" } }\nstringData: { key: tg-${name}-value }\n`,
  policy:
    'apiVersion: tollgate.dev/v1alpha1\nkind: QuotaPolicy\nmetadata: { name: q }\nspec: { selector: {}, limits: [{ requests: 1, per: 1m }] }\n',
};
const config = (...parts: string[]): GatewayConfig =>
  translate(parseDocuments(parts.join('---\n')).snapshot, { version: 1, requireKeys: false }).config;

describe('removals', () => {
  const full = config(docs.provider, docs.route(), docs.policy, docs.key('a'), docs.key('b'));
  it.each<[string, GatewayConfig, Partial<ReturnType<typeof removals>>]>([
    [
      'nothing removed',
      config(docs.provider, docs.route(), docs.policy, docs.key('a'), docs.key('b'), docs.key('c')),
      {},
    ],
    [
      'a key value (a cut mid-value)',
      config(docs.provider, docs.route(), docs.policy, docs.key('a'), docs.key('b').replace('-value', '-val')),
      { apiKeys: ['default/b'] },
    ],
    ['a key', config(docs.provider, docs.route(), docs.policy, docs.key('a')), { apiKeys: ['default/b'] }],
    [
      'every key: open',
      config(docs.provider, docs.route(), docs.policy),
      { apiKeys: ['default/a', 'default/b'], opens: true },
    ],
    [
      'a quota policy',
      config(docs.provider, docs.route(), docs.key('a'), docs.key('b')),
      { quotaPolicies: ['default/q'] },
    ],
    ['the route', config(docs.provider, docs.policy, docs.key('a'), docs.key('b')), { routes: ['default/r'] }],
  ])('%s', (_name, candidate, expected) => {
    const r = removals(full, candidate);
    expect(r).toEqual({ routes: [], providers: [], quotaPolicies: [], apiKeys: [], opens: false, ...expected });
    expect(removesAnything(r)).toBe(Object.keys(expected).length > 0);
  });
});

describe('runReadiness', () => {
  it('is ready with a route that has a backend, and says why not otherwise', () => {
    expect(runReadiness(config(docs.provider, docs.route()))).toBeUndefined();
    expect(runReadiness(config(docs.provider))).toMatch(/serves no route: every request would get 404/);
    expect(runReadiness(config(docs.route('missing')))).toMatch(/no route has a usable backend/);
  });
});
