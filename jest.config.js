// Jest runs the TypeScript sources directly (ESM, transformed by swc); `tsc --noEmit` type-checks them.
const base = {
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

import { existsSync } from 'node:fs';

// The kube project joins once its harness exists (issue 3); until then it is not part of the run.
const hasKube = existsSync(new URL('./test/kube/jest-global-setup.ts', import.meta.url));

export default {
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  projects: [
    // Pure logic next to its code.
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{bin,dataplane,operator,scripts}/**/*.test.ts'] },
    // Cross-component tests on loopback: gateway processes, fake upstreams, the official SDKs, Redis.
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: [...base.testPathIgnorePatterns, '<rootDir>/test/kube/', '<rootDir>/test/operator/'],
      testTimeout: 30000,
    },
    ...(hasKube
      ? [
          // Tests against a real kube-apiserver + etcd started once for the project.
          {
            ...base,
            displayName: 'kube',
            testMatch: ['<rootDir>/test/kube/**/*.test.ts', '<rootDir>/test/operator/**/*.test.ts'],
            globalSetup: '<rootDir>/test/kube/jest-global-setup.ts',
            globalTeardown: '<rootDir>/test/kube/jest-global-teardown.ts',
            testTimeout: 120000,
          },
        ]
      : []),
  ],
};
