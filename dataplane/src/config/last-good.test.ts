import { type LastGoodVersions, lastGoodTranslator, translateKeepingLastGood } from './last-good.js';
import { parseDocuments } from './load-files.js';
import type { ResourceSnapshot } from './resources.js';
import { translate } from './translate.js';

const provider = (name: string) => `apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: ${name} }
spec: { type: openai }
---
`;
const route = (name: string, backend: string, extra = '') => `apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: ${name} }
spec:
  models: ["${name}-model"]
  backends: [{ provider: ${backend} }]
${extra}---
`;
const snap = (text: string): ResourceSnapshot => parseDocuments(text).snapshot;
const opts = { version: 1, requireKeys: false };

function served(text: string, previous: LastGoodVersions = new Map()) {
  return translateKeepingLastGood(snap(text), opts, previous);
}

describe('translateKeepingLastGood', () => {
  const good = `${provider('p')}${provider('q')}${route('r', 'p')}`;
  const start = served(good);

  it('remembers every clean resource and substitutes nothing on a first load', () => {
    expect(start.kept).toEqual([]);
    expect([...start.next.keys()].sort()).toEqual([
      'LLMProvider default/p',
      'LLMProvider default/q',
      'LLMRoute default/r',
    ]);
    expect(start.result.config).toEqual(translate(snap(good), opts).config);
  });

  it.each([
    ['names a missing provider (ResolvedRefs=False)', route('r', 'missing'), 'ResolvedRefs', 'BackendNotFound'],
    ['gets an invalid spec (Accepted=False)', route('r', 'p', '  timeout: soon\n'), 'Accepted', 'Invalid'],
  ])('a route edit that %s keeps its last good version', (_what, edited, type, reason) => {
    const out = served(`${provider('p')}${provider('q')}${edited}`, start.next);
    expect(out.result.config.routes.map((r) => r.backends.map((b) => b.provider))).toEqual([['default/p']]);
    expect(out.kept.map((k) => [k.key, k.problems[0]?.type, k.problems[0]?.reason])).toEqual([
      ['LLMRoute default/r', type, reason],
    ]);
    // The status describes the new version, and says the old one is served.
    const status = out.result.statuses.find((s) => s.kind === 'LLMRoute')!;
    const failing = status.conditions.find((c) => c.type === type)!;
    expect(failing).toMatchObject({ status: 'False', reason });
    expect(failing.message).toMatch(/^not applied, its last good version keeps being served: /);
    // The last good version stays remembered for the next change.
    expect(out.next.get('LLMRoute default/r')).toBe(start.next.get('LLMRoute default/r'));
  });

  it('uses the new version when the old one would not be clean now either', () => {
    // r moves from p to missing, and p is deleted in the same change: the old version does not help.
    const out = served(`${provider('q')}${route('r', 'missing')}`, start.next);
    expect(out.kept).toEqual([]);
    expect(out.result.config.routes[0]!.backends).toEqual([]);
    expect(out.next.has('LLMRoute default/r')).toBe(false);
  });

  it('never brings back a resource whose spec did not change, nor a deleted one', () => {
    // p deleted: r is unchanged and unresolved; nothing stands in.
    const out = served(`${provider('q')}${route('r', 'p')}`, start.next);
    expect(out.kept).toEqual([]);
    expect(out.result.config.providers.map((p) => p.name)).toEqual(['q']);
    expect(out.next.has('LLMProvider default/p')).toBe(false);
  });

  it('a clean edit replaces the remembered version', () => {
    const out = served(`${provider('p')}${provider('q')}${route('r', 'q')}`, start.next);
    expect(out.kept).toEqual([]);
    expect(out.result.config.routes[0]!.backends.map((b) => b.provider)).toEqual(['default/q']);
    const again = served(`${provider('p')}${provider('q')}${route('r', 'missing')}`, out.next);
    expect(again.result.config.routes[0]!.backends.map((b) => b.provider)).toEqual(['default/q']);
  });
});

describe('lastGoodTranslator (the operator wraps its translate with it)', () => {
  it('carries the last good versions from one call to the next', () => {
    const t = lastGoodTranslator(translate);
    t(snap(`${provider('p')}${route('r', 'p')}`), opts);
    const { config, statuses } = t(snap(`${provider('p')}${route('r', 'missing')}`), { ...opts, version: 2 });
    expect(config.routes[0]!.backends.map((b) => b.provider)).toEqual(['default/p']);
    expect(
      statuses.find((s) => s.kind === 'LLMRoute')!.conditions.find((c) => c.type === 'ResolvedRefs'),
    ).toMatchObject({
      status: 'False',
      reason: 'BackendNotFound',
    });
  });
});
