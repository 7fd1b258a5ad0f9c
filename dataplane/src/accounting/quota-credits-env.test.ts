import type { Logger } from '../log.js';
import { quotaCredits } from './hooks.js';

describe('TOLLGATE_QUOTA_CREDITS', () => {
  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m) } as unknown as Logger;
  beforeEach(() => {
    warnings.length = 0;
  });

  test('unset or on: credits on; off (any case): off', () => {
    expect(quotaCredits({}, logger)).toBe(true);
    expect(quotaCredits({ TOLLGATE_QUOTA_CREDITS: 'on' }, logger)).toBe(true);
    expect(quotaCredits({ TOLLGATE_QUOTA_CREDITS: 'off' }, logger)).toBe(false);
    expect(quotaCredits({ TOLLGATE_QUOTA_CREDITS: ' OFF ' }, logger)).toBe(false);
    expect(warnings).toEqual([]);
  });

  test('another value is reported and leaves credits on', () => {
    expect(quotaCredits({ TOLLGATE_QUOTA_CREDITS: 'false' }, logger)).toBe(true);
    expect(warnings).toEqual(['TOLLGATE_QUOTA_CREDITS=false is not on or off; credits stay on']);
  });
});
