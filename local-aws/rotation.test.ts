import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';
import {
  type ReferenceRotation,
  type RotationEvent,
  referenceRotation,
} from './reference-rotation.ts';

let aws: LocalAws;
let sm: SecretsManagerClient;
let rotation: ReferenceRotation;
let fn: string;

beforeEach(async () => {
  aws = await startLocalAws({
    clock: '2025-03-10T05:00:00Z',
    secretsManager: { rotationAttempts: 3 },
  });
  sm = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 });
  rotation = referenceRotation(sm);
  fn = aws.functions.register('rotate', rotation.handler);
  await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v0' }));
});
afterEach(async () => {
  await aws.stop();
  sm.destroy();
});

const describeSecret = () => sm.send(new DescribeSecretCommand({ SecretId: 's' }));
const rotate = (input: Partial<ConstructorParameters<typeof RotateSecretCommand>[0]> = {}) =>
  sm.send(
    new RotateSecretCommand({
      SecretId: 's',
      RotationLambdaARN: fn,
      RotationRules: { ScheduleExpression: 'rate(1 days)' },
      ...input,
    }),
  );

/** A rotation function that waits at `step` until released, to look at a rotation mid-flight. */
function gateAt(step: RotationEvent['Step']) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => {
    reached = resolve;
  });
  aws.functions.register('rotate', async (event: RotationEvent, context) => {
    if (event.Step === step) {
      reached();
      await gate;
    }
    return rotation.handler(event, context);
  });
  return { release, arrived };
}

