// `status` under ListSecrets' eventual consistency: a secret changed in the last minutes (every
// rotation changes one) may be left out of a listing, on AWS as here. A secret the suite manages
// is in its managed set, read consistently, so status shows it all the same; a secret only just
// tagged, not managed yet, may wait for the listing to settle, as the sweep waits for it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { cli, createTaggedSecret, settleListings, sweepOnce, useLocalAwsEnv } from './support.ts';

const MANAGED = ['managed/billing-key', 'managed/reports-key'];

let aws: LocalAws;
let suite: InstalledSuite;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  // Every secret changed in the last five minutes is left out of every page: the worst ListSecrets
  // AWS documents, made certain so the test does not depend on a seed's draw.
  aws = await startLocalAws({
    clock: new Date('2026-08-03T09:00:00Z'),
    secretsManager: { listConsistency: { seed: 1, omitChance: 1, shortPageChance: 0 } },
  });
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  for (const name of MANAGED) {
    await createTaggedSecret(suite.secretsManager, name, `acme_live_${name.length}_0123456789ab`, {
      [TAG.lifespan]: '7d',
    });
  }
  await settleListings(aws);
  // The sweep attaches rotation, which rotates each secret at once: both changed just now.
  await sweepOnce(aws, suite);
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('status while ListSecrets leaves out what changed in the last minutes', () => {
  it('still shows every secret the suite manages, read with DescribeSecret', async () => {
    // Act
    const omittedBefore = aws.secretsManager.listOmissions.length;
    const result = await cli(aws, 'status', '--quiet', '--format', 'json');

    // Assess: ListSecrets left both out, and status shows both, as they are now
    const omitted = aws.secretsManager.listOmissions.slice(omittedBefore).map((o) => o.secretArn);
    expect(new Set(omitted).size).toBe(MANAGED.length);
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as {
      arn: string;
      name: string;
      rotationAttached: boolean;
    }[];
    expect(rows.map((row) => [row.name, row.rotationAttached])).toEqual(
      MANAGED.map((name) => [name, true]),
    );
    expect(rows.map((row) => row.arn).sort()).toEqual([...new Set(omitted)].sort());
  });
});
