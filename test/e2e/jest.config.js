// `npm run test:e2e`: the end-to-end suite against a real cluster (test/e2e/kind.sh). A config of its own,
// so the default `npm test` (jest.config.js, which ignores test/e2e/) never collects it.
export default {
  rootDir: '../..',
  testEnvironment: 'node',
  testTimeout: 120000,
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' }, sourceMaps: 'inline' },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
