// `status` tells a quarantined secret by what it holds now (its AWSCURRENT is the quarantine
// notice), not by its newest audit record: a failed rotation or an overdue lifespan written after
// the quarantine leaves it quarantined, and a reissue afterwards ends it.
import {
  RotateSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { scheduleFor } from '#domain/schedule';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import {
  cli,
  createTaggedSecret,
  readTable,
  settleListings,
  sweepOnce,
  useLocalAwsEnv,
} from './support.ts';

const DAY = 24 * 3_600_000;
const LEAKED = 'quarantine/leaked-key';

let aws: LocalAws;
let suite: InstalledSuite;
let arn = '';

/** The secret's newest audit record, as status reads it. */
async function newestEvent(): Promise<string | undefined> {
  return (await suite.audit.history(arn, { newestFirst: true, limit: 1 }))[0]?.event;
}

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws();
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  arn = await createTaggedSecret(
    suite.secretsManager,
    LEAKED,
    JSON.stringify({ token: 'acme_live_quarantineSeed0123456789abcdefXYZ' }),
    { [TAG.lifespan]: '7d' },
  );
  const schedule = scheduleFor(7 * DAY);
  await suite.secretsManager.send(
    new RotateSecretCommand({
      SecretId: LEAKED,
      RotationLambdaARN: suite.rotationFunctionArn,
      RotationRules: {
        ScheduleExpression: schedule.scheduleExpression,
        Duration: schedule.duration,
      },
    }),
  );
  await aws.idle();
  await aws.functions.invoke(suite.functions.revoke, {
    secretId: LEAKED,
    reason: 'token pasted in a public channel',
    mode: 'quarantine',
  });
});

/** Status lists with ListSecrets, which may leave out a secret changed in the last minutes. */
const settled = () => settleListings(aws);

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('status of a quarantined secret', () => {
  it('stays quarantined after a rotation fails on the notice', async () => {
    // Prepare: a rotation now, which fails on the notice and is audited after the quarantine
    await suite.secretsManager.send(new RotateSecretCommand({ SecretId: LEAKED }));
    await aws.idle();
    expect(await newestEvent()).toBe('rotation.failed');
    await settled();

    // Act
    const checked = await cli(aws, 'status', '--check', '--quiet');

    // Assess
    const row = readTable(checked.stdout).find((r) => r.SECRET === LEAKED)!;
    expect(row.NOTES).toContain('quarantined');
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain(
      `status --check: 1 secret needs attention: ${LEAKED} (quarantined).`,
    );
  });

  it('stays quarantined once the sweep finds it overdue', async () => {
    // Prepare: eight days on, the sweep audits the quarantined secret as overdue
    await aws.clock.advance(8 * DAY);
    await aws.idle();
    expect(['rotation.failed', 'lifespan.overdue']).toContain(await newestEvent());
    await settled();

    // Act
    const checked = await cli(aws, 'status', '--check', '--quiet', '--format', 'json');

    // Assess: quarantine is what needs a person first, whatever else is true of the secret
    const rows = JSON.parse(checked.stdout) as { name: string; quarantined: boolean }[];
    expect(rows.find((r) => r.name === LEAKED)?.quarantined).toBe(true);
    expect(checked.code).toBe(1);
  });

  it('stays quarantined when neither its tags nor its newest record tell of the revoke', async () => {
    // Prepare: the revoke's tag gone (taken off by hand), then a bad tag audited after it
    await suite.secretsManager.send(
      new UntagResourceCommand({ SecretId: LEAKED, TagKeys: [TAG.lastRevoked] }),
    );
    await suite.secretsManager.send(
      new TagResourceCommand({ SecretId: LEAKED, Tags: [{ Key: TAG.lifespan, Value: 'banana' }] }),
    );
    await settled();
    await sweepOnce(aws, suite);
    expect(await newestEvent()).toBe('policy.invalid');
    await settled();

    // Act
    const checked = await cli(aws, 'status', '--check', '--quiet', '--format', 'json');

    // Assess: what the secret holds decides, read back with DescribeSecret
    const rows = JSON.parse(checked.stdout) as { name: string; quarantined: boolean }[];
    expect(rows.find((r) => r.name === LEAKED)?.quarantined).toBe(true);
    expect(checked.code).toBe(1);
  });

  it('is no longer quarantined once a reissue restored a token', async () => {
    // Prepare
    await aws.functions.invoke(suite.functions.revoke, {
      secretId: LEAKED,
      reason: 'restoring service after the quarantine',
      mode: 'reissue',
    });
    await aws.idle();
    await settled();

    // Act
    const result = await cli(aws, 'status', '--quiet', '--format', 'json');

    // Assess
    const rows = JSON.parse(result.stdout) as { name: string; quarantined: boolean }[];
    expect(rows.find((r) => r.name === LEAKED)?.quarantined).toBe(false);
  });
});
