import { OPERATOR_USAGE, parseListen, parseOperatorFlags } from './flags.js';

const env = { env: {}, hostname: 'host-1' };

describe('parseOperatorFlags', () => {
  it('has the documented defaults', () => {
    const r = parseOperatorFlags([], { ...env, env: { POD_NAMESPACE: 'tollgate' } });
    if (r.help) throw new Error('unexpected help');
    expect(r.flags).toMatchObject({
      configListen: { port: 9443 },
      healthListen: { port: 8081 },
      leaderElect: true,
      leaseNamespace: 'tollgate',
      podName: 'host-1',
      snapshotSecret: 'tollgate-config-snapshot',
      dataPlaneServiceAccounts: ['tollgate/tollgate-dataplane'],
      requireKeys: true,
    });
    expect(r.flags.namespaces).toBeUndefined();
    expect(Object.isFrozen(r.flags)).toBe(true);
  });

  it('parses lists, listen addresses and booleans, and rejects nonsense with the flag name', () => {
    const r = parseOperatorFlags(
      ['--namespaces', 'a, b', '--config-listen', '127.0.0.1:0', '--leader-elect', 'false', '--snapshot-secret', ''],
      env,
    );
    if (r.help) throw new Error('unexpected help');
    expect(r.flags.namespaces).toEqual(['a', 'b']);
    expect(r.flags.configListen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(r.flags.leaderElect).toBe(false);
    expect(r.flags.snapshotSecret).toBeUndefined();
    expect(() => parseOperatorFlags(['--leader-elect', 'yes'], env)).toThrow(/--leader-elect/);
    expect(() => parseOperatorFlags(['--lease-duration', '5s', '--renew-deadline', '10s'], env)).toThrow(
      /lease-duration/,
    );
    expect(() => parseOperatorFlags(['--bogus'], env)).toThrow();
    expect(parseOperatorFlags(['--help'], env)).toEqual({ help: true });
  });

  it('takes --redis and --quota-status-interval, with a 30s default and no usage without Redis', () => {
    const d = parseOperatorFlags([], env);
    if (d.help) throw new Error('unexpected help');
    expect(d.flags.redis).toBeUndefined();
    expect(d.flags.quotaStatusIntervalMs).toBe(30_000);
    const r = parseOperatorFlags(['--redis', 'redis://redis:6379', '--quota-status-interval', '1m'], env);
    if (r.help) throw new Error('unexpected help');
    expect(r.flags.redis).toBe('redis://redis:6379');
    expect(r.flags.quotaStatusIntervalMs).toBe(60_000);
    expect(() => parseOperatorFlags(['--redis', 'http://x'], env)).toThrow(/--redis/);
    expect(() => parseOperatorFlags(['--quota-status-interval', '100ms'], env)).toThrow(/--quota-status-interval/);
    expect(() => parseOperatorFlags(['--quota-status-interval', 'soon'], env)).toThrow(/--quota-status-interval/);
  });

  it('takes the Redis URL from TOLLGATE_REDIS_URL when --redis is not given; the flag wins', () => {
    const withEnv = { ...env, env: { TOLLGATE_REDIS_URL: 'rediss://default:s3cret@redis.example:6380' } };
    const r = parseOperatorFlags([], withEnv);
    if (r.help) throw new Error('unexpected help');
    expect(r.flags.redis).toBe('rediss://default:s3cret@redis.example:6380');
    const f = parseOperatorFlags(['--redis', 'redis://flag:6379'], withEnv);
    if (f.help) throw new Error('unexpected help');
    expect(f.flags.redis).toBe('redis://flag:6379');
    const empty = parseOperatorFlags([], { ...env, env: { TOLLGATE_REDIS_URL: '' } });
    if (empty.help) throw new Error('unexpected help');
    expect(empty.flags.redis).toBeUndefined();
  });

  it('names TOLLGATE_REDIS_URL when its value is not a Redis URL, without quoting it', () => {
    const bad = { ...env, env: { TOLLGATE_REDIS_URL: 'http://:s3cret@redis:6379' } };
    expect(() => parseOperatorFlags([], bad)).toThrow('TOLLGATE_REDIS_URL must be a redis:// or rediss:// URL');
    let message = '';
    try {
      parseOperatorFlags([], bad);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain('s3cret');
    expect(OPERATOR_USAGE).toContain('TOLLGATE_REDIS_URL');
  });

  it('parseListen', () => {
    expect(parseListen(':9443', 'x')).toEqual({ port: 9443 });
    expect(parseListen('[::1]:80', 'x')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('9443', '--x')).toThrow(/--x/);
  });
});
