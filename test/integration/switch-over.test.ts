// Consumer switch-over for `random` tokens, on the embedded local AWS with its movable clock: a
// service checks presented tokens with the verifier (lambdas/consumer/token-verifier.ts), which
// records uses of the previous token in the audit table; the real sweep reads them before it
// revokes the previous token after grace.
import { createHash } from 'node:crypto';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoTokenUses } from '#adapters/dynamodb-token-uses';
import { logger } from '#commons/logger';
import {
  createTokenVerifier,
  secretsManagerStages,
} from '../../lambdas/consumer/token-verifier.ts';
import { createTaggedSecret, sweepOnce } from '../cli/support.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

await needsSessions(
  import.meta.url,
  'a movable clock (grace and its extension pass in simulated hours) and what SNS published',
);

logger.setLogLevel('CRITICAL');
const HOUR = 3_600_000;
const CANARY = 'tr_canary_switch_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';

let aws: Session | undefined;
afterEach(async () => {
  await aws?.stop();
  aws = undefined;
});

async function world() {
  aws = await openSession({ clock: '2026-03-02T09:00:00.000Z' });
  const local = aws;
  const suite = local.suite;
  const arn = await createTaggedSecret(
    suite.secretsManager,
    'billing/api-token',
    JSON.stringify({ token: CANARY, owner: 'payments' }),
    { 'token-rotation:lifespan': '7d', 'token-rotation:grace': '1h' },
  );
  const verifier = (consumer: string) =>
    createTokenVerifier({
      secretArn: arn,
      consumer,
      read: secretsManagerStages(suite.secretsManager, arn),
      uses: new DynamoTokenUses(suite.dynamo, suite.tableName),
      now: local.clock.now,
    });
  const rotate = async () => {
    await suite.secretsManager.send(
      new RotateSecretCommand({
        SecretId: arn,
        RotationLambdaARN: suite.rotationFunctionArn,
        RotateImmediately: true,
      }),
    );
    await local.idle();
  };
  const sweep = () => sweepOnce(local, suite);
  return { local, suite, arn, verifier, rotate, sweep };
}

const previousOf = async (suite: SuiteAt, arn: string) =>
  Object.entries((await suite.store.describe(arn)).versions).find(([, s]) =>
    s.includes('AWSPREVIOUS'),
  )?.[0];

/** Every item in the audit table, and every alert, as text. */
async function everything(suite: SuiteAt, local: Session): Promise<string> {
  const { Items } = await suite.dynamo.send(new ScanCommand({ TableName: suite.tableName }));
  return JSON.stringify(Items) + JSON.stringify(await local.published(suite.topicArn));
}

describe('consumer switch-over for random tokens', () => {
  it('extends the grace once while a service still accepts the previous token, then revokes it anyway', async () => {
    // Prepare: a service that was handed the old token keeps presenting it after the rotation
    const { local, suite, arn, verifier, rotate, sweep } = await world();
    const service = verifier('billing-api (eu-west-1)');
    expect(await service.verify(CANARY)).toBe('current');
    await rotate();
    const previous = await previousOf(suite, arn);
    await local.clock.advance(30 * 60_000);
    expect(await service.verify(CANARY)).toBe('previous');

    // Act: grace ends (1h) → extended; the extension ends → revoked
    await local.clock.advance(HOUR);
    await sweep();
    const whileExtended = await previousOf(suite, arn);
    await local.clock.advance(HOUR + 60_000);
    await sweep();
    await local.clock.advance(2 * 60_000);

    // Assess
    expect(whileExtended).toBe(previous);
    expect(await previousOf(suite, arn)).toBeUndefined();
    expect(await service.verify(CANARY)).toBe('invalid');
    const events = (await suite.audit.history(arn)).map((r) => `${r.event}:${r.outcome}`);
    expect(events.filter((e) => e.startsWith('previous.'))).toEqual([
      'previous.still-used:skipped',
      'previous.revoked:succeeded',
      'previous.still-used:reported',
    ]);
    const alerts = (await local.published(suite.topicArn)).filter((m) =>
      m.subject?.includes('previous.still-used'),
    );
    expect(alerts.map((m) => m.subject)).toEqual([
      '[HIGH] previous.still-used: billing/api-token',
      '[HIGH] previous.still-used: billing/api-token',
    ]);
    expect(alerts[0]?.message).toContain('billing-api (eu-west-1)');
    const text = await everything(suite, local);
    const bytes = Buffer.from(CANARY, 'utf8');
    for (const form of [
      CANARY,
      bytes.toString('base64'),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      createHash('sha256').update(CANARY).digest('hex'),
      createHash('sha256').update(CANARY).digest('base64'),
    ]) {
      expect(text.includes(form), 'a form of the previous token is stored or sent').toBe(false);
    }
  });

  it('revokes at once, and says so, when the extension cannot be audited', async () => {
    // Prepare: the old token still presented; the audit table refuses the extension's record
    const { local, suite, arn, verifier, rotate, sweep } = await world();
    const service = verifier('billing-api');
    await rotate();
    await local.clock.advance(30 * 60_000);
    expect(await service.verify(CANARY)).toBe('previous');
    const audit = suite.sweepDeps.audit;
    const append = audit.append.bind(audit);
    audit.append = async (entry) => {
      if (entry.event === 'previous.still-used' && entry.outcome === 'skipped') {
        throw new Error('ProvisionedThroughputExceededException: the table is busy');
      }
      return append(entry);
    };

    // Act
    try {
      await local.clock.advance(HOUR);
      await sweep();
    } finally {
      audit.append = append;
    }

    // Assess: no silent extension; revoked, with the reason, and the still-used alert says so
    const versions = (await suite.store.describe(arn)).versions;
    expect(
      Object.values(versions)
        .flat()
        .filter((l) => l.includes('grace-extended')),
    ).toEqual([]);
    expect(await previousOf(suite, arn)).toBeUndefined();
    const revoked = (await suite.audit.history(arn)).find((r) => r.event === 'previous.revoked');
    expect(revoked?.detail).toMatchObject({
      revokedAnyway: 'true',
      extension: expect.stringContaining('not extended: ProvisionedThroughputExceeded'),
    });
    const alerts = (await local.published(suite.topicArn)).filter((m) =>
      m.subject?.includes('still-used'),
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.message).toContain('was revoked although a consumer still used it');
  });

  it('revokes at the end of grace when the services switched: only the live token was presented', async () => {
    // Prepare
    const { local, suite, arn, verifier, rotate, sweep } = await world();
    const service = verifier('billing-api');
    await rotate();
    const live = JSON.parse((await suite.store.getValue(arn, { stage: 'AWSCURRENT' }))!).token;
    await local.clock.advance(30 * 60_000);
    expect(await service.verify(live)).toBe('current');

    // Act
    await local.clock.advance(HOUR);
    await sweep();

    // Assess
    expect(await previousOf(suite, arn)).toBeUndefined();
    const revoked = (await suite.audit.history(arn)).find((r) => r.event === 'previous.revoked');
    expect(revoked?.detail?.lastUsed).toBe('never, as the issuer records it');
    expect(
      (await local.published(suite.topicArn)).filter((m) => m.subject?.includes('still-used')),
    ).toEqual([]);
  });
});
