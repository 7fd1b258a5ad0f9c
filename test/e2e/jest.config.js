// `npm run test:e2e`: the end-to-end suite against a real cluster (test/e2e/kind.sh). A config of its own,
// so the default `npm test` (jest.config.js, which ignores test/e2e/) never collects it; it shares the
// main config's transform settings so the two cannot drift.
import { base } from '../../jest.config.js';

export default {
  ...base,
  rootDir: '../..',
  testTimeout: 120000,
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
