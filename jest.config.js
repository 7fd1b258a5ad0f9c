// Jest runs the TypeScript sources directly (ESM, transformed by swc); `tsc --noEmit` type-checks them.
export const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' }, sourceMaps: 'inline' },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.tollgate/'],
};

export default {
  maxWorkers: 2,
  // Jest reads testTimeout only at the top level; tests on a loaded 2-core machine get generous limits.
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  projects: [
    // Pure logic next to its code.
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{bin,contract,dataplane,operator,scripts}/**/*.test.ts'] },
    // Cross-component tests on loopback: gateway processes, fake upstreams, the official SDKs, Redis.
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // test/e2e needs a kind cluster: `npm run test:e2e` (test/e2e/jest.config.js), never `npm test`.
      testPathIgnorePatterns: [
        ...base.testPathIgnorePatterns,
        '<rootDir>/test/kube/',
        '<rootDir>/test/operator/',
        '<rootDir>/test/e2e/',
      ],
    },
    // Tests against a real kube-apiserver + etcd started once for the run (test/kube/harness.ts).
    {
      ...base,
      displayName: 'kube',
      testMatch: ['<rootDir>/test/kube/**/*.test.ts', '<rootDir>/test/operator/**/*.test.ts'],
      globalSetup: '<rootDir>/test/kube/jest-global-setup.ts',
      globalTeardown: '<rootDir>/test/kube/jest-global-teardown.ts',
    },
  ],
};
