import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start loopback servers; two cores, so keep workers few.
    pool: 'forks',
    maxWorkers: 2,
    // Generous: timeouts only catch a hang. On a loaded 2-core machine loading aws-cdk-lib and
    // synthesizing a stack in a beforeAll can take minutes, and that is not a failure.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    setupFiles: ['test/setup.ts'],
  },
});
