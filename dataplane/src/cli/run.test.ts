import { parseRunFlags, parseSize, RUN_USAGE } from './run.js';

describe('tollgate run flags', () => {
  it('applies defaults and freezes the result', () => {
    const p = parseRunFlags(['-f', 'examples/quickstart']);
    expect(p).toEqual({
      kind: 'ok',
      flags: {
        files: ['examples/quickstart'],
        recursive: false,
        port: 8080,
        host: '0.0.0.0',
        maxBodyBytes: 32 * 1024 * 1024,
        bodyTimeoutMs: 30_000,
        redisUrl: undefined,
        server: {
          headerTimeoutMs: 10_000,
          idleTimeoutMs: 65_000,
          shutdownGraceMs: 25_000,
          upstreamConnections: 1024,
          adminPort: 9090,
        },
      },
    });
    if (p.kind !== 'ok') throw new Error('unreachable');
    expect(Object.isFrozen(p.flags)).toBe(true);
    expect(Object.isFrozen(p.flags.files)).toBe(true);
  });

  it('takes every flag, -f repeated', () => {
    const p = parseRunFlags([
      '-f',
      'a.yaml',
      '--file',
      'dir',
      '-R',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--max-body-size',
      '512Ki',
      '--body-timeout',
      '1m30s',
      '--redis',
      'redis://127.0.0.1:6379/0',
      '--header-timeout',
      '5s',
      '--idle-timeout',
      '2m',
      '--shutdown-grace',
      '90s',
      '--upstream-connections',
      '32',
      '--admin-port',
      '0',
    ]);
    expect(p).toEqual({
      kind: 'ok',
      flags: {
        files: ['a.yaml', 'dir'],
        recursive: true,
        port: 0,
        host: '127.0.0.1',
        maxBodyBytes: 524288,
        bodyTimeoutMs: 90_000,
        redisUrl: 'redis://127.0.0.1:6379/0',
        server: {
          headerTimeoutMs: 5000,
          idleTimeoutMs: 120_000,
          shutdownGraceMs: 90_000,
          upstreamConnections: 32,
          adminPort: 0,
        },
      },
    });
  });

  it('refuses server limits that are not positive durations or counts, naming the flag', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['--header-timeout', '0s', /--header-timeout must be a positive duration/],
      ['--idle-timeout', 'soon', /--idle-timeout must be a positive duration.*"soon"/],
      ['--shutdown-grace', '-1s', /--shutdown-grace must be a positive duration/],
      ['--upstream-connections', '0', /--upstream-connections must be a whole number from 1/],
      ['--admin-port', '70000', /--admin-port must be a whole number from 0 to 65535/],
    ];
    for (const [flag, value, message] of bad) {
      const p = parseRunFlags(['-f', 'x', `${flag}=${value}`], {});
      expect(p.kind).toBe('error');
      expect(p.kind === 'error' && p.message).toMatch(message);
    }
  });

  it('--help names the server limits and the admin port', () => {
    for (const flag of [
      '--header-timeout',
      '--idle-timeout',
      '--shutdown-grace',
      '--upstream-connections',
      '--admin-port',
    ])
      expect(RUN_USAGE).toContain(flag);
    expect(RUN_USAGE).toMatch(/--admin-port <n>\s+port of the admin server: GET \/metrics/);
  });

  it('logs no content unless asked; --log-content and TOLLGATE_LOG_CONTENT turn it on, frozen', () => {
    const off = parseRunFlags(['-f', 'x'], {});
    expect(off.kind === 'ok' && off.flags.logContent).toBeUndefined();
    const on = parseRunFlags(['-f', 'x', '--log-content'], {});
    expect(on).toMatchObject({ kind: 'ok', flags: { logContent: { maxBytes: 16384 } } });
    if (on.kind !== 'ok') throw new Error('unreachable');
    expect(Object.isFrozen(on.flags.logContent)).toBe(true);
    expect(parseRunFlags(['-f', 'x', '--log-content', '--log-content-max-bytes', '4Ki'], {})).toMatchObject({
      kind: 'ok',
      flags: { logContent: { maxBytes: 4096 } },
    });
    expect(parseRunFlags(['-f', 'x'], { TOLLGATE_LOG_CONTENT: 'true' })).toMatchObject({
      kind: 'ok',
      flags: { logContent: { maxBytes: 16384 } },
    });
    expect(RUN_USAGE).toContain('--log-content');
    expect(RUN_USAGE).toContain('--log-content-max-bytes');
  });

  it.each([
    [['-f', 'x', '--log-content', '--log-content-max-bytes', '16KB'], {}, /--log-content-max-bytes must be/],
    [['-f', 'x', '--log-content=yes'], {}, /does not take an argument/],
    [['-f', 'x'], { TOLLGATE_LOG_CONTENT: 'yes' }, /TOLLGATE_LOG_CONTENT must be true or false, got "yes"/],
  ])('%j with env %j is an error', (args, env, message) => {
    const p = parseRunFlags(args, env);
    expect(p.kind).toBe('error');
    if (p.kind === 'error') expect(p.message).toMatch(message);
  });

  it('--help wins', () => {
    expect(parseRunFlags(['--help'])).toEqual({ kind: 'help' });
    expect(parseRunFlags(['-h', '-f', 'x'])).toEqual({ kind: 'help' });
  });

  it('takes the Redis URL from TOLLGATE_REDIS_URL when --redis is not given; the flag wins', () => {
    const env = { TOLLGATE_REDIS_URL: 'rediss://user:s3cret@redis.example:6380/1' };
    expect(parseRunFlags(['-f', 'x'], env)).toMatchObject({
      kind: 'ok',
      flags: { redisUrl: 'rediss://user:s3cret@redis.example:6380/1' },
    });
    expect(parseRunFlags(['-f', 'x', '--redis', 'redis://flag:6379'], env)).toMatchObject({
      kind: 'ok',
      flags: { redisUrl: 'redis://flag:6379' },
    });
    expect(parseRunFlags(['-f', 'x'], { TOLLGATE_REDIS_URL: '' })).toMatchObject({
      kind: 'ok',
      flags: { redisUrl: undefined },
    });
  });

  it('names TOLLGATE_REDIS_URL when its value is not a Redis URL, without quoting it', () => {
    const p = parseRunFlags(['-f', 'x'], { TOLLGATE_REDIS_URL: 'http://:s3cret@redis:6379' });
    expect(p).toEqual({ kind: 'error', message: 'TOLLGATE_REDIS_URL must be a redis:// or rediss:// URL' });
    // A valid flag makes a broken env value irrelevant.
    expect(parseRunFlags(['-f', 'x', '--redis', 'redis://r:6379'], { TOLLGATE_REDIS_URL: 'nope' }).kind).toBe('ok');
  });

  it('documents TOLLGATE_REDIS_URL', () => {
    expect(RUN_USAGE).toContain('TOLLGATE_REDIS_URL');
  });

  it.each([
    [[], /at least one -f/],
    [['-f', 'x', '--port', '70000'], /--port must be a number from 0 to 65535/],
    [['-f', 'x', '--port', 'http'], /--port must be a number/],
    [['-f', 'x', '--max-body-size', '32MB'], /--max-body-size must be/],
    [['-f', 'x', '--max-body-size', '0'], /--max-body-size must be/],
    [['-f', 'x', '--redis', 'http://x'], /--redis must be a redis:\/\//],
    [['-f', 'x', '--body-timeout', '30'], /--body-timeout must be a positive duration/],
    [['-f', 'x', '--body-timeout', '0s'], /--body-timeout must be a positive duration/],
    [['-f', 'x', '--nope'], /Unknown option '--nope'/],
    [['-f', 'x', 'stray'], /unexpected argument "stray"/],
    [['-f'], /argument missing/],
  ])('%j is an error', (args, message) => {
    const p = parseRunFlags(args);
    expect(p.kind).toBe('error');
    if (p.kind === 'error') expect(p.message).toMatch(message);
  });

  it.each([
    ['1024', 1024],
    ['1Ki', 1024],
    ['32Mi', 33554432],
    ['1Gi', 1073741824],
    [' 7 ', 7],
  ])('size %j is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'Mi', '1.5Mi', '-1', '1MB', '1 Mi', '0'])('size %j is rejected', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});
