// `status --check` for cron and CI: exit 0 while every secret is fine, exit 1 naming each secret
// that needs a person (quarantined, overdue, invalid policy), with the quarantine marked in the table.
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { scheduleFor } from '#domain/schedule';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { cli, createTaggedSecret, readTable, settleListings, useLocalAwsEnv } from './support.ts';

const DAY = 24 * 3_600_000;
const HEALTHY = 'check/healthy-key';
const LEAKED = 'check/leaked-key';

let aws: LocalAws;
let suite: InstalledSuite;

async function rotatedSecret(name: string) {
  await createTaggedSecret(
    suite.secretsManager,
    name,
    JSON.stringify({ token: `acme_live_${name.replace(/\W/g, '')}Seed0123456789abcdefXYZ` }),
    { [TAG.lifespan]: '7d' },
  );
  const schedule = scheduleFor(7 * DAY);
  await suite.secretsManager.send(
    new RotateSecretCommand({
      SecretId: name,
      RotationLambdaARN: suite.rotationFunctionArn,
      RotationRules: {
        ScheduleExpression: schedule.scheduleExpression,
        Duration: schedule.duration,
      },
    }),
  );
  await aws.idle();
}

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws();
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  await rotatedSecret(HEALTHY);
  await rotatedSecret(LEAKED);
  // Status lists with ListSecrets, which may leave out what changed in the last minutes.
  await settleListings(aws);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('status --check', () => {
  it('exits 0 while every secret is rotated on time', async () => {
    const result = await cli(aws, 'status', '--check', '--quiet');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('status --check:');
  });

  it('exits 1 once a secret is quarantined, marking it in the table and naming it', async () => {
    // Prepare
    await aws.functions.invoke(suite.functions.revoke, {
      secretId: LEAKED,
      reason: 'token pasted in a public channel',
      mode: 'quarantine',
    });
    await settleListings(aws);

    // Act
    const plain = await cli(aws, 'status', '--quiet');
    const checked = await cli(aws, 'status', '--check', '--quiet');
    const json = await cli(aws, 'status', '--check', '--quiet', '--format', 'json');

    // Assess: without --check the table is the same and the exit code stays 0
    expect(plain.code).toBe(0);
    const rows = Object.fromEntries(readTable(checked.stdout).map((row) => [row.SECRET, row]));
    expect(rows[LEAKED]!.NOTES).toContain('quarantined');
    expect(rows[HEALTHY]!.NOTES).not.toContain('quarantined');
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain('2 opted-in secrets: 0 overdue, 1 quarantined.');
    expect(checked.stdout).toContain(
      `status --check: 1 secret needs attention: ${LEAKED} (quarantined).`,
    );
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { name: string; quarantined: boolean }[];
    expect(parsed.map((row) => [row.name, row.quarantined])).toEqual([
      [HEALTHY, false],
      [LEAKED, true],
    ]);
  });

  it('still names the quarantined secret once it is overdue too, and only the secrets that need a person', async () => {
    // Act: eight days on, the healthy secret rotated on schedule; the quarantined one cannot
    await aws.clock.advance(8 * DAY);
    await settleListings(aws);
    const result = await cli(aws, 'status', '--check', '--quiet');

    // Assess: overdue as well, but quarantine is what a person must act on
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('2 opted-in secrets: 1 overdue, 1 quarantined.');
    expect(result.stdout).toContain(
      `status --check: 1 secret needs attention: ${LEAKED} (quarantined).`,
    );
  });
});
