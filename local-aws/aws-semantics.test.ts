// The AWS behaviours the local AWS models because a kinder emulator would hide bugs: both
// documented AWSPENDING end states, ListSecrets' eventual consistency, the version quota, and
// DeleteSecret's recovery window. Each through the real SDK client, as the product sees them.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';
import { referenceRotation } from './reference-rotation.ts';
import type { PendingEndState } from './secrets-manager.ts';

const DAY = 86_400_000;
let aws: LocalAws | undefined;
let sm: SecretsManagerClient;

afterEach(async () => {
  sm?.destroy();
  await aws?.stop();
  aws = undefined;
});

async function start(options: Parameters<typeof startLocalAws>[0] = {}) {
  aws = await startLocalAws({ clock: '2025-06-02T10:00:00Z', ...options });
  sm = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 });
  return aws;
}

const stagesOf = async (id: string) =>
  (await sm.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages ?? {};

describe('AWSPENDING after a successful rotation', () => {
  const cases: [PendingEndState, string[]][] = [
    ['removed', ['AWSCURRENT']],
    ['kept', ['AWSCURRENT', 'AWSPENDING']],
  ];
  for (const [endState, expected] of cases) {
    it(`is ${endState} on the new AWSCURRENT version when asked, and the next rotation still starts`, async () => {
      const local = await start({ secretsManager: { pendingAfterRotation: endState } });
      const fn = local.functions.register('rotate', referenceRotation(sm).handler);
      await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v0' }));

      const first = await sm.send(
        new RotateSecretCommand({ SecretId: 's', RotationLambdaARN: fn }),
      );
      await local.idle();
      expect((await stagesOf('s'))[first.VersionId!]?.sort()).toEqual(expected);

      // AWSPENDING on AWSCURRENT is a finished rotation (RotateSecret's API reference): no
      // "previous rotation isn't complete", and the label moves to the new version.
      const second = await sm.send(
        new RotateSecretCommand({ SecretId: 's', RotationLambdaARN: fn }),
      );
      await local.idle();
      const stages = await stagesOf('s');
      expect(stages[second.VersionId!]?.sort()).toEqual(expected);
      expect(stages[first.VersionId!]).toEqual(['AWSPREVIOUS']);
    });
  }
});

describe('ListSecrets, eventually consistent', () => {
  async function listAll() {
    const pages: { size: number; next: boolean }[] = [];
    const names: string[] = [];
    let token: string | undefined;
    do {
      const out = await sm.send(new ListSecretsCommand({ MaxResults: 10, NextToken: token }));
      pages.push({ size: out.SecretList?.length ?? 0, next: out.NextToken !== undefined });
      names.push(...(out.SecretList ?? []).map((s) => s.Name!));
      token = out.NextToken;
    } while (token);
    return { pages, names };
  }

  it('gives short and empty pages with NextToken set and leaves out recent changes, the same for the same seed', async () => {
    const local = await start({ secretsManager: { listConsistency: { seed: 42 } } });
    for (let i = 0; i < 60; i++) {
      await sm.send(new CreateSecretCommand({ Name: `s${i}`, SecretString: 'x' }));
    }

    const fresh = await listAll();

    expect(fresh.pages.some((p) => p.next && p.size < 10)).toBe(true);
    expect(fresh.pages.some((p) => p.next && p.size === 0)).toBe(true);
    expect(fresh.names.length).toBeLessThan(60);
    expect(new Set(fresh.names).size).toBe(fresh.names.length);
    expect(local.secretsManager.listOmissions.length).toBe(60 - fresh.names.length);

    // Five minutes later nothing is recent: every secret is listed, pages still short at random.
    await local.clock.advance(5 * 60_000 + 1);
    const settled = await listAll();
    expect(settled.names.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `s${i}`).sort());

    // The same seed replays the same pages.
    sm.destroy();
    await local.stop();
    const again = await start({ secretsManager: { listConsistency: { seed: 42 } } });
    for (let i = 0; i < 60; i++) {
      await sm.send(new CreateSecretCommand({ Name: `s${i}`, SecretString: 'x' }));
    }
    expect((await listAll()).pages).toEqual(fresh.pages);
    expect(again.secretsManager.listOmissions.length).toBe(60 - fresh.names.length);
  });

  it('is strongly consistent when off (the default)', async () => {
    await start();
    for (let i = 0; i < 25; i++) {
      await sm.send(new CreateSecretCommand({ Name: `s${i}`, SecretString: 'x' }));
    }
    const { pages, names } = await listAll();
    expect(pages.map((p) => p.size)).toEqual([10, 10, 5]);
    expect(names).toHaveLength(25);
  });
});

describe('the version quota', () => {
  it('refuses the 101st version within a day with LimitExceededException, then removes the oldest unlabelled one a day later', async () => {
    const local = await start();
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v0' }));
    for (let i = 1; i < 100; i++) {
      await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: `v${i}` }));
    }

    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v100' })),
    ).rejects.toMatchObject({
      name: 'LimitExceededException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });

    await local.clock.advance(DAY);
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v100' }));
    const stages = await stagesOf('s');
    expect(stages[put.VersionId!]).toEqual(['AWSCURRENT']);
    expect(local.secretsManager.calls.count({ operation: 'PutSecretValue' })).toBe(101);
  });
});

describe('DeleteSecret', () => {
  it('schedules deletion 30 days out, refuses writes meanwhile, and RestoreSecret undoes it', async () => {
    const local = await start();
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v0' }));

    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 's' }));

    expect(deleted.DeletionDate?.getTime()).toBe(local.clock.now().getTime() + 30 * DAY);
    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v1' })),
    ).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringMatching(/marked for deletion/),
      $metadata: { httpStatusCode: 400 },
    });
    await sm.send(new RestoreSecretCommand({ SecretId: 's' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v1' }));
  });

  it('answers a forced delete of a secret it does not have with success, as AWS does', async () => {
    await start();
    const out = await sm.send(
      new DeleteSecretCommand({ SecretId: 'never-was', ForceDeleteWithoutRecovery: true }),
    );
    expect(out.Name).toBe('never-was');
    await expect(sm.send(new DeleteSecretCommand({ SecretId: 'never-was' }))).rejects.toMatchObject(
      { name: 'ResourceNotFoundException' },
    );
  });
});
