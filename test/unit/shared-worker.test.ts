// The unit, CLI and integration files share their worker's modules (vitest.config.ts). Two files
// run one after the other in such a worker, with the project's own setup files: the second sees
// none of what the first left (AWS_ENDPOINT_URL, a silenced logger, what the CLI printed). When it
// did, an integration file after a CLI file read the CLI file's endpoint at import and skipped
// every test, counted as passed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const CONFIG = 'test/support/shared-worker/vitest.config.ts';

it('starts each file of a shared worker as the worker started, whatever the file before left', () => {
  // Arrange: the child runs on the embedded local AWS, not on an endpoint this run may be given.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.AWS_ENDPOINT_URL;
  delete env.INTEGRATION_TARGET;
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;

  // Act
  const child = spawnSync(process.execPath, [VITEST, 'run', '--config', CONFIG], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });

  // Assess
  const output = child.stdout + child.stderr;
  expect(output).toMatch(/Tests\s+4 passed \(4\)/);
  expect(child.status, output).toBe(0);
});
