import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { main, parseDataplaneFlags, readBootSnapshot, usage } from './dataplane.js';

describe('readBootSnapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-boot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is undefined when the file does not exist', () => {
    expect(readBootSnapshot(join(dir, 'missing.json'))).toBeUndefined();
  });

  it('never quotes a broken snapshot (it holds provider credentials) in its error', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, 'sk-live-SECRET-credential {"version":1}');
    let message = '';
    try {
      readBootSnapshot(path);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`boot snapshot ${path} is not valid JSON`);
    expect(message).not.toContain('SECRET');
  });

  it('rejects JSON that is not a GatewayConfig without echoing it', () => {
    const path = join(dir, 'wrong.json');
    writeFileSync(path, JSON.stringify({ version: 1, providers: [{ credential: 'sk-live-SECRET' }] }));
    expect(() => readBootSnapshot(path)).toThrow(`boot snapshot ${path} is not a valid GatewayConfig`);
  });
});

describe('tollgate dataplane flags', () => {
  const required = ['--operator-url', 'https://op.tollgate.svc:9443', '--ca-file', '/etc/tollgate/ca/ca.crt'];

  it('parses into a frozen object with the defaults', () => {
    const p = parseDataplaneFlags(required, { POD_NAME: 'dp-0' });
    expect(p).toEqual({
      kind: 'ok',
      flags: {
        operatorUrl: 'https://op.tollgate.svc:9443',
        caFile: '/etc/tollgate/ca/ca.crt',
        tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
        bootSnapshot: undefined,
        port: 8080,
        host: '0.0.0.0',
        podName: 'dp-0',
        redis: undefined,
        bodyTimeoutMs: 30_000,
        logContent: undefined,
        server: {
          headerTimeoutMs: 10_000,
          idleTimeoutMs: 65_000,
          shutdownGraceMs: 25_000,
          upstreamConnections: 1024,
          adminPort: 9090,
        },
      },
    });
    expect(p.kind === 'ok' && Object.isFrozen(p.flags)).toBe(true);
  });

  it('takes the server limits and the admin port; --help names them', () => {
    const p = parseDataplaneFlags(
      [
        ...required,
        '--header-timeout=3s',
        '--idle-timeout=10s',
        '--shutdown-grace=1m',
        '--upstream-connections=8',
        '--admin-port=9191',
      ],
      {},
    );
    expect(p).toMatchObject({
      kind: 'ok',
      flags: {
        server: {
          headerTimeoutMs: 3000,
          idleTimeoutMs: 10_000,
          shutdownGraceMs: 60_000,
          upstreamConnections: 8,
          adminPort: 9191,
        },
      },
    });
    expect(parseDataplaneFlags([...required, '--shutdown-grace=forever'], {})).toEqual({
      kind: 'error',
      message: '--shutdown-grace must be a positive duration like 10s, 500ms or 2m, got "forever"',
    });
    for (const flag of [
      '--header-timeout',
      '--idle-timeout',
      '--shutdown-grace',
      '--upstream-connections',
      '--admin-port',
    ])
      expect(usage).toContain(flag);
  });

  it('takes the Redis URL from TOLLGATE_REDIS_URL when --redis is not given; the flag wins', () => {
    const env = { TOLLGATE_REDIS_URL: 'rediss://default:s3cret@redis.example:6380' };
    expect(parseDataplaneFlags(required, env)).toMatchObject({
      kind: 'ok',
      flags: { redis: 'rediss://default:s3cret@redis.example:6380' },
    });
    expect(parseDataplaneFlags([...required, '--redis=redis://flag:6379'], env)).toMatchObject({
      kind: 'ok',
      flags: { redis: 'redis://flag:6379' },
    });
  });

  it('names TOLLGATE_REDIS_URL when its value is not a Redis URL, without quoting it', () => {
    expect(parseDataplaneFlags(required, { TOLLGATE_REDIS_URL: 'http://:s3cret@redis:6379' })).toEqual({
      kind: 'error',
      message: 'TOLLGATE_REDIS_URL must be a redis:// or rediss:// URL',
    });
    expect(parseDataplaneFlags([...required, '--redis', 'nope'], {})).toEqual({
      kind: 'error',
      message: '--redis must be a redis:// or rediss:// URL',
    });
  });

  it('documents TOLLGATE_REDIS_URL', () => {
    expect(usage).toContain('TOLLGATE_REDIS_URL');
  });

  it('documents --log-content and --log-content-max-bytes', () => {
    expect(usage).toContain('--log-content ');
    expect(usage).toContain('--log-content-max-bytes <s>');
  });

  it('exits 2 on a cap it cannot read, before reading any file', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: unknown) => {
      errors.push(String(m));
    });
    try {
      const code = await main([
        '--operator-url',
        'https://op.tollgate.svc:9443',
        '--ca-file',
        '/nonexistent/ca.crt',
        '--log-content',
        '--log-content-max-bytes',
        'lots',
      ]);
      expect(code).toBe(2);
      expect(errors.join('\n')).toContain('--log-content-max-bytes must be a positive number of bytes');
    } finally {
      spy.mockRestore();
    }
  });
});
