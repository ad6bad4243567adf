import {
  BatchGetSecretValueCommand,
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';

let aws: LocalAws;
let sm: SecretsManagerClient;

beforeEach(async () => {
  aws = await startLocalAws({ clock: '2025-03-10T05:00:00Z' });
  sm = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 });
});
afterEach(async () => {
  sm.destroy();
  await aws.stop();
});

const stagesOf = async (secretId: string) =>
  (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const T3 = '33333333-3333-4333-8333-333333333333';

describe('secrets and values', () => {
  it('returns the AWSCURRENT value by name, full ARN or partial ARN, dated by the local clock', async () => {
    // Prepare
    const created = await sm.send(
      new CreateSecretCommand({ Name: 'app/api-key', SecretString: 'acme_live_1' }),
    );
    const partialArn = created.ARN!.slice(0, -7);

    // Act
    const values = await Promise.all(
      ['app/api-key', created.ARN!, partialArn].map((id) =>
        sm.send(new GetSecretValueCommand({ SecretId: id })),
      ),
    );

    // Assess
    for (const value of values) {
      expect(value.SecretString).toBe('acme_live_1');
      expect(value.VersionStages).toEqual(['AWSCURRENT']);
      expect(value.CreatedDate).toEqual(new Date('2025-03-10T05:00:00Z'));
    }
  });

  it('fails on a missing secret with the ResourceNotFoundException AWS sends', async () => {
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('fails to create a secret with a bad name or a name already taken', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'x' }));

    await expect(
      sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(
      sm.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'x' })),
    ).rejects.toMatchObject({
      name: 'ResourceExistsException',
    });
  });

  it('makes a new PutSecretValue AWSCURRENT and moves AWSPREVIOUS to the old current version', async () => {
    // Prepare
    await sm.send(
      new CreateSecretCommand({ Name: 's', SecretString: 'v1', ClientRequestToken: T1 }),
    );
    await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', ClientRequestToken: T2 }),
    );

    // Act
    await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v3', ClientRequestToken: T3 }),
    );

    // Assess: v1 lost its last label, so it is deprecated and listed only on request
    expect(await stagesOf('s')).toEqual({ [T2]: ['AWSPREVIOUS'], [T3]: ['AWSCURRENT'] });
    const all = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: 's', IncludeDeprecated: true }),
    );
    expect(all.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [T1, []],
      [T2, ['AWSPREVIOUS']],
      [T3, ['AWSCURRENT']],
    ]);
  });

  it('treats a repeated PutSecretValue with the same token and value as a no-op', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 's', SecretString: 'v1', ClientRequestToken: T1 }),
    );
    await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', ClientRequestToken: T2 }),
    );

    const again = await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', ClientRequestToken: T2 }),
    );

    expect(again.VersionStages).toEqual(['AWSCURRENT']);
    expect(await stagesOf('s')).toEqual({ [T1]: ['AWSPREVIOUS'], [T2]: ['AWSCURRENT'] });
  });

  it('fails a PutSecretValue that reuses a token with a different value (ResourceExistsException)', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 's', SecretString: 'v1', ClientRequestToken: T1 }),
    );

    await expect(
      sm.send(
        new PutSecretValueCommand({ SecretId: 's', SecretString: 'other', ClientRequestToken: T1 }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v1');
  });

  it('fails a GetSecretValue whose VersionId does not hold the VersionStage asked for', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 's', SecretString: 'v1', ClientRequestToken: T1 }),
    );

    await expect(
      sm.send(
        new GetSecretValueCommand({ SecretId: 's', VersionId: T1, VersionStage: 'AWSPENDING' }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('BatchGetSecretValue', () => {
  it('returns the AWSCURRENT of each secret listed, and a missing one in Errors, not thrown', async () => {
    // Prepare
    const a = await sm.send(new CreateSecretCommand({ Name: 'batch/a', SecretString: 'value-a' }));
    await sm.send(new CreateSecretCommand({ Name: 'batch/b', SecretString: 'value-b' }));

    // Act
    const out = await sm.send(
      new BatchGetSecretValueCommand({ SecretIdList: [a.ARN!, 'batch/b', 'batch/missing'] }),
    );

    // Assess
    expect(out.SecretValues?.map((v) => [v.Name, v.SecretString, v.VersionStages])).toEqual([
      ['batch/a', 'value-a', ['AWSCURRENT']],
      ['batch/b', 'value-b', ['AWSCURRENT']],
    ]);
    expect(out.Errors).toEqual([
      expect.objectContaining({
        SecretId: 'batch/missing',
        ErrorCode: 'ResourceNotFoundException',
      }),
    ]);
  });

  it('fails without a SecretIdList, or with more than 20 IDs', async () => {
    const ids = Array.from({ length: 21 }, (_, i) => `batch/${i}`);
    await expect(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ids }))).rejects.toThrow(
      /1 to 20 secret IDs/,
    );
  });
});

