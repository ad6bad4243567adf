import {
  CancelRotateSecretCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { TAG } from '#domain/vocabulary';

const sm = mockClient(SecretsManagerClient);
// The class's send is patched for every instance: unpatch it for the next file in this worker.
afterAll(() => {
  sm.restore();
});
const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-AbCdEf';

beforeEach(() => {
  sm.reset();
});

describe('the Secrets Manager catalog', () => {
  const catalog = () =>
    new SecretsManagerCatalog(new SecretsManagerClient({ region: 'eu-west-1' }));

  it('lists one page of up to 100 opted-in secrets with a server-side tag filter', async () => {
    // Prepare
    const created = new Date('2030-01-01T00:00:00Z');
    const rotated = new Date('2030-03-01T00:00:00Z');
    sm.on(ListSecretsCommand).resolves({
      NextToken: 'page-2',
      SecretList: [
        {
          ARN,
          Name: 'api',
          RotationEnabled: true,
          RotationLambdaARN: 'arn:aws:lambda:eu-west-1:111122223333:function:rotate',
          RotationRules: { ScheduleExpression: 'rate(6 days)', Duration: '23h' },
          LastRotatedDate: rotated,
          NextRotationDate: new Date('2030-03-07T23:00:00Z'),
          CreatedDate: created,
          SecretVersionsToStages: { v1: ['AWSCURRENT'], v0: ['AWSPREVIOUS'] },
          Tags: [
            { Key: TAG.lifespan, Value: '7d' },
            { Key: 'team', Value: 'payments' },
          ],
        },
        { ARN: `${ARN}2`, Name: 'bare', DeletedDate: rotated },
      ],
    });

    // Act
    const page = await catalog().listTagged(TAG.lifespan, 'page-1');

    // Assess
    expect(sm).toHaveReceivedCommandTimes(ListSecretsCommand, 1);
    expect(sm).toHaveReceivedCommandWith(ListSecretsCommand, {
      Filters: [{ Key: 'tag-key', Values: [TAG.lifespan] }],
      MaxResults: 100,
      NextToken: 'page-1',
    });
    expect(page.nextToken).toBe('page-2');
    expect(page.secrets[0]).toEqual({
      arn: ARN,
      name: 'api',
      rotationEnabled: true,
      rotationLambdaArn: 'arn:aws:lambda:eu-west-1:111122223333:function:rotate',
      rotationRules: { scheduleExpression: 'rate(6 days)', duration: '23h' },
      lastRotatedDate: rotated,
      nextRotationDate: new Date('2030-03-07T23:00:00Z'),
      createdDate: created,
      versions: { v1: ['AWSCURRENT'], v0: ['AWSPREVIOUS'] },
      tags: { [TAG.lifespan]: '7d', team: 'payments' },
    });
    expect(page.secrets[1]).toEqual({
      arn: `${ARN}2`,
      name: 'bare',
      rotationEnabled: false,
      versions: {},
      tags: {},
      deleted: true,
    });
  });

  it('ends the listing when Secrets Manager returns no NextToken', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });
    const page = await catalog().listTagged(TAG.lifespan);
    expect(page).toEqual({ secrets: [] });
  });

  it('reads every version’s creation date, across pages', async () => {
    const d1 = new Date('2030-03-01T00:00:00Z');
    const d2 = new Date('2030-03-07T00:00:00Z');
    sm.on(ListSecretVersionIdsCommand, { SecretId: ARN, NextToken: undefined })
      .resolves({
        Versions: [{ VersionId: 'v0', CreatedDate: d1 }, { VersionId: 'no-date' }],
        NextToken: 'more',
      })
      .on(ListSecretVersionIdsCommand, { SecretId: ARN, NextToken: 'more' })
      .resolves({ Versions: [{ VersionId: 'v1', CreatedDate: d2 }] });
    const dates = await catalog().versionDates(ARN);
    expect(dates).toEqual({ v0: d1, v1: d2 });
    expect(sm).toHaveReceivedCommandTimes(ListSecretVersionIdsCommand, 2);
  });

  it('attaches a rotation function and schedule without rotating now', async () => {
    sm.on(RotateSecretCommand).resolves({});
    await catalog().rotate(ARN, {
      lambdaArn: 'arn:aws:lambda:eu-west-1:111122223333:function:rotate',
      scheduleExpression: 'rate(6 days)',
      duration: '23h',
      immediately: false,
    });
    expect(sm).toHaveReceivedCommandWith(RotateSecretCommand, {
      SecretId: ARN,
      RotationLambdaARN: 'arn:aws:lambda:eu-west-1:111122223333:function:rotate',
      RotationRules: { ScheduleExpression: 'rate(6 days)', Duration: '23h' },
      RotateImmediately: false,
    });
  });

  it('starts a rotation now without touching the rotation config', async () => {
    sm.on(RotateSecretCommand).resolves({});
    await catalog().rotate(ARN, { immediately: true });
    const input = sm.commandCalls(RotateSecretCommand)[0]!.args[0].input;
    expect(input).toEqual({ SecretId: ARN, RotateImmediately: true });
  });

  it('detaches with CancelRotateSecret', async () => {
    sm.on(CancelRotateSecretCommand).resolves({});
    await catalog().cancelRotation(ARN);
    expect(sm).toHaveReceivedCommandWith(CancelRotateSecretCommand, { SecretId: ARN });
  });

  it('tags and untags, and makes no call for nothing', async () => {
    sm.on(TagResourceCommand).resolves({}).on(UntagResourceCommand).resolves({});
    await catalog().tag(ARN, { [TAG.lastRevoked]: '2030-03-10T12:00:00.000Z' });
    await catalog().untag(ARN, [TAG.revoke]);
    await catalog().tag(ARN, {});
    await catalog().untag(ARN, []);
    expect(sm).toHaveReceivedCommandWith(TagResourceCommand, {
      SecretId: ARN,
      Tags: [{ Key: TAG.lastRevoked, Value: '2030-03-10T12:00:00.000Z' }],
    });
    expect(sm).toHaveReceivedCommandWith(UntagResourceCommand, {
      SecretId: ARN,
      TagKeys: [TAG.revoke],
    });
    expect(sm).toHaveReceivedCommandTimes(TagResourceCommand, 1);
    expect(sm).toHaveReceivedCommandTimes(UntagResourceCommand, 1);
  });

  it('fails with Secrets Manager’s own error', async () => {
    sm.on(RotateSecretCommand).rejects(
      Object.assign(new Error('A previous rotation isn’t complete.'), {
        name: 'InvalidRequestException',
      }),
    );
    await expect(catalog().rotate(ARN, { immediately: true })).rejects.toThrow('previous rotation');
  });
});
