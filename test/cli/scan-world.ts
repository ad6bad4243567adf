// The world the scan CLI tests run in: the embedded local AWS with the suite installed, the CLI's
// environment pointed at it, the stack's fingerprint key, and a scratch folder for the files the
// scan reads. One place for what scan.test, scan-minted and scan-revoked each set up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { logger } from '#commons/logger';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { stackFingerprintKey } from '../support/token-index-fixture.ts';
import { useLocalAwsEnv } from './support.ts';

export interface ScanWorld {
  aws: LocalAws;
  suite: InstalledSuite;
  /** The stack's fingerprint key. */
  key: string;
  /** A scratch folder, removed by stopScanWorld. */
  dir: string;
}

/** Starts the world; `label` names the scratch folder. */
export async function startScanWorld(label: string): Promise<ScanWorld> {
  logger.setLogLevel('SILENT');
  const aws = await startLocalAws();
  const suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  const key = await stackFingerprintKey(suite);
  return { aws, suite, key, dir: mkdtempSync(join(tmpdir(), `${label}-`)) };
}

export async function stopScanWorld(world: ScanWorld | undefined): Promise<void> {
  vi.unstubAllEnvs();
  if (!world) return;
  rmSync(world.dir, { recursive: true, force: true });
  await world.aws.stop();
}
