import { TokenAuthenticator } from './token-auth.js';

describe('TokenAuthenticator', () => {
  const users: Record<string, string> = {
    good: 'system:serviceaccount:tollgate:tollgate-dataplane',
    foreign: 'system:serviceaccount:default:default',
  };
  function make(now = { t: 0 }) {
    const calls: string[] = [];
    const auth = new TokenAuthenticator({
      serviceAccounts: ['tollgate/tollgate-dataplane'],
      now: () => now.t,
      ttlMs: 1000,
      negativeTtlMs: 100,
      review: async (token) => {
        calls.push(token);
        if (token === 'down') throw new Error('apiserver unreachable');
        const username = users[token];
        return username ? { authenticated: true, username } : { authenticated: false };
      },
    });
    return { auth, calls, now };
  }

  it('accepts only the configured ServiceAccount', async () => {
    const { auth } = make();
    expect(await auth.authenticate('Bearer good')).toEqual({ ok: true, username: users.good });
    expect((await auth.authenticate('Bearer foreign')).ok).toBe(false);
    expect((await auth.authenticate('Bearer nope')).ok).toBe(false);
    expect((await auth.authenticate(undefined)).ok).toBe(false);
    expect((await auth.authenticate('Basic abc')).ok).toBe(false);
  });

  it('caches reviews briefly, and never caches an API failure', async () => {
    const { auth, calls, now } = make();
    await auth.authenticate('Bearer good');
    await auth.authenticate('Bearer good');
    expect(calls).toEqual(['good']);
    now.t = 1500;
    await auth.authenticate('Bearer good');
    expect(calls).toEqual(['good', 'good']);
    expect((await auth.authenticate('Bearer down')).ok).toBe(false);
    expect((await auth.authenticate('Bearer down')).ok).toBe(false);
    expect(calls.filter((c) => c === 'down')).toHaveLength(2);
  });

  it('rejects a malformed service account name at construction', () => {
    expect(
      () => new TokenAuthenticator({ serviceAccounts: ['nope'], review: async () => ({ authenticated: false }) }),
    ).toThrow(/namespace\/name/);
  });
});