describe('staging labels', () => {
  beforeEach(async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 's', SecretString: 'v1', ClientRequestToken: T1 }),
    );
    await sm.send(
      new PutSecretValueCommand({
        SecretId: 's',
        SecretString: 'v2',
        ClientRequestToken: T2,
        VersionStages: ['AWSPENDING'],
      }),
    );
  });

  it('fails to move AWSCURRENT without RemoveFromVersionId naming its holder', async () => {
    await expect(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 's',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: T2,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining(T1),
    });
    expect(await stagesOf('s')).toEqual({ [T1]: ['AWSCURRENT'], [T2]: ['AWSPENDING'] });
  });

  it('moves AWSPREVIOUS to the old version and drops AWSPENDING from the new current one', async () => {
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 's',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: T2,
        RemoveFromVersionId: T1,
      }),
    );

    expect(await stagesOf('s')).toEqual({ [T1]: ['AWSPREVIOUS'], [T2]: ['AWSCURRENT'] });
  });

  it('removes a label given only RemoveFromVersionId, leaving that version deprecated', async () => {
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 's',
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: T2,
      }),
    );

    expect(await stagesOf('s')).toEqual({ [T1]: ['AWSCURRENT'] });
  });

  it('fails to remove AWSCURRENT without moving it', async () => {
    await expect(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 's',
          VersionStage: 'AWSCURRENT',
          RemoveFromVersionId: T1,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('fails a PutSecretValue onto a version that already has a value, even to fill AWSPENDING', async () => {
    await expect(
      sm.send(
        new PutSecretValueCommand({
          SecretId: 's',
          SecretString: 'v3',
          ClientRequestToken: T2,
          VersionStages: ['AWSPENDING'],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
  });
});

describe('ListSecrets', () => {
  const listAll = async (
    filters?: { Key: 'tag-key' | 'tag-value' | 'name'; Values: string[] }[],
  ) => {
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await sm.send(
        new ListSecretsCommand({ MaxResults: 100, NextToken: token, Filters: filters }),
      );
      pages.push((page.SecretList ?? []).map((s) => s.Name!));
      token = page.NextToken;
    } while (token);
    return pages;
  };

  beforeEach(async () => {
    for (let i = 0; i < 260; i++) {
      const tags =
        i % 2 === 0 ? [{ Key: 'token-rotation:lifespan', Value: i % 4 === 0 ? '7d' : '30d' }] : [];
      await sm.send(
        new CreateSecretCommand({
          Name: `team/${String(i).padStart(3, '0')}`,
          SecretString: 'x',
          Tags: tags,
        }),
      );
    }
  });

  it('pages 250+ secrets 100 at a time, filtered by tag key, with none repeated or lost', async () => {
    const pages = await listAll([{ Key: 'tag-key', Values: ['token-rotation:life'] }]);

    expect(pages.map((p) => p.length)).toEqual([100, 30]);
    const names = pages.flat();
    expect(new Set(names).size).toBe(130);
    expect(names.every((n) => Number(n.slice(5)) % 2 === 0)).toBe(true);
  });

  it('filters by tag value and name prefix, and negates with !', async () => {
    const sevenDays = (await listAll([{ Key: 'tag-value', Values: ['7d'] }])).flat();
    const byName = (await listAll([{ Key: 'name', Values: ['team/25'] }])).flat();
    const untagged = (await listAll([{ Key: 'tag-key', Values: ['!token-rotation:'] }])).flat();

    expect(sevenDays).toHaveLength(65);
    expect(byName).toEqual([
      'team/250',
      'team/251',
      'team/252',
      'team/253',
      'team/254',
      'team/255',
      'team/256',
      'team/257',
      'team/258',
      'team/259',
    ]);
    expect(untagged).toHaveLength(130);
  });

  it('fails a page size above 100', async () => {
    await expect(sm.send(new ListSecretsCommand({ MaxResults: 101 }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('fails a NextToken it did not issue', async () => {
    await expect(sm.send(new ListSecretsCommand({ NextToken: 'garbage' }))).rejects.toMatchObject({
      name: 'InvalidNextTokenException',
    });
  });
});

describe('tags, deletion and events', () => {
  it('adds, overwrites and removes tags, and puts the tag change on the event bus', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 's', SecretString: 'x', Tags: [{ Key: 'a', Value: '1' }] }),
    );

    await sm.send(
      new TagResourceCommand({
        SecretId: 's',
        Tags: [
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: '3' },
        ],
      }),
    );
    await sm.send(new UntagResourceCommand({ SecretId: 's', TagKeys: ['b'] }));

    expect((await sm.send(new DescribeSecretCommand({ SecretId: 's' }))).Tags).toEqual([
      { Key: 'a', Value: '2' },
    ]);
    const [tagged] = aws.events.named('TagResource');
    expect(tagged?.['detail-type']).toBe('AWS API Call via CloudTrail');
    expect(tagged?.detail.requestParameters).toEqual({
      secretId: 's',
      tags: [
        { key: 'a', value: '2' },
        { key: 'b', value: '3' },
      ],
    });
    expect(tagged?.detail.userIdentity).toMatchObject({ accessKeyId: aws.env.AWS_ACCESS_KEY_ID });
  });

  it('never puts a secret value in an API-call event', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'canary-value-123' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'canary-value-456' }));

    expect(aws.events.delivered.map((e) => e.detail.eventName)).toEqual([
      'CreateSecret',
      'PutSecretValue',
    ]);
    expect(JSON.stringify(aws.events.delivered)).not.toContain('canary-value');
  });

  it('fails operations on a secret scheduled for deletion, and forgets it when the recovery window ends', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'x' }));

    const deleted = await sm.send(
      new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7 }),
    );

    expect(deleted.DeletionDate).toEqual(new Date('2025-03-17T05:00:00Z'));
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 's' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    expect((await sm.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    await aws.clock.advance(7 * 86_400_000);
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 's' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('deletes at once with ForceDeleteWithoutRecovery, and fails it combined with a recovery window', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'x' }));

    await expect(
      sm.send(
        new DeleteSecretCommand({
          SecretId: 's',
          ForceDeleteWithoutRecovery: true,
          RecoveryWindowInDays: 7,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await sm.send(new DeleteSecretCommand({ SecretId: 's', ForceDeleteWithoutRecovery: true }));
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 's' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

describe('throttling and call counts', () => {
  it("answers ThrottlingException above an operation's rate limit, counted on the local clock", async () => {
    // Prepare
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'x' }));
    aws.secretsManager.throttle.set('GetSecretValue', 3);

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => sm.send(new GetSecretValueCommand({ SecretId: 's' }))),
    );

    // Assess
    const rejected = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason);
    // The clock stood still: exactly the quota of 3 got through, however slow the machine.
    expect(rejected).toHaveLength(7);
    expect(rejected[0]).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(aws.secretsManager.calls.records.filter((r) => r.throttled)).toHaveLength(7);
    // A third of a second of local time refills one request's worth, and no more.
    await aws.clock.advance(334);
    await sm.send(new GetSecretValueCommand({ SecretId: 's' }));
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 's' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });

  it("throttles at AWS's documented quotas, operations of one group sharing one", async () => {
    aws.secretsManager.throttle.useDocumented();
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'x' }));
    const arn = (await sm.send(new DescribeSecretCommand({ SecretId: 's' }))).ARN!;
    // RotateSecret and CancelRotateSecret share 50 per second: 50 cancels leave none for a rotate.
    for (let i = 0; i < 50; i++) await sm.send(new CancelRotateSecretCommand({ SecretId: arn }));
    await expect(
      sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: 'x' })),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    // Reads have their own, far larger quota.
    for (let i = 0; i < 200; i++) await sm.send(new GetSecretValueCommand({ SecretId: arn }));
  });

  it('counts calls per operation and per secret', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'a', SecretString: 'x' }));
    await sm.send(new CreateSecretCommand({ Name: 'b', SecretString: 'x' }));
    const arnA = (await sm.send(new GetSecretValueCommand({ SecretId: 'a' }))).ARN!;
    await sm.send(new GetSecretValueCommand({ SecretId: arnA }));
    await sm.send(new GetSecretValueCommand({ SecretId: 'b' }));

    expect(aws.secretsManager.calls.count({ operation: 'GetSecretValue' })).toBe(3);
    expect(aws.secretsManager.calls.count({ secret: 'a' })).toBe(3);
    expect(aws.secretsManager.calls.byOperation({ secret: arnA })).toEqual({
      CreateSecret: 1,
      GetSecretValue: 2,
    });
  });
});
