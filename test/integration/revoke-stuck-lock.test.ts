// A revoke lock left `running`, in a local AWS session (embedded, or behind AWS_ENDPOINT_URL; the
// revoke and the rotation step run here over clients at that endpoint, on the session's clock): its release failed, or its revoke
// stopped (a function timeout) with a stronger request queued behind it. Once REVOKE_STALE_MS has
// passed, rotation of the secret works again, unless the request queued on the stopped revoke was
// never carried out; a person is told each time, and the next revoke carries the queued one out.
import { randomUUID } from 'node:crypto';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRevokeLockStore } from '#adapters/dynamodb-revoke-locks';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import type { Issuer, RevokeLockStore } from '#domain/ports';
import { REVOKE_STALE_MS, readQuarantineNotice, revokeSecret } from '#domain/revoke/index';
import { type RotationStepFailed, rotateStep } from '#domain/rotation/index';
import { STAGE } from '#domain/vocabulary';
import { RaceWorld } from '../support/race-world.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';
import { idleRotationFunction } from './support/session-functions.ts';

const skipped = await needsSessions(
  import.meta.url,
  'a movable clock (a revoke lock goes stale after 15 simulated minutes) and what SNS published',
);

let aws: Session;
let suite: SuiteAt;
let idleRotationArn: string;

beforeAll(async () => {
  if (skipped) return;
  aws = await openSession({ clock: '2026-03-02T09:00:00Z' }, { stackName: 'StuckLock' });
  suite = aws.suite;
  idleRotationArn = await idleRotationFunction(aws, 'StuckLock');
});

afterAll(async () => {
  if (skipped) return;
  await aws.idle();
  await aws.stop();
});

const oncall = { source: 'runbook' as const, principal: 'arn:aws:iam::123456789012:user/oncall' };
const locks = () => new DynamoRevokeLockStore(suite.dynamo, suite.tableName);

/** Stages a rotation as Secrets Manager does (AWSPENDING, no value yet); its version ID. */
async function stageRotation(world: RaceWorld): Promise<string> {
  const token = randomUUID();
  await suite.secretsManager.send(
    new RotateSecretCommand({
      SecretId: world.arn,
      RotationLambdaARN: idleRotationArn,
      ClientRequestToken: token,
      RotateImmediately: true,
    }),
  );
  await aws.idle();
  return token;
}

/** Runs the first rotation step of the version `world` staged; its failure reason, or 'ok'. */
async function createSecretOf(world: RaceWorld, token = world.pendingVersion): Promise<string> {
  try {
    await rotateStep(
      { secretId: world.arn, token, step: 'createSecret', trigger: { source: 'secretsmanager' } },
      { ...suite.rotationDeps, issuerFor: () => world.saas.issuer },
    );
    return 'ok';
  } catch (error) {
    return (error as RotationStepFailed).reason ?? String(error);
  }
}

function revoke(
  world: RaceWorld,
  mode: 'reissue' | 'quarantine',
  lockStore: RevokeLockStore,
  issuer: Issuer = world.saas.issuer,
) {
  return revokeSecret(
    { secretId: world.arn, reason: `key leaked (${mode})`, mode, trigger: oncall },
    {
      ...suite.revokeDeps,
      catalog: new SecretsManagerCatalog(suite.secretsManager),
      issuerFor: () => issuer,
      locks: lockStore,
    },
  );
}

/** The real lock, except that releasing it fails (a throttle that outlasted the retries). */
function withFailingRelease(real: RevokeLockStore): RevokeLockStore {
  return {
    claim: (...args) => real.claim(...args),
    read: (...args) => real.read(...args),
    queue: (...args) => real.queue(...args),
    finish: async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    },
  };
}

