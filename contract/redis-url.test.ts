import { parseRedisUrl, REDIS_URL_ENV, redactUrl } from './redis-url.js';

describe('parseRedisUrl', () => {
  it('is undefined with neither the flag nor the env (or an empty env value)', () => {
    expect(parseRedisUrl(undefined, {})).toEqual({ ok: true, value: undefined });
    expect(parseRedisUrl(undefined, { [REDIS_URL_ENV]: '' })).toEqual({ ok: true, value: undefined });
  });

  it('takes the env when the flag is absent, and the flag over the env', () => {
    const env = { [REDIS_URL_ENV]: 'rediss://u:p@envhost:6380' };
    expect(parseRedisUrl(undefined, env)).toEqual({ ok: true, value: 'rediss://u:p@envhost:6380' });
    expect(parseRedisUrl('redis://flaghost:6379', env)).toEqual({ ok: true, value: 'redis://flaghost:6379' });
  });

  it.each([['http://h:6379'], ['redis://'], ['not a url'], ['//:pw@h']])(
    'rejects %j, naming its source and never quoting it',
    (text) => {
      const fromEnv = parseRedisUrl(undefined, { [REDIS_URL_ENV]: text });
      expect(fromEnv).toEqual({ ok: false, message: 'TOLLGATE_REDIS_URL must be a redis:// or rediss:// URL' });
      expect(parseRedisUrl(text, {})).toEqual({ ok: false, message: '--redis must be a redis:// or rediss:// URL' });
    },
  );

  it('an empty --redis is an error, not "no Redis"', () => {
    expect(parseRedisUrl('', {})).toMatchObject({ ok: false });
  });

  it('redacts the password only', () => {
    expect(redactUrl('rediss://user:s3cret@h:6380/2')).toBe('rediss://user:***@h:6380/2');
    expect(redactUrl('redis://h:6379')).toBe('redis://h:6379');
  });
});
