import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { NotFoundError } from '#domain/errors';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/api-key-AbCdEf';
const VERSION = '6f1c2d3e-0000-4000-8000-00000000abcd';
const client = new SecretsManagerClient({ region: 'eu-west-1' });
const sm = mockClient(client);
const store = new SecretsManagerStore(client);
const notFound = () => new ResourceNotFoundException({ message: 'not found', $metadata: {} });

beforeEach(() => sm.reset());

describe('SecretsManagerStore.describe', () => {
  it('reads rotation state, stages and tags from one DescribeSecret', async () => {
    // Prepare
    const rotated = new Date('2030-01-02T03:04:05Z');
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: 'payments/api-key',
      RotationEnabled: true,
      RotationLambdaARN: 'arn:aws:lambda:eu-west-1:123456789012:function:rotate',
      RotationRules: { ScheduleExpression: 'rate(7 days)', Duration: '2h' },
      LastRotatedDate: rotated,
      VersionIdsToStages: { [VERSION]: ['AWSCURRENT'] },
      Tags: [{ Key: 'token-rotation:lifespan', Value: '7d' }],
    });

    // Act
    const secret = await store.describe(ARN);

    // Assess
    expect(secret).toEqual({
      arn: ARN,
      name: 'payments/api-key',
      rotationEnabled: true,
      rotationLambdaArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rotate',
      rotationRules: {
        scheduleExpression: 'rate(7 days)',
        duration: '2h',
        automaticallyAfterDays: undefined,
      },
      lastRotatedDate: rotated,
      nextRotationDate: undefined,
      versions: { [VERSION]: ['AWSCURRENT'] },
      tags: { 'token-rotation:lifespan': '7d' },
      deleted: false,
    });
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(1);
  });

  it('reports a secret without rotation as not enabled, and a deleted one as deleted', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves({ ARN, Name: 'n', DeletedDate: new Date() });

    // Act
    const secret = await store.describe(ARN);

    // Assess
    expect(secret.rotationEnabled).toBe(false);
    expect(secret.deleted).toBe(true);
    expect(secret.versions).toEqual({});
  });
});

describe('SecretsManagerStore.getValue', () => {
  it('reads one version by ID and stage', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'value-1' });

    // Act
    const value = await store.getValue(ARN, { versionId: VERSION, stage: 'AWSPENDING' });

    // Assess
    expect(value).toBe('value-1');
    expect(sm.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      {
        SecretId: ARN,
        VersionId: VERSION,
        VersionStage: 'AWSPENDING',
      },
    ]);
  });

  it('gives nothing for a version that has no value yet', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).rejects(notFound());

    // Act
    const value = await store.getValue(ARN, { versionId: VERSION, stage: 'AWSPENDING' });

    // Assess
    expect(value).toBeUndefined();
  });

  it('fails when the secret itself is missing (no version or stage asked)', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).rejects(notFound());

    // Act
    const read = store.getValue(ARN);

    // Assess
    // The adapter's typed error, still named as AWS named it.
    await expect(read).rejects.toThrow(NotFoundError);
    await expect(read).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('fails on a binary value, naming the version and not the bytes', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({
      VersionId: VERSION,
      SecretBinary: new TextEncoder().encode('bytes-canary'),
    });

    // Act
    const read = store.getValue(ARN, { stage: 'AWSCURRENT' });

    // Assess
    await expect(read).rejects.toThrow(
      `version ${VERSION}: expected a SecretString value, found a SecretBinary value`,
    );
    await expect(store.getValue(ARN, { stage: 'AWSCURRENT' })).rejects.not.toThrow('canary');
  });

  it('passes other errors on', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).rejects(
      new InternalServiceError({ message: 'boom', $metadata: {} }),
    );

    // Act
    const read = store.getValue(ARN, { stage: 'AWSCURRENT' });

    // Assess
    await expect(read).rejects.toThrow('boom');
  });
});

describe('SecretsManagerStore.versionCreated', () => {
  it("reads one version's creation date, paging until it is found", async () => {
    // Prepare
    const created = new Date('2030-01-02T03:04:05Z');
    sm.on(ListSecretVersionIdsCommand, { SecretId: ARN, NextToken: undefined })
      .resolves({ Versions: [{ VersionId: 'other', CreatedDate: new Date(0) }], NextToken: 'more' })
      .on(ListSecretVersionIdsCommand, { SecretId: ARN, NextToken: 'more' })
      .resolves({ Versions: [{ VersionId: VERSION, CreatedDate: created }] });

    // Act
    const found = await store.versionCreated(ARN, VERSION);

    // Assess
    expect(found).toEqual(created);
    expect(sm).toHaveReceivedCommandTimes(ListSecretVersionIdsCommand, 2);
  });

  it('gives nothing for a version the secret does not list', async () => {
    // Prepare
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [{ VersionId: 'other' }] });

    // Act + Assess
    expect(await store.versionCreated(ARN, VERSION)).toBeUndefined();
  });
});

describe('SecretsManagerStore.putPending', () => {
  it('puts the value as the rotation version, labelled AWSPENDING, passing the RotationToken on', async () => {
    // Prepare
    sm.on(PutSecretValueCommand).resolves({});

    // Act
    const result = await store.putPending(ARN, VERSION, 'new-value', 'rotation-token-1');

    // Assess
    expect(result).toBe('put');
    expect(sm.commandCalls(PutSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      {
        SecretId: ARN,
        ClientRequestToken: VERSION,
        SecretString: 'new-value',
        VersionStages: ['AWSPENDING'],
        RotationToken: 'rotation-token-1',
      },
    ]);
  });

  it('sends no RotationToken when there is none', async () => {
    // Prepare
    sm.on(PutSecretValueCommand).resolves({});

    // Act
    await store.putPending(ARN, VERSION, 'new-value');

    // Assess
    const input = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('RotationToken');
  });

  it('reports "exists" when the version already holds another value', async () => {
    // Prepare
    sm.on(PutSecretValueCommand).rejects(
      new ResourceExistsException({ message: 'exists', $metadata: {} }),
    );

    // Act
    const result = await store.putPending(ARN, VERSION, 'new-value');

    // Assess
    expect(result).toBe('exists');
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });

  it('passes other errors on', async () => {
    // Prepare
    sm.on(PutSecretValueCommand).rejects(
      new InternalServiceError({ message: 'boom', $metadata: {} }),
    );

    // Act
    const put = store.putPending(ARN, VERSION, 'new-value');

    // Assess
    await expect(put).rejects.toThrow('boom');
  });
});

describe('SecretsManagerStore.moveStage', () => {
  it('moves a label with one UpdateSecretVersionStage', async () => {
    // Prepare
    sm.on(UpdateSecretVersionStageCommand).resolves({});

    // Act
    await store.moveStage(ARN, 'AWSCURRENT', VERSION, 'old-version');

    // Assess
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
    expect(
      sm.commandCalls(UpdateSecretVersionStageCommand).map((call) => call.args[0].input),
    ).toEqual([
      {
        SecretId: ARN,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: VERSION,
        RemoveFromVersionId: 'old-version',
      },
    ]);
  });
});
