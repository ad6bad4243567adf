// A revoke tag set while a quarantine runs, on the embedded local AWS with the deployed tag-event
// route, revoke function and sweep: the tag's own revoke joins the quarantine (a quarantine covers
// a reissue), and the tag left behind must never bring a valid token back when the sweep later
// hands it over under a new request key. Restoring service stays a person's explicit reissue.
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RevokeRequester, SecretStore } from '#domain/ports';
import { readQuarantineNotice, revokeSecret } from '#domain/revoke/index';
import { runSweep } from '#domain/sweep/index';
import { STAGE, TAG } from '#domain/vocabulary';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

const skipped = await needsSessions(
  import.meta.url,
  "the stack's EventBridge rules delivering tag events to its functions, a movable clock and what SNS published",
);

let aws: Session;
let suite: SuiteAt;

beforeAll(async () => {
  if (skipped) return;
  aws = await openSession(
    { clock: '2026-03-02T09:00:00Z' },
    { stackName: 'TagDuringQuarantine', triggers: { rules: true } },
  );
  suite = aws.suite;
});

afterAll(async () => {
  if (skipped) return;
  await aws.idle();
  await aws.stop();
});

const alertsOf = async (name: string, event: string) =>
  (await aws.published(suite.topicArn))
    .filter(
      (m) => m.attributes.secret?.StringValue === name && m.attributes.event?.StringValue === event,
    )
    .map((m) => m.message);

/**
 * The sweep's hand-over as LambdaRevokeRequester sends it, but waited for (a RequestResponse
 * invoke through the Lambda API): the local endpoint runs an asynchronous invoke of a registered
 * function without tracking it, so idle() could return before the revoke ends. Its failure stays
 * with the function, as with an asynchronous invoke.
 */
const handOverAndWait: RevokeRequester = {
  async requestRevoke(request) {
    await suite.lambda.send(
      new InvokeCommand({
        FunctionName: suite.functions.revoke,
        Payload: Buffer.from(
          JSON.stringify({
            secretId: request.secretArn,
            reason: request.reason,
            mode: 'reissue',
            sweep: { requestId: request.requestId },
          }),
        ),
      }),
    );
  },
};

describe('a revoke tag set while a quarantine runs', () => {
  it('leaves the secret quarantined when the sweep hands the leftover tag over, and tells the person how to restore service', async () => {
    const created = await suite.secretsManager.send(
      new CreateSecretCommand({
        Name: 'prod/payments/tag-during-quarantine',
        SecretString: JSON.stringify({ token: 'tok_0123456789abcdefghijklmnopqrstuv' }),
        Tags: [
          { Key: TAG.lifespan, Value: '7d' },
          { Key: TAG.kind, Value: 'random' },
        ],
      }),
    );
    const arn = created.ARN!;
    const name = created.Name!;
    await aws.idle();

    // The quarantine has revoked the token and put its notice, not yet AWSCURRENT; then someone
    // tags the secret, and that tag's revoke (the deployed route) runs while the quarantine holds
    // the lock: it joins the quarantine, and the quarantine, which read the tags before, leaves it.
    let tagged = false;
    const taggedMidway: SecretStore = Object.create(suite.store, {
      moveStage: {
        value: async (...args: Parameters<SecretStore['moveStage']>) => {
          if (!tagged) {
            tagged = true;
            await suite.secretsManager.send(
              new TagResourceCommand({
                SecretId: arn,
                Tags: [{ Key: TAG.revoke, Value: 'token pasted in a public channel' }],
              }),
            );
            await aws.idle();
          }
          return suite.store.moveStage(...args);
        },
      },
    });
    const quarantine = await revokeSecret(
      {
        secretId: arn,
        reason: 'key leaked',
        mode: 'quarantine',
        trigger: { source: 'runbook', principal: 'arn:aws:iam::123456789012:user/oncall' },
      },
      { ...suite.revokeDeps, store: taggedMidway },
    );
    expect(quarantine.status).toBe('completed');
    const joined = await suite.audit.history(arn);
    expect(
      joined.some((r) => r.event === 'revoke.requested' && r.detail?.duplicateOf !== undefined),
    ).toBe(true);

    // The sweep finds the tag (past ListSecrets' settling window) and hands it over.
    await aws.clock.advance(6 * 60_000);
    await runSweep(
      {
        ...suite.sweepDeps,
        revokes: handOverAndWait,
      },
      {
        rotationFunctionArn: suite.rotationFunctionArn,
        sweepIntervalMs: suite.sweepIntervalMs,
        deadline: new Date(aws.clock.now().getTime() + 3_600_000),
      },
    );
    await aws.idle();

    const current = await suite.store.getValue(arn, { stage: STAGE.current });
    expect(readQuarantineNotice(current!)).toBeDefined();
    const after = await suite.store.describe(arn);
    expect(after.tags[TAG.revoke]).toBeUndefined();
    expect(await alertsOf(name, 'revoke.completed')).toHaveLength(1);
    const [refusal] = await alertsOf(name, 'revoke.failed');
    expect(refusal).toMatch(/quarantined/);
    expect(refusal).toMatch(/EmergencyRevoke runbook on this secret with Mode reissue/);
  });
});