describe('RotateSecret', () => {
  it('answers at once, leaving an AWSPENDING version with no value until the function puts one', async () => {
    // Prepare
    const gate = gateAt('createSecret');

    // Act
    const { VersionId } = await rotate();
    await gate.arrived;

    // Assess
    expect((await describeSecret()).VersionIdsToStages?.[VersionId!]).toEqual(['AWSPENDING']);
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPENDING' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    gate.release();
    await aws.secretsManager.idle();
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).VersionId).toBe(VersionId);
  });

  it('runs the four steps in order with the secret ARN, the version token and a RotationToken', async () => {
    const { VersionId, ARN } = await rotate();
    await aws.secretsManager.idle();

    expect(rotation.events.map((e) => e.Step)).toEqual([
      'createSecret',
      'setSecret',
      'testSecret',
      'finishSecret',
    ]);
    for (const event of rotation.events) {
      expect(event).toMatchObject({
        SecretId: ARN,
        ClientRequestToken: VersionId,
        RotationToken: expect.any(String),
      });
    }
    const put = aws.secretsManager.calls.records.find((r) => r.operation === 'PutSecretValue');
    expect(put?.rotationToken).toBe(rotation.events[0]?.RotationToken);
  });

  it('leaves one AWSCURRENT, the old value as AWSPREVIOUS and no AWSPENDING, and records the rotation', async () => {
    // Prepare
    const before = await describeSecret();
    const oldVersion = Object.keys(before.VersionIdsToStages ?? {})[0]!;

    // Act
    const { VersionId } = await rotate();
    await aws.secretsManager.idle();

    // Assess
    const after = await describeSecret();
    expect(after.VersionIdsToStages).toEqual({
      [oldVersion]: ['AWSPREVIOUS'],
      [VersionId!]: ['AWSCURRENT'],
    });
    expect(after).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: fn,
      RotationRules: { ScheduleExpression: 'rate(1 days)', AutomaticallyAfterDays: 1 },
      LastRotatedDate: new Date('2025-03-10T05:00:00Z'),
      NextRotationDate: new Date('2025-03-12T00:00:00Z'),
    });
    const [succeeded] = aws.events.named('RotationSucceeded');
    expect(succeeded).toMatchObject({
      source: 'aws.secretsmanager',
      'detail-type': 'AWS Service Event via CloudTrail',
      detail: {
        eventSource: 'secretsmanager.amazonaws.com',
        eventType: 'AwsServiceEvent',
        userIdentity: { invokedBy: 'secretsmanager.amazonaws.com' },
        additionalEventData: { SecretId: after.ARN },
        requestParameters: null,
      },
    });
  });

  it('costs the reference template 8 Secrets Manager calls per rotation, counted per operation', async () => {
    aws.secretsManager.calls.reset();

    await rotate();
    await aws.secretsManager.idle();

    expect(aws.secretsManager.calls.byOperation({ secret: 's' })).toEqual({
      RotateSecret: 1,
      DescribeSecret: 4,
      GetSecretValue: 2,
      PutSecretValue: 1,
      UpdateSecretVersionStage: 1,
    });
  });

  it('retries the whole rotation with the same token after a failed step, then succeeds', async () => {
    rotation.failNext('testSecret');

    const { VersionId } = await rotate();
    await aws.secretsManager.idle();

    expect(rotation.events.map((e) => e.Step)).toEqual([
      'createSecret',
      'setSecret',
      'testSecret',
      'createSecret',
      'setSecret',
      'testSecret',
      'finishSecret',
    ]);
    expect(new Set(rotation.events.map((e) => e.ClientRequestToken))).toEqual(new Set([VersionId]));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v1');
    expect(aws.events.named('RotationFailed')).toEqual([]);
  });

  it('fails after the last attempt: RotationFailed once, AWSCURRENT untouched, AWSPENDING left behind', async () => {
    // Prepare
    rotation.failNext('setSecret', 3);

    // Act
    const { VersionId, ARN } = await rotate();
    await aws.secretsManager.idle();

    // Assess
    const failed = aws.events.named('RotationFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.detail).toMatchObject({
      errorMessage: `Error when executing lambda ${fn} during setSecret step`,
      additionalEventData: { SecretId: ARN },
    });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v0');
    expect((await describeSecret()).VersionIdsToStages?.[VersionId!]).toEqual(['AWSPENDING']);
    expect((await describeSecret()).LastRotatedDate).toBeUndefined();
    expect(aws.secretsManager.rotations.at(-1)?.attempts.map((a) => a.error)).toEqual([
      'Error: setSecret failed on purpose',
      'Error: setSecret failed on purpose',
      'Error: setSecret failed on purpose',
    ]);
  });

  it("fails while AWSPENDING sits on a non-current version: a previous rotation isn't complete", async () => {
    rotation.failNext('createSecret', 3);
    await rotate();
    await aws.secretsManager.idle();

    await expect(rotate()).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: "A previous rotation isn't complete. That rotation will be reattempted.",
    });
  });

  it('rotates a secret whose AWSPENDING label sits on the AWSCURRENT version: a finished state', async () => {
    await sm.send(
      new PutSecretValueCommand({
        SecretId: 's',
        SecretString: 'v9',
        VersionStages: ['AWSCURRENT', 'AWSPENDING'],
      }),
    );

    const { VersionId } = await rotate();
    await aws.secretsManager.idle();

    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).VersionId).toBe(VersionId);
  });

  it('fails when the rotation function cannot be invoked, or the schedule is faster than four hours', async () => {
    await expect(
      rotate({ RotationLambdaARN: aws.functions.arnOf('missing') }),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(
      rotate({ RotationRules: { ScheduleExpression: 'rate(2 hours)' } }),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(
      rotate({ RotationRules: { AutomaticallyAfterDays: 1, ScheduleExpression: 'rate(1 days)' } }),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('with RotateImmediately false, runs only testSecret, removes its AWSPENDING and schedules the next window', async () => {
    await rotate({ RotateImmediately: false });
    await aws.secretsManager.idle();

    expect(rotation.events.map((e) => e.Step)).toEqual(['testSecret']);
    const after = await describeSecret();
    expect(Object.values(after.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
    expect(after).toMatchObject({
      RotationEnabled: true,
      NextRotationDate: new Date('2025-03-12T00:00:00Z'),
    });
    expect(aws.events.delivered.map((e) => e.detail.eventName)).toContain('TestRotationStarted');
  });

  it('lists rotation fields on every ListSecrets entry', async () => {
    const { VersionId } = await rotate();
    await aws.secretsManager.idle();

    const [entry] = (await sm.send(new ListSecretsCommand({}))).SecretList ?? [];

    expect(entry).toMatchObject({
      Name: 's',
      RotationEnabled: true,
      RotationLambdaARN: fn,
      RotationRules: { ScheduleExpression: 'rate(1 days)' },
      LastRotatedDate: new Date('2025-03-10T05:00:00Z'),
      NextRotationDate: new Date('2025-03-12T00:00:00Z'),
      CreatedDate: new Date('2025-03-10T05:00:00Z'),
    });
    expect(entry?.SecretVersionsToStages?.[VersionId!]).toEqual(['AWSCURRENT']);
  });
});

describe('abandoned rotations', () => {
  it('cancels a rotation mid-flight: rotation off, RotationAbandoned, labels left for a person to tidy', async () => {
    // Prepare
    const gate = gateAt('setSecret');
    const { VersionId } = await rotate();
    await gate.arrived;

    // Act
    const cancelled = await sm.send(new CancelRotateSecretCommand({ SecretId: 's' }));
    gate.release();
    await aws.secretsManager.idle();

    // Assess
    expect(cancelled.VersionId).toBe(VersionId);
    expect(rotation.events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret']);
    expect(aws.events.named('RotationAbandoned')).toHaveLength(1);
    const after = await describeSecret();
    expect(after).toMatchObject({ RotationEnabled: false, RotationLambdaARN: fn });
    expect(after.NextRotationDate).toBeUndefined();
    expect(after.VersionIdsToStages?.[VersionId!]).toEqual(['AWSPENDING']);
  });

  it('abandons a stuck rotation when a new AWSCURRENT is put by hand, so the next RotateSecret works', async () => {
    rotation.failNext('testSecret', 3);
    await rotate();
    await aws.secretsManager.idle();

    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'by-hand' }));
    const next = await rotate();
    await aws.secretsManager.idle();

    expect(aws.events.named('RotationAbandoned')).toHaveLength(1);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).VersionId).toBe(
      next.VersionId,
    );
  });
});
