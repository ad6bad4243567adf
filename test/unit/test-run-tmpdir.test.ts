// `npm test` leaves nothing in the machine's temporary directory: the run gets one directory of
// its own (test/global-setup.ts), which everything the run makes lands in and which goes at the
// end, and a second project's setup in the same run reuses it.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import setup from '../global-setup.ts';

afterEach(() => vi.unstubAllEnvs());

it('gives a run one temporary directory and removes it, with all that was made in it, at the end', () => {
  // Arrange: as before any project's setup ran.
  vi.stubEnv('TOKEN_ROTATION_TEST_TMPDIR', undefined);
  const machineTmp = tmpdir();

  // Act
  const teardown = setup();
  const runDir = tmpdir();
  const secondTeardown = setup();
  const made = mkdtempSync(join(tmpdir(), 'cdk.out'));
  writeFileSync(join(made, 'manifest.json'), '{}');
  secondTeardown();
  const keptUntilFirst = existsSync(made);
  teardown();

  // Assess
  expect(runDir).not.toBe(machineTmp);
  expect(dirname(runDir)).toBe(machineTmp);
  expect(keptUntilFirst).toBe(true);
  expect(existsSync(runDir)).toBe(false);
  expect(tmpdir()).toBe(machineTmp);
});
