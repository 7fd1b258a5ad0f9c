import { parseLogContent } from './log-content.js';

describe('parseLogContent', () => {
  it('is off by default and with false/0/empty in the env', () => {
    for (const v of [undefined, '', 'false', '0', 'FALSE'])
      expect(parseLogContent(undefined, undefined, { TOLLGATE_LOG_CONTENT: v })).toEqual({
        ok: true,
        value: undefined,
      });
  });

  it('is on with the flag or true/1 in the env; the flag wins over an env saying false', () => {
    expect(parseLogContent(true, undefined, {})).toEqual({ ok: true, value: { maxBytes: 16384 } });
    expect(parseLogContent(undefined, undefined, { TOLLGATE_LOG_CONTENT: 'True' })).toEqual({
      ok: true,
      value: { maxBytes: 16384 },
    });
    expect(parseLogContent(undefined, undefined, { TOLLGATE_LOG_CONTENT: '1' }).ok).toBe(true);
    expect(parseLogContent(true, undefined, { TOLLGATE_LOG_CONTENT: 'false' })).toEqual({
      ok: true,
      value: { maxBytes: 16384 },
    });
  });

  it('takes the cap from the flag, else the env', () => {
    expect(parseLogContent(true, '100', { TOLLGATE_LOG_CONTENT_MAX_BYTES: '200' })).toEqual({
      ok: true,
      value: { maxBytes: 100 },
    });
    expect(parseLogContent(true, undefined, { TOLLGATE_LOG_CONTENT_MAX_BYTES: '1Mi' })).toEqual({
      ok: true,
      value: { maxBytes: 1048576 },
    });
  });

  it('refuses what it cannot read instead of guessing', () => {
    expect(parseLogContent(undefined, undefined, { TOLLGATE_LOG_CONTENT: 'on' })).toEqual({
      ok: false,
      message: 'TOLLGATE_LOG_CONTENT must be true or false, got "on"',
    });
    expect(parseLogContent(true, '0', {}).ok).toBe(false);
    const bad = parseLogContent(true, undefined, { TOLLGATE_LOG_CONTENT_MAX_BYTES: 'lots' });
    expect(bad).toEqual({
      ok: false,
      message: expect.stringContaining('TOLLGATE_LOG_CONTENT_MAX_BYTES must be a positive number of bytes'),
    });
  });
});
