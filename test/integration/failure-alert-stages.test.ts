// A failure alert states the staging labels as read after the failure. Run on the embedded local
// AWS with the suite installed as deployed: Secrets Manager's RotateSecret invokes the real
// rotation handler, whose UpdateSecretVersionStage lands but whose answer is lost (a timeout
// after the request was carried out), so finishSecret fails with AWSCURRENT already moved.
import { CreateSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { STAGE } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { installSuite } from '#local-aws/suite';
import { embeddedOnly } from './support/endpoint.ts';
import { injectFaults } from './support/sdk-faults.ts';

embeddedOnly(
  import.meta.url,
  "the local AWS's SNS publish record (the alert's text is read back from it) and its idle signal (the rotation Secrets Manager runs by itself has finished)",
);

logger.setLogLevel('CRITICAL');

let aws: LocalAws | undefined;
afterEach(async () => {
  await aws?.stop();
  aws = undefined;
});

describe('failure alerts say what the stages are after the failure', () => {
  it('says AWSCURRENT moved to the new token when finishSecret fails after moving it', async () => {
    // Prepare
    aws = await startLocalAws({ clock: '2026-03-02T09:00:00.000Z' });
    const suite = await installSuite(aws);
    const created = await suite.secretsManager.send(
      new CreateSecretCommand({
        Name: 'payments/stages-after',
        SecretString: JSON.stringify({ token: `acme_live_${'x'.repeat(40)}` }),
        Tags: [{ Key: 'token-rotation:lifespan', Value: '7d' }],
      }),
    );
    const faults = injectFaults(suite.secretsManager);
    faults.fail({
      command: 'UpdateSecretVersionStageCommand',
      when: (input) => input.VersionStage === STAGE.current,
      kind: 'timeout-after',
    });
    const version = '11111111-2222-4333-8444-555555555555';

    // Act
    await suite.secretsManager.send(
      new RotateSecretCommand({
        SecretId: created.ARN,
        RotationLambdaARN: suite.rotationFunctionArn,
        ClientRequestToken: version,
        RotateImmediately: true,
      }),
    );
    await aws.idle();

    // Assess: the fault fired, AWSCURRENT really is on the new version, and the alert says so.
    expect(faults.fired).toEqual(['UpdateSecretVersionStageCommand:timeout-after']);
    const stages = (await suite.store.describe(created.ARN!)).versions;
    expect(stages[version]).toContain(STAGE.current);
    const alerts = aws.sns
      .messagesTo(suite.topicArn)
      .filter((m) => m.attributes.event?.StringValue === 'rotation.failed');
    expect(alerts).toHaveLength(1);
    const message = alerts[0]!.message;
    expect(message).toContain(
      `AWSCURRENT already moved to this rotation's new token (version ${version})`,
    );
    expect(message).toContain(`AWSCURRENT on version ${version}`);
    expect(message).not.toMatch(/AWSCURRENT\) is unchanged/);
    const failed = (await suite.audit.history(created.ARN!)).find(
      (r) => r.event === 'rotation.failed',
    );
    expect(failed?.detail?.stagesAfter).toContain(`AWSCURRENT on version ${version}`);
  });
});
