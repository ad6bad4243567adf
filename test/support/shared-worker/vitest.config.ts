// Two files run one after the other in one worker that shares its modules, as the "shared" project
// of vitest.config.ts runs them, with that project's setup files: what the first file leaves in
// the worker must not be what the second one starts with (test/unit/shared-worker.test.ts).

import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

class ByName extends BaseSequencer {
  override async sort(files: TestSpecification[]) {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
  override async shard(files: TestSpecification[]) {
    return files;
  }
}

export default defineConfig({
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['test/support/shared-worker/*.fixture.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    isolate: false,
    sequence: { sequencer: ByName },
    setupFiles: ['test/setup.ts', 'test/setup-shared.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
