// `status` shows the evidence behind each secret: the newest checkpoint anchoring its audit chain,
// and whether its previous token (in grace) was used since the rotation, as consumers' verifiers
// recorded it. On the embedded local AWS, with the audit anchor deployed.
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoTokenUses } from '#adapters/dynamodb-token-uses';
import { logger } from '#commons/logger';
import { writeCheckpoint } from '#domain/audit-anchor';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { localCheckpointDeps } from '#local-aws/suite-anchor';
import { cli, createTaggedSecret, readTable, sweepOnce, useLocalAwsEnv } from './support.ts';

const MINUTE = 60_000;
let aws: LocalAws;
let suite: InstalledSuite;
const arns: Record<string, string> = {};

async function previousOf(name: string): Promise<string> {
  const described = await suite.store.describe(name);
  return Object.entries(described.versions).find(([, s]) => s.includes('AWSPREVIOUS'))![0];
}

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws({ clock: new Date('2026-07-01T09:00:00Z') });
  suite = await installSuite(aws, { anchor: true });
  useLocalAwsEnv(aws);
  for (const name of ['app/used', 'app/switched', 'app/new']) {
    arns[name] = await createTaggedSecret(suite.secretsManager, name, `acme_live_${name}`, {
      [TAG.lifespan]: '7d',
      [TAG.grace]: '2h',
    });
  }
  await sweepOnce(aws, suite);
  for (const name of ['app/used', 'app/switched']) {
    await suite.secretsManager.send(new RotateSecretCommand({ SecretId: name }));
    await aws.idle();
  }
  // A consumer of app/used still presents the previous token 20 minutes after the rotation
  await aws.clock.advance(20 * MINUTE);
  const uses = new DynamoTokenUses(suite.dynamo, suite.tableName);
  await uses.record(arns['app/used']!, await previousOf('app/used'), {
    at: aws.clock.now(),
    by: 'billing-service',
  });
  await sweepOnce(aws, suite);
  const bucket = `${suite.stackName.toLowerCase()}-checkpoints`;
  await writeCheckpoint(
    localCheckpointDeps(aws, suite.dynamo, suite.tableName, bucket, suite.sweepDeps.managed),
  );
  await aws.clock.advance(10 * MINUTE);
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('status shows the evidence behind each secret', () => {
  it('says which previous tokens in grace were used since their rotation, and by whom', async () => {
    // Act
    const result = await cli(aws, 'status');

    // Assess
    expect(result.code).toBe(0);
    const rows = Object.fromEntries(readTable(result.stdout).map((row) => [row.SECRET, row]));
    expect(rows['app/used']!['PREVIOUS TOKEN']).toBe('USED 10m ago by billing-service');
    expect(rows['app/switched']!['PREVIOUS TOKEN']).toBe('no use since rotation');
    expect(rows['app/new']!['PREVIOUS TOKEN']).toBe('-');
  });

  it('shows the newest checkpoint anchoring each chain, by the chain record it reaches', async () => {
    const result = await cli(aws, 'status');
    const rows = Object.fromEntries(readTable(result.stdout).map((row) => [row.SECRET, row]));
    for (const name of ['app/used', 'app/switched', 'app/new']) {
      expect(rows[name]!.ANCHORED).toMatch(/^#\d+, 10m ago$/);
    }
    const json = JSON.parse((await cli(aws, 'status', '--format', 'json')).stdout) as {
      name: string;
      checkpoint: { checkpoint: number; chainSeq: number } | null;
      previous: { use: string; source: string; lastUsed?: { by: string } } | null;
    }[];
    const used = json.find((row) => row.name === 'app/used')!;
    expect(used.checkpoint).toMatchObject({ checkpoint: 1 });
    expect(used.checkpoint!.chainSeq).toBeGreaterThan(1);
    expect(used.previous).toMatchObject({
      use: 'used',
      source: 'verifier records',
      lastUsed: { by: 'billing-service' },
    });
  });

  it('says when the checkpoints cannot be read, instead of showing the secrets as not anchored, and --check fails', async () => {
    // Act: a bucket that does not exist (a wrong name, or no s3:ListBucket)
    const result = await cli(aws, 'status', '--check', '--checkpoint-bucket', 'no-such-bucket');

    // Assess
    expect(result.code).toBe(1);
    const rows = readTable(result.stdout);
    expect(rows.map((row) => row.ANCHORED)).toEqual(['unreadable', 'unreadable', 'unreadable']);
    expect(result.stdout).toMatch(
      /The newest checkpoint in s3:\/\/no-such-bucket could not be read \(.*NoSuchBucket.*\): which records are anchored is unknown/,
    );
  });
});