describe('a revoke lock left running', () => {
  it('whose release failed is alerted, and stops refusing rotations once stale', async () => {
    const world = new RaceWorld(aws, suite, idleRotationArn);
    await world.setUp('release-fails');
    const real = locks();
    const outcome = await revoke(world, 'reissue', withFailingRelease(real));
    expect(outcome.status).toBe('completed');
    expect((await real.read(world.arn))?.state).toBe('running');
    const [alert] = await world.alertTexts('revoke.completed');
    expect(alert).toMatch(/revoke lock of this secret was not released/);
    expect(alert).toMatch(/rotations are refused until 2026-03-02T09:15:00/);

    // A rotation staged after the revoke: refused while the lock may still be a live revoke's...
    const secret = await suite.store.describe(world.arn);
    const current = Object.keys(secret.versions).find((id) =>
      secret.versions[id]!.includes(STAGE.current),
    )!;
    expect(await createSecretOf(world, await stageRotation(world))).toBe('revoke-in-progress');
    // ...and not once it is older than any revoke can run.
    await aws.clock.advance(REVOKE_STALE_MS + 60_000);
    const again = await stageRotation(world);
    expect(await createSecretOf(world, again)).toBe('ok');
    const after = await suite.store.describe(world.arn);
    expect(after.versions[again]).toContain(STAGE.pending);
    expect(after.versions[current]).toContain(STAGE.current);
    await world.tearDown();
  });

  it('whose revoke failed and whose release failed too says so in the failure alert', async () => {
    const world = new RaceWorld(aws, suite, idleRotationArn);
    await world.setUp('failure-release-fails');
    const real = locks();
    const issuerDown: Issuer = {
      ...world.saas.issuer,
      revoke: async () => {
        throw new Error('issuer unavailable');
      },
    };
    await expect(revoke(world, 'reissue', withFailingRelease(real), issuerDown)).rejects.toThrow(
      /revoke lock of this secret was not released/,
    );
    expect((await real.read(world.arn))?.state).toBe('running');
    const [alert] = await world.alertTexts('revoke.failed');
    expect(alert).toMatch(/revoke lock of this secret was not released/);
    expect(alert).toMatch(/a stronger request \(quarantine\) was queued/);
    await world.tearDown();
  });

  it('by a revoke that stopped with a quarantine queued: rotation refused and alerted until a revoke takes the lock over and quarantines', async () => {
    const world = new RaceWorld(aws, suite, idleRotationArn);
    await world.setUp('stopped-with-queue');
    const real = locks();
    // A reissue whose function then timed out: its lock stays running.
    const startedAt = aws.clock.now();
    const claimed = await real.claim(
      world.arn,
      {
        revokeId: 'stopped-reissue',
        requestKey: 'stopped-reissue-key',
        mode: 'reissue',
        requester: 'runbook',
        startedAt: startedAt.toISOString(),
      },
      {
        sameRequestKeys: ['stopped-reissue-key'],
        staleBefore: new Date(startedAt.getTime() - REVOKE_STALE_MS),
      },
    );
    expect(claimed.status).toBe('claimed');
    const queued = await revoke(world, 'quarantine', real);
    expect(queued.status).toBe('queued');

    await aws.clock.advance(REVOKE_STALE_MS + 60_000);
    // The quarantine was never carried out: rotating now would mint a fresh valid key.
    expect(await createSecretOf(world)).toBe('revoke-stalled');
    expect(world.saas.valid.has(world.leakedKey)).toBe(true);
    const [refusal] = await world.alertTexts('rotation.failed');
    expect(refusal).toMatch(/a quarantine request .* was never carried out/);

    // The person does what the alert says: the revoke takes the stopped one's lock over and
    // carries out the queued quarantine after its own reissue.
    const taken = await revoke(world, 'reissue', real);
    expect(taken.status).toBe('completed');
    expect(taken.status === 'completed' && taken.followedBy?.status).toBe('completed');
    const { versions, values } = await world.read();
    const current = Object.keys(versions).find((id) => versions[id]!.includes(STAGE.current))!;
    expect(readQuarantineNotice(values[current]!)).toBeDefined();
    expect(world.saas.valid.has(world.leakedKey)).toBe(false);
    expect(await world.check()).toEqual([]);
    // A quarantined secret is not rotated back.
    expect(await createSecretOf(world, await stageRotation(world))).toBe('quarantined');
    await world.tearDown();
  });
});
