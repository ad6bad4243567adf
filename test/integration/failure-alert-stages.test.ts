// A failure alert states the staging labels as read after the failure. Run in a local AWS session
// (embedded, or behind AWS_ENDPOINT_URL) with the suite installed: Secrets Manager's RotateSecret
// invokes the deployed rotation handler, bundled and deployed in the endpoint with a Secrets
// Manager client whose UpdateSecretVersionStage lands but whose answer is lost (a timeout after
// the request was carried out: support/lost-stage-answer.ts), so finishSecret fails with
// AWSCURRENT already moved.
import { CreateSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { STAGE } from '#domain/vocabulary';
import { scaled } from './support/endpoint.ts';
import { needsSessions, openSession, type Session } from './support/session.ts';
import { deployedRotationVariant } from './support/session-functions.ts';

await needsSessions(
  import.meta.url,
  "what SNS published (the alert's text is read back from it) and its idle signal (the rotation Secrets Manager runs by itself has finished)",
);

logger.setLogLevel('CRITICAL');

let aws: Session | undefined;
afterEach(async () => {
  await aws?.stop();
  aws = undefined;
});

describe('failure alerts say what the stages are after the failure', () => {
  it(
    'says AWSCURRENT moved to the new token when finishSecret fails after moving it',
    async () => {
      // Prepare: the session's clock is left at the real time, which the deployed function reads.
      aws = await openSession({}, { stackName: 'StagesAfter' });
      const suite = aws.suite;
      const rotation = await deployedRotationVariant(
        aws,
        'StagesAfter-lost-stage-answer',
        new URL('./support/lost-stage-answer.ts', import.meta.url),
      );
      await aws.resetSecretsManagerCalls();
      const created = await suite.secretsManager.send(
        new CreateSecretCommand({
          Name: 'payments/stages-after',
          SecretString: JSON.stringify({ token: `acme_live_${'x'.repeat(40)}` }),
          Tags: [{ Key: 'token-rotation:lifespan', Value: '7d' }],
        }),
      );
      const version = '11111111-2222-4333-8444-555555555555';

      // Act
      await suite.secretsManager.send(
        new RotateSecretCommand({
          SecretId: created.ARN,
          RotationLambdaARN: rotation,
          ClientRequestToken: version,
          RotateImmediately: true,
        }),
      );
      await aws.idle();

      // Assess: the move reached the endpoint, AWSCURRENT really is on the new version, the step
      // failed on the lost answer, and the alert says so.
      const moves = (await aws.secretsManagerCalls()).filter(
        (c) => c.operation === 'UpdateSecretVersionStage' && c.secret === created.ARN,
      );
      expect(moves.length).toBeGreaterThanOrEqual(1);
      const stages = (await suite.store.describe(created.ARN!)).versions;
      expect(stages[version]).toContain(STAGE.current);
      const alerts = (await aws.published(suite.topicArn)).filter(
        (m) => m.attributes.event?.StringValue === 'rotation.failed',
      );
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
      expect(JSON.stringify(failed)).toContain(
        'injected timeout-after on UpdateSecretVersionStageCommand',
      );
    },
    scaled(120_000),
  );
});
