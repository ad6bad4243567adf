// `--wide`: a table shows every cell whole. Without it long cells are cut to keep the table
// readable; with it nothing is, so a long secret name can be copied from the terminal.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { cli, createTaggedSecret, settleListings, useLocalAwsEnv } from './support.ts';

const LONG_NAME = `prod/payments/${'settlement-provider-'.repeat(5)}api-token`;

let aws: LocalAws;
let suite: InstalledSuite;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws();
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  await createTaggedSecret(suite.secretsManager, LONG_NAME, 'hand-set-value-0001', {
    [TAG.lifespan]: '7d',
  });
  // Status lists with ListSecrets, which may leave out what changed in the last minutes.
  await settleListings(aws);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('tables with and without --wide', () => {
  it('cuts a long secret name by default and shows it whole with --wide', async () => {
    // Act
    const narrow = await cli(aws, 'status', '--quiet');
    const wide = await cli(aws, 'status', '--quiet', '--wide');

    // Assess
    expect(LONG_NAME.length).toBeGreaterThan(72);
    expect(narrow.stdout).not.toContain(LONG_NAME);
    expect(narrow.stdout).toContain(`${LONG_NAME.slice(0, 40)}`);
    expect(narrow.stdout).toContain('…');
    expect(wide.stdout).toContain(LONG_NAME);
    expect(wide.stdout).not.toContain('…');
  });
});
