// Previous-token revocation after grace follows the custom issuer's contract, never the shape of
// the value. On the embedded local AWS: the real rotation handler (invoked by RotateSecret), the
// real sweep, and an issuer function reached through the Lambda API, which records what it was
// asked to revoke.
import { PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { createPacer } from '#domain/pacer';
import { runSweep } from '#domain/sweep/index';
import { STAGE } from '#domain/vocabulary';
import { createTaggedSecret } from '../cli/support.ts';
import { acmeIssuer } from './support/acme-issuer.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

await needsSessions(
  import.meta.url,
  'a movable clock (grace passes in simulated hours) and what SNS published',
);

logger.setLogLevel('CRITICAL');
const HOUR = 3_600_000;

let aws: Session | undefined;
afterEach(async () => {
  await aws?.stop();
  aws = undefined;
});

async function start() {
  aws = await openSession({ clock: '2026-03-02T09:00:00.000Z' });
  return { local: aws, suite: aws.suite };
}

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

async function sweepAfterGrace(suite: SuiteAt, local: Session) {
  await local.clock.advance(3 * HOUR);
  await runSweep(
    { ...suite.sweepDeps, pace: createPacer({ ratePerSecond: 100_000, burst: 1000 }) },
    {
      rotationFunctionArn: suite.rotationFunctionArn,
      sweepIntervalMs: suite.sweepIntervalMs,
      deadline: new Date(8.64e15),
    },
  );
  await local.idle();
}

/** An OAuth client ID: 24 letters and digits, constant across rotations. */
const CLIENT_ID = 'Xk7pQ2mN9vR4tL8wZ3bY6cH1';
const TAGS = {
  'token-rotation:lifespan': '7d',
  'token-rotation:kind': 'lambda:acme-issuer',
};

describe('previous-token revocation by the issuer contract', () => {
  it('revokes the previous token at an issuer that names neither a keyId nor a token field, next to a constant credential-looking field', async () => {
    // Prepare
    const { local, suite } = await start();
    const issuer = await acmeIssuer(local);
    const first = `saas_live_0000${'P'.repeat(36)}`;
    const arn = await createTaggedSecret(
      suite.secretsManager,
      'acme/oauth-client',
      JSON.stringify({ clientId: CLIENT_ID, token: first }),
      TAGS,
    );
    await rotate(suite, arn, local);
    expect(JSON.parse((await suite.store.getValue(arn)) ?? '{}').token).not.toBe(first);

    // Act
    await sweepAfterGrace(suite, local);

    // Assess: the issuer got the previous token, with the live value to decide by, and only then
    // does the audit say revoked.
    expect(await issuer.revoked()).toEqual([first]);
    expect(JSON.parse((await issuer.revokeRequests())[0]!.current ?? '{}').token).toBe(
      JSON.parse((await suite.store.getValue(arn)) ?? '{}').token,
    );
    const revoked = (await suite.audit.history(arn)).filter((r) => r.event === 'previous.revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({
      outcome: 'succeeded',
      detail: { revokedBy: 'lambda:acme-issuer', notLiveBy: 'the issuer, given the live value' },
    });
  });

  it('tells the tokens apart by the token field the mint reply names', async () => {
    // Prepare
    const { local, suite } = await start();
    const issuer = await acmeIssuer(local, { tokenField: 'token' });
    const first = `saas_live_0000${'P'.repeat(36)}`;
    const arn = await createTaggedSecret(
      suite.secretsManager,
      'acme/named-field',
      JSON.stringify({ clientId: CLIENT_ID, token: first }),
      TAGS,
    );
    await rotate(suite, arn, local);
    const minted = JSON.parse((await suite.store.getValue(arn)) ?? '{}');
    await rotate(suite, arn, local);

    // Act
    await sweepAfterGrace(suite, local);

    // Assess: the first minted token (now AWSPREVIOUS) and the hand-set one it replaced (pushed
    // off AWSPREVIOUS within its grace, so labelled revoke-after) are revoked, and nothing else.
    // The minted one is known by its field not live; the hand-set one, which no mint reply
    // named a field of, is decided by the issuer, given the live value.
    expect([...(await issuer.revoked())].sort()).toEqual([first, minted.token].sort());
    const givenLive = Object.fromEntries(
      (await issuer.revokeRequests()).map((r) => [
        JSON.parse(r.value ?? '{}').token,
        r.current !== undefined,
      ]),
    );
    expect(givenLive).toEqual({ [minted.token]: false, [first]: true });
    const records = (await suite.audit.history(arn)).filter((r) => r.event === 'previous.revoked');
    expect(records.map((r) => r.detail?.notLiveBy).sort()).toEqual([
      'the issuer, given the live value',
      'tokenField token',
    ]);
  });

  it('skips, with its reason and an alert, a previous version whose token the live value still holds', async () => {
    // Prepare: after a rotation, someone edits a notes field in the console (same token).
    const { local, suite } = await start();
    const issuer = await acmeIssuer(local, { tokenField: 'token' });
    const arn = await createTaggedSecret(
      suite.secretsManager,
      'acme/notes-edit',
      JSON.stringify({ clientId: CLIENT_ID, token: `saas_live_0000${'P'.repeat(36)}` }),
      TAGS,
    );
    await rotate(suite, arn, local);
    const live = JSON.parse((await suite.store.getValue(arn)) ?? '{}');
    await suite.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: arn,
        SecretString: JSON.stringify({ ...live, notes: 'owned by payments' }),
      }),
    );

    // Act
    await sweepAfterGrace(suite, local);

    // Assess: the live token was not revoked, and nothing claims it was.
    expect(await issuer.revoked()).toEqual([]);
    const history = await suite.audit.history(arn);
    expect(history.filter((r) => r.event === 'previous.revoked')).toEqual([]);
    expect(history.find((r) => r.event === 'previous.revoke.skipped')).toMatchObject({
      outcome: 'skipped',
    });
    const alerts = (await local.published(suite.topicArn)).filter(
      (m) => m.attributes.event?.StringValue === 'previous.revoke.skipped',
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain('holds the same token, by its tokenField token');
    const stages = (await suite.store.describe(arn)).versions;
    expect(Object.values(stages).filter((s) => s.includes(STAGE.previous))).toEqual([]);
  });
});
