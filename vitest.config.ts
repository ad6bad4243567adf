import { configDefaults, defineConfig } from 'vitest/config';

const INFRA = 'test/infra/**/*.test.ts';
const LOCAL_AWS = 'local-aws/**/*.test.ts';
const SHARED = ['test/unit/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/integration/**/*.test.ts'];

export default defineConfig({
  test: {
    // Integration suites start loopback servers; two cores, so keep workers few.
    pool: 'forks',
    maxWorkers: 2,
    // Generous: timeouts only catch a hang. On a loaded 2-core machine loading aws-cdk-lib and
    // synthesizing a stack in a beforeAll can take minutes, and that is not a failure.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // One temporary directory for the run (TMPDIR), removed when it ends: the CDK's synths and the
    // tests' own directories are not left behind.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    // Quiet unless something fails: a passing test's console output is dropped, and the SDK's
    // notice about the Node.js versions it will support from 2027 is not the tests' concern.
    silent: 'passed-only',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        // The CDK files share their worker's modules: aws-cdk-lib and cdk-nag are loaded once per
        // worker, not once per file (seconds each). They hold no state between files: each
        // builds its own App, mocks nothing and sets no environment. Some synthesize in a test
        // (one configuration each), which on a loaded machine takes minutes: still not a hang.
        extends: true,
        test: { name: 'infra', include: [INFRA], isolate: false, testTimeout: 600_000 },
      },
      {
        // The local AWS's own tests share their worker's modules too: importing the SDK clients,
        // dynalite and the emulators once per worker instead of once per file cuts these files'
        // CPU time by about 40%. Each starts its own local AWS (all state is per instance), mocks
        // nothing, restores what it puts in process.env, and none reads the logger's output.
        extends: true,
        test: { name: 'local-aws', include: [LOCAL_AWS], isolate: false },
      },
      {
        // The unit, CLI and integration files share their worker's modules as well: loading the
        // SDK, the local AWS and the handlers once per worker instead of once per file cut the
        // suite's import time from 80 s to 28 s. These files do change shared things (the
        // logger's level, process.env, SDK client classes mocked with aws-sdk-client-mock);
        // test/setup-shared.ts undoes those between files and fails a file that leaves a client
        // class mocked. Every integration file starts its own local AWS (state is per instance).
        extends: true,
        test: {
          name: 'shared',
          include: SHARED,
          isolate: false,
          setupFiles: ['test/setup-shared.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, INFRA, ...SHARED],
        },
      },
    ],
  },
});
