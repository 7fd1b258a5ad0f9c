import { SnapshotStore } from './store.js';

const route = (gen: number, status?: unknown) => ({
  metadata: { name: 'chat', namespace: 'ai', generation: gen, resourceVersion: String(gen * 10) },
  spec: { models: ['m'], backends: [{ provider: 'p' }] },
  ...(status ? { status } : {}),
});

describe('SnapshotStore', () => {
  it('treats spec changes as relevant and status-only updates as not (no reconcile loops)', () => {
    const s = new SnapshotStore();
    expect(s.apply('LLMRoute', route(1))).toBe(true);
    expect(s.apply('LLMRoute', route(1, { conditions: [] }))).toBe(false);
    expect(s.get('LLMRoute', 'ai', 'chat')?.status).toEqual({ conditions: [] });
    expect(s.apply('LLMRoute', route(2))).toBe(true);
    expect(s.remove('LLMRoute', route(2))).toBe(true);
    expect(s.snapshot().routes).toHaveLength(0);
  });

  it('puts only key Secrets and Secrets a provider references into the snapshot', () => {
    const s = new SnapshotStore();
    const secret = (name: string, labels?: Record<string, string>) => ({
      metadata: { name, namespace: 'ai', ...(labels ? { labels } : {}) },
      data: { key: 'eA==' },
    });
    expect(s.apply('Secret', secret('unrelated'))).toBe(false);
    expect(s.apply('Secret', secret('team-key', { 'tollgate.dev/api-key': 'true' }))).toBe(true);
    expect(s.apply('Secret', secret('openai-creds'))).toBe(false);
    s.apply('LLMProvider', {
      metadata: { name: 'openai', namespace: 'ai', generation: 1 },
      spec: { type: 'openai', auth: { secretRef: { name: 'openai-creds', key: 'apiKey' } } },
    });
    expect(
      s
        .snapshot()
        .secrets.map((x) => x.metadata.name)
        .sort(),
    ).toEqual(['openai-creds', 'team-key']);
    // Now referenced: a change to it matters.
    expect(s.apply('Secret', secret('openai-creds'))).toBe(true);
  });

  it('replaceAll removes what a relist no longer returns, within its namespace only', () => {
    const s = new SnapshotStore();
    s.apply('LLMRoute', route(1));
    s.apply('LLMRoute', { ...route(1), metadata: { ...route(1).metadata, namespace: 'other' } });
    expect(s.replaceAll('LLMRoute', [], 'ai')).toBe(true);
    expect(s.all('LLMRoute').map((r) => r.meta.namespace)).toEqual(['other']);
    expect(s.replaceAll('LLMRoute', [])).toBe(true);
    expect(s.all('LLMRoute')).toHaveLength(0);
  });
});
