// A previous token pushed off AWSPREVIOUS by a second rotation within its grace carries the
// revoke-after label, staged by finishSecret before it moves AWSCURRENT; the sweep revokes it at
// its issuer once that time has passed, like an AWSPREVIOUS past grace. On the embedded local AWS
// with its movable clock: the real rotation handler, the real sweep and an issuer function that
// records what it was asked to revoke.
import {
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { createPacer } from '#domain/pacer';
import { runSweep, type SweepReport } from '#domain/sweep/index';
import { revokeAfterLabel } from '#domain/sweep/labels';
import { STAGE } from '#domain/vocabulary';
import { createTaggedSecret } from '../cli/support.ts';
import { acmeIssuer } from './support/acme-issuer.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

await needsSessions(
  import.meta.url,
  'a movable clock (revoke-after labels expire in simulated hours) and what SNS published',
);

logger.setLogLevel('CRITICAL');
const HOUR = 3_600_000;
const TAGS = {
  'token-rotation:lifespan': '7d',
  'token-rotation:kind': 'lambda:acme-issuer',
  'token-rotation:grace': '2h',
};

let aws: Session | undefined;
afterEach(async () => {
  await aws?.stop();
  aws = undefined;
});

async function rotate(suite: SuiteAt, arn: string, local: Session): Promise<void> {
  await suite.secretsManager.send(
    new RotateSecretCommand({
      SecretId: arn,
      RotationLambdaARN: suite.rotationFunctionArn,
      RotateImmediately: true,
    }),
  );
  await local.idle();
}

async function sweep(suite: SuiteAt, local: Session): Promise<SweepReport> {
  const report = await runSweep(
    { ...suite.sweepDeps, pace: createPacer({ ratePerSecond: 100_000, burst: 1000 }) },
    {
      rotationFunctionArn: suite.rotationFunctionArn,
      sweepIntervalMs: suite.sweepIntervalMs,
      deadline: new Date(8.64e15),
    },
  );
  await local.idle();
  return report;
}

const stagesOf = async (suite: SuiteAt, arn: string, versionId: string) =>
  (await suite.store.describe(arn)).versions[versionId] ?? [];

/**
 * A secret rotated twice within its grace: its first token (version `first`) has lost
 * AWSPREVIOUS and carries the revoke-after label for the end of its grace, 2 hours from now.
 */
async function pushedOff() {
  aws = await openSession({ clock: '2026-03-02T09:00:00.000Z' });
  const local = aws;
  const suite = local.suite;
  const issuer = await acmeIssuer(local);
  const token = `saas_live_0000${'P'.repeat(36)}`;
  const arn = await createTaggedSecret(
    suite.secretsManager,
    'acme/pushed-off',
    JSON.stringify({ token }),
    TAGS,
  );
  const first = Object.keys((await suite.store.describe(arn)).versions)[0]!;
  const firstLiveUntil = local.clock.now().getTime();
  await rotate(suite, arn, local);
  const second = JSON.parse((await suite.store.getValue(arn)) ?? '{}').token as string;
  await local.clock.advance(10 * 60_000);
  await rotate(suite, arn, local);
  // Its grace runs from the first rotation, when it stopped being live: not from the second.
  const label = revokeAfterLabel(new Date(firstLiveUntil + 2 * HOUR));
  expect(await stagesOf(suite, arn, first)).toEqual([label]);
  return { local, suite, issuer, arn, first, token, second, label };
}

describe('a previous token pushed off AWSPREVIOUS within its grace', () => {
  it('is revoked with the token that pushed it off once their grace has passed: both old tokens, nothing else', async () => {
    // Prepare: two rotations inside one grace window.
    const { local, suite, issuer, arn, token, second } = await pushedOff();
    expect(await issuer.revoked()).toEqual([]);

    // Act
    await local.clock.advance(3 * HOUR);
    const report = await sweep(suite, local);

    // Assess: exactly the two old tokens were revoked at the issuer, the live one was not.
    expect(report.failures).toEqual([]);
    expect([...(await issuer.revoked())].sort()).toEqual([token, second].sort());
    const live = JSON.parse((await suite.store.getValue(arn)) ?? '{}').token;
    expect(await issuer.revoked()).not.toContain(live);
    const revoked = (await suite.audit.history(arn)).filter((r) => r.event === 'previous.revoked');
    expect(revoked).toHaveLength(2);
  });

  it('is revoked at its issuer once its revoke-after time has passed, and its label removed', async () => {
    // Prepare
    const { local, suite, issuer, arn, first, token, label } = await pushedOff();
    await local.clock.advance(HOUR);
    await sweep(suite, local);
    expect(await issuer.revoked()).not.toContain(token);
    expect(await stagesOf(suite, arn, first)).toEqual([label]);

    // Act
    await local.clock.advance(HOUR + 60_000);
    const report = await sweep(suite, local);

    // Assess: the issuer revoked it, and only then does the audit say so.
    expect(report.failures).toEqual([]);
    expect(await issuer.revoked()).toContain(token);
    const revoked = (await suite.audit.history(arn)).filter(
      (r) => r.event === 'previous.revoked' && r.versions?.previous === first,
    );
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({
      outcome: 'succeeded',
      detail: { revokedBy: 'lambda:acme-issuer', revokeAfter: label },
    });
    expect(await stagesOf(suite, arn, first)).toEqual([]);
  });

  it('alerts previous.revoke.failed and keeps the label while the issuer refuses, then revokes', async () => {
    // Prepare
    const { local, suite, issuer, arn, first, token, label } = await pushedOff();
    await issuer.refuseRevoke('the issuer API is down');
    await local.clock.advance(2 * HOUR + 60_000);

    // Act
    const failed = await sweep(suite, local);

    // Assess: nothing claims it was revoked; the failure is alerted and the label stays.
    expect(failed.failures.some((f) => f.action === 'revoke-after')).toBe(true);
    const history = await suite.audit.history(arn);
    expect(
      history.filter((r) => r.event === 'previous.revoked' && r.versions?.previous === first),
    ).toEqual([]);
    expect(
      history.find((r) => r.event === 'previous.revoke.failed' && r.versions?.previous === first),
    ).toMatchObject({ outcome: 'failed' });
    const alerts = (await local.published(suite.topicArn)).filter(
      (m) => m.attributes.event?.StringValue === 'previous.revoke.failed',
    );
    expect(alerts.map((a) => a.message).join('\n')).toContain(first);
    expect(await stagesOf(suite, arn, first)).toEqual([label]);

    // Act: the issuer is back.
    await issuer.refuseRevoke(undefined);
    await sweep(suite, local);

    // Assess
    expect(await issuer.revoked()).toContain(token);
    expect(await stagesOf(suite, arn, first)).toEqual([]);
  });

  it('is not revoked, only unlabelled, when it is live again', async () => {
    // Prepare: a person rolls AWSCURRENT back onto the pushed-off version.
    const { local, suite, issuer, arn, first, token, label } = await pushedOff();
    const current = Object.entries((await suite.store.describe(arn)).versions).find(([, s]) =>
      s.includes(STAGE.current),
    )![0];
    await suite.secretsManager.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: STAGE.current,
        MoveToVersionId: first,
        RemoveFromVersionId: current,
      }),
    );
    await local.clock.advance(2 * HOUR + 60_000);

    // Act
    await sweep(suite, local);

    // Assess
    expect(await issuer.revoked()).not.toContain(token);
    expect(await stagesOf(suite, arn, first)).not.toContain(label);
    expect(await stagesOf(suite, arn, first)).toContain(STAGE.current);
    const history = await suite.audit.history(arn);
    expect(
      history.filter((r) => r.event === 'previous.revoked' && r.versions?.previous === first),
    ).toEqual([]);
    expect(
      history.find((r) => r.event === 'previous.revoke.skipped' && r.versions?.previous === first),
    ).toMatchObject({ outcome: 'skipped' });
  });
});
