// One temporary directory per test run, removed when the run ends. The CDK writes every synth
// without an outdir to a directory of its own under os.tmpdir() (about 60 per run), and tests,
// the local Lambda and the CLI make theirs there too; a run left them all behind. The workers
// start after this and inherit TMPDIR, so os.tmpdir() is this run's directory for everything the
// run does, child processes included, and two runs on one machine never touch each other's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUN_TMPDIR = 'TOKEN_ROTATION_TEST_TMPDIR';

export default function setup(): () => void {
  // Every project inherits this global setup: the first one makes the directory.
  if (process.env[RUN_TMPDIR]) return () => {};
  const dir = mkdtempSync(join(tmpdir(), 'token-rotation-test-'));
  const before = process.env.TMPDIR;
  process.env[RUN_TMPDIR] = dir;
  process.env.TMPDIR = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    delete process.env[RUN_TMPDIR];
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  };
}
