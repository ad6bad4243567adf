// installSuite: the stack's rules deliver what they match (and only that), the sweep runs on the
// local clock, nothing is connected without `triggers`, and the revoke function named in the
// stack's outputs answers Lambda Invoke as in an account.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from './index.ts';
import { installSuite } from './suite.ts';
import { matchesPattern } from './suite-triggers.ts';

logger.setLogLevel('SILENT');

let aws: LocalAws | undefined;
afterEach(async () => {
  await aws?.stop();
  aws = undefined;
});

async function optIn(local: LocalAws, name: string) {
  const sm = new SecretsManagerClient(local.clientConfig);
  await sm.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: JSON.stringify({ token: `acme_live_${'0123456789abcdef'.repeat(4)}` }),
    }),
  );
  await sm.send(
    new TagResourceCommand({ SecretId: name, Tags: [{ Key: TAG.lifespan, Value: '7d' }] }),
  );
  for (let i = 0; i < 3; i++) await local.idle();
  const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
  sm.destroy();
  return described;
}

describe('installSuite', () => {
  it('attaches rotation from the tag event when its triggers are connected', async () => {
    // Prepare
    aws = await startLocalAws({ clock: '2026-01-05T09:00:00Z' });
    const suite = await installSuite(aws, { triggers: true });

    // Act
    const described = await optIn(aws, 'suite/tagged');

    // Assess
    expect(described.RotationEnabled).toBe(true);
    expect(described.RotationLambdaARN).toBe(suite.functions.rotation);
  });

  it('connects nothing without triggers: the tag changes and no sweep runs', async () => {
    // Prepare
    aws = await startLocalAws({ clock: '2026-01-05T09:00:00Z' });
    await installSuite(aws);

    // Act
    const described = await optIn(aws, 'suite/untriggered');
    await aws.clock.advance(60 * 60_000);

    // Assess
    expect(described.RotationEnabled).toBeFalsy();
    expect(aws.secretsManager.calls.count({ operation: 'ListSecrets' })).toBe(0);
  });

  it('runs the sweep every interval on the local clock', async () => {
    // Prepare
    aws = await startLocalAws({ clock: '2026-01-05T09:00:00Z' });
    await installSuite(aws, { triggers: { sweep: true }, sweepIntervalMinutes: 10 });

    // Act
    await aws.clock.advance(35 * 60_000);

    // Assess: one listing per sweep, at 09:10, 09:20 and 09:30
    const listings = aws.secretsManager.calls.records.filter((c) => c.operation === 'ListSecrets');
    expect(listings.map((c) => c.at.toISOString().slice(11, 16))).toEqual([
      '09:10',
      '09:20',
      '09:30',
    ]);
  });

  it('answers Lambda Invoke for the revoke function its stack outputs name', async () => {
    // Prepare
    aws = await startLocalAws();
    const suite = await installSuite(aws);
    const lambda = new LambdaClient({ ...aws.clientConfig, maxAttempts: 1 });

    // Act
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: `${suite.stackName}-revoke`,
        Payload: Buffer.from(JSON.stringify({ reason: 'no secret named' })),
      }),
    );
    lambda.destroy();

    // Assess: the handler ran and refused, as Lambda reports a handler's error
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(Buffer.from(out.Payload!).toString()).toContain('found no valid secretId');
  });
});

describe('matchesPattern', () => {
  const revokeRule = {
    source: ['aws.secretsmanager'],
    detail: { eventName: ['TagResource'], requestParameters: { tags: { key: [TAG.revoke] } } },
  };
  const tagEvent = (keys: string[]) => ({
    source: 'aws.secretsmanager',
    detail: {
      eventName: 'TagResource',
      requestParameters: { tags: keys.map((key) => ({ key, value: 'x' })) },
    },
  });

  it('matches a tag change when any of its tags is the revoke tag', () => {
    expect(matchesPattern(revokeRule, tagEvent(['team', TAG.revoke]))).toBe(true);
  });

  it('fails to match a tag change without the revoke tag, or another source', () => {
    expect(matchesPattern(revokeRule, tagEvent([TAG.lifespan]))).toBe(false);
    expect(matchesPattern(revokeRule, { ...tagEvent([TAG.revoke]), source: 'aws.health' })).toBe(
      false,
    );
  });
});
