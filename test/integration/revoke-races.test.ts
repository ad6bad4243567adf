// An emergency revoke racing a rotation of the same secret, in a session of the local AWS
// (embedded, or the served one behind AWS_ENDPOINT_URL) with the real rotation steps, revoke and
// lock run in this process against it: each test fixes one order of their calls (a hand-written
// schedule of the Interleaver) that a real deployment can produce, and checks what a user relies
// on afterwards: the revoke won, the leaked key works nowhere, one valid AWSCURRENT (or the
// quarantine notice), no stray AWSPENDING, and the next rotation works.
import { randomUUID } from 'node:crypto';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readQuarantineNotice } from '#domain/revoke/index';
import { STAGE } from '#domain/vocabulary';
import { createRotationHandler } from '#handlers/rotation';
import { Interleaver, phases } from '../support/interleave.ts';
import { type RaceHost, RaceWorld } from '../support/race-world.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

const skipped = await needsSessions(
  import.meta.url,
  'rotation functions served from the test process (one that leaves a rotation staged, the real handler with the race issuer), what SNS published and the rotations Secrets Manager ran',
  ['function-callbacks', 'rotations'],
);

let session: Session;
let aws: RaceHost;
let suite: SuiteAt;
let idleRotationArn: string;

/** A rotation function deployed as an account holds one, Secrets Manager allowed to invoke it. */
const deployRotation = (name: string, handler: Parameters<Session['deployFunction']>[1]) =>
  session.deployFunction(name, handler, { invokedBy: 'secretsmanager.amazonaws.com' });

beforeAll(async () => {
  if (skipped) return;
  session = await openSession({ clock: '2026-03-02T09:00:00Z' }, { stackName: 'RevokeRaces' });
  suite = session.suite;
  aws = session;
  idleRotationArn = await deployRotation('RevokeRaces-idle-rotation', async () => undefined);
});

afterAll(async () => {
  if (skipped) return;
  await session.idle();
  await session.stop();
});

/** A full rotation started by Secrets Manager now, with the real handler and this world's issuer. */
async function rotateAgain(world: RaceWorld): Promise<string> {
  const fn = await deployRotation(
    `RevokeRaces-rotation-${randomUUID().slice(0, 8)}`,
    createRotationHandler({ ...suite.rotationDeps, issuerFor: () => world.saas.issuer }),
  );
  await suite.secretsManager.send(
    new RotateSecretCommand({
      SecretId: world.arn,
      RotationLambdaARN: fn,
      RotateImmediately: true,
    }),
  );
  await aws.idle();
  return (await session.rotations(world.arn)).at(-1)!.outcome;
}

async function race(
  label: string,
  mode: 'reissue' | 'quarantine',
  schedule: ReturnType<typeof phases>,
  prepare?: (world: RaceWorld) => void,
) {
  const world = new RaceWorld(aws, suite, idleRotationArn);
  await world.setUp(label);
  prepare?.(world);
  const run = new Interleaver(schedule);
  const actors = [world.rotation(run), world.revoke(run, mode)];
  await run.run();
  await Promise.all(actors);
  await aws.idle();
  return { world, trace: run.trace };
}

describe('an emergency revoke during a rotation in flight', () => {
  it.each(['reissue', 'quarantine'] as const)(
    'wins (%s) when the rotation finishes in the middle of it: its own version becomes AWSCURRENT, no stray AWSPENDING, and rotations work afterwards',
    async (mode) => {
      // Prepare: the rotation has put and tested its new key; the revoke then runs up to putting
      // its own new version, the rotation's finishSecret runs, then the revoke carries on.
      const { world, trace } = await race(
        `finish-mid-revoke-${mode}`,
        mode,
        phases(
          { actor: 'rotation', after: 'issuer.verify' },
          { actor: 'revoke', until: 'sm.putPending' },
          { actor: 'rotation' },
          { actor: 'revoke' },
        ),
      );

      // Assess
      const [outcome] = world.outcome.revokes;
      expect(outcome, trace.join(' > ')).toMatchObject({ status: 'completed', mode });
      expect(await world.check()).toEqual([]);
      const { versions, values } = await world.read();
      const newVersion = (outcome as { newVersionId: string }).newVersionId;
      expect(versions).toEqual({ [newVersion]: [STAGE.current] });
      expect(world.saas.valid.has(world.leakedKey)).toBe(false);
      const current = values[newVersion]!;
      if (mode === 'quarantine') expect(readQuarantineNotice(current)).toBeDefined();
      else expect(world.saas.valid.has(world.saas.keyOf(current))).toBe(true);
      expect(world.outcome.rotation).toBe('failed');
      expect(await world.alerts()).toEqual(
        expect.arrayContaining(['rotation.failed', 'revoke.completed']),
      );

      // Act: the next rotation, as Secrets Manager runs it
      const next = await rotateAgain(world);

      // Assess: a reissued secret rotates; a quarantined one refuses to bring a token back
      if (mode === 'reissue') {
        expect(next).toBe('succeeded');
        expect(await world.check()).toEqual([]);
      } else {
        expect(next).toBe('failed');
        const after = await world.read();
        const currentNow = Object.keys(after.versions).find((id) =>
          after.versions[id]!.includes(STAGE.current),
        )!;
        expect(readQuarantineNotice(after.values[currentNow]!)).toBeDefined();
      }
    },
  );

  it.each(['reissue', 'quarantine'] as const)(
    'is not undone (%s) by a rotation that puts its new key after the revoke looked: the key is revoked and its AWSPENDING taken off',
    async (mode) => {
      // Prepare: the rotation has minted its key and is about to put it; the revoke runs to the
      // end but for releasing its lock; then the rotation puts its key and carries on.
      const { world, trace } = await race(
        `put-after-revoke-${mode}`,
        mode,
        phases(
          { actor: 'rotation', until: 'sm.putPending' },
          { actor: 'revoke', until: 'lock.finish' },
          { actor: 'rotation' },
          { actor: 'revoke' },
        ),
      );

      // Assess
      expect(world.outcome.revokes[0], trace.join(' > ')).toMatchObject({
        status: 'completed',
        mode,
      });
      expect(await world.check()).toEqual([]);
      const { versions, values } = await world.read();
      expect(Object.keys(versions)).toHaveLength(1);
      const current = Object.values(values)[0]!;
      if (mode === 'quarantine') expect(readQuarantineNotice(current)).toBeDefined();
      expect(world.outcome.rotation).toBe('failed');
      // Every key the rotation minted works nowhere: it was never promoted.
      for (const key of [...world.saas.revoked]) expect(world.saas.valid.has(key)).toBe(false);
      expect(world.saas.valid.size).toBe(mode === 'reissue' ? 1 : 0);
      expect(await rotateAgain(world)).toBe(mode === 'reissue' ? 'succeeded' : 'failed');
    },
  );

  it('revokes the key a rotation put after the revoke first found its version empty', async () => {
    // Prepare: the revoke reads the rotation's version before createSecret puts a key in it.
    const { world, trace } = await race(
      'filled-late',
      'reissue',
      phases(
        { actor: 'revoke', until: 'issuer.mint' },
        { actor: 'rotation', after: 'sm.putPending' },
        { actor: 'revoke' },
      ),
    );

    // Assess
    expect(world.outcome.revokes[0], trace.join(' > ')).toMatchObject({ status: 'completed' });
    expect(await world.check()).toEqual([]);
    expect(world.saas.valid.size).toBe(1);
  });
});

/**
 * Makes the world's issuer one whose keys work only once activated: activating makes a key valid.
 * Returns the keys activated for the rotation's version (the revoke activates its own as well).
 */
function activating(world: RaceWorld): string[] {
  const activated: string[] = [];
  world.saas.issuer.activate = async (ctx) => {
    const key = world.saas.keyOf(ctx.pending);
    if (ctx.versionId === world.pendingVersion) activated.push(key);
    world.saas.valid.add(key);
  };
  return activated;
}

describe('an emergency revoke during setSecret of an issuer that activates new keys', () => {
  it.each([
    {
      when: 'after setSecret read it',
      // setSecret has passed its opening checks and read both values (its first read of the
      // lock comes before it reads the new key); the revoke then runs to its end (revoking the
      // new key), and setSecret carries on to activate: refused, and it says so
      name: 'activate-after-revoke',
      stops: [{ actor: 'rotation', after: 'lock.read' }],
      says: /setSecret[\s\S]*was not activated/,
    },
    {
      when: 'before setSecret first read the lock',
      // setSecret has read DescribeSecret (AWSPENDING still on its version); the revoke runs to
      // its end before setSecret's first read of the lock, taking AWSPENDING off
      name: 'activate-after-early-revoke',
      stops: [],
      says: /\(AWSPENDING\) to hold the new token/,
    },
  ] as const)(
    'stops setSecret from activating the key a revoke revoked $when',
    async ({ name, stops, says }) => {
      // Prepare
      let activated: string[] = [];
      const { world, trace } = await race(
        name,
        'reissue',
        phases(
          { actor: 'rotation', after: 'issuer.mint' },
          { actor: 'rotation', after: 'sm.describe' },
          ...stops,
          { actor: 'rotation', until: 'lock.read' },
          { actor: 'revoke' },
          { actor: 'rotation' },
        ),
        (w) => {
          activated = activating(w);
        },
      );

      // Assess: nothing was activated, the new key stays revoked, and the refusal says why
      expect(world.outcome.revokes[0], trace.join(' > ')).toMatchObject({ status: 'completed' });
      expect(activated).toEqual([]);
      expect(world.outcome.rotation).toBe('failed');
      expect(await world.check()).toEqual([]);
      expect(world.saas.valid.size).toBe(1);
      expect((await world.alertTexts('rotation.failed'))[0]).toMatch(says);
      expect(await rotateAgain(world)).toBe('succeeded');
    },
  );

  it('revokes again the key setSecret activated while a revoke ran', async () => {
    // Prepare: setSecret is about to activate when the revoke runs to its end; the activation
    // then brings the revoked key back to life at the issuer.
    let activated: string[] = [];
    const { world, trace } = await race(
      'activate-during-revoke',
      'reissue',
      phases(
        { actor: 'rotation', until: 'issuer.activate' },
        { actor: 'revoke' },
        { actor: 'rotation' },
      ),
      (w) => {
        activated = activating(w);
      },
    );

    // Assess: every key but the reissued one works nowhere, the activated one included
    expect(world.outcome.revokes[0], trace.join(' > ')).toMatchObject({ status: 'completed' });
    expect(activated).toHaveLength(1);
    expect(world.saas.valid.has(activated[0]!)).toBe(false);
    expect(world.outcome.rotation).toBe('failed');
    expect(await world.check()).toEqual([]);
    expect(world.saas.valid.size).toBe(1);
    expect((await world.alertTexts('rotation.failed'))[0]).toContain(
      `the new token (${activated[0]}) was activated while it ran, and revoked again`,
    );
  });
});

describe('a rotation that cannot revoke the key it put after a revoke', () => {
  it('leaves AWSPENDING on the key, names it as NOT revoked, and the next revoke finds it', async () => {
    // Prepare: as above, the rotation puts its key after the revoke looked; the issuer refuses to
    // revoke that key, as a SaaS that is down does.
    let down = true;
    const { world, trace } = await race(
      'unrevokable-put',
      'reissue',
      phases(
        { actor: 'rotation', until: 'sm.putPending' },
        { actor: 'revoke', until: 'lock.finish' },
        { actor: 'rotation' },
        { actor: 'revoke' },
      ),
      (w) => {
        const revoke = w.saas.issuer.revoke.bind(w.saas.issuer);
        w.saas.issuer.revoke = async (ctx) => {
          if (down && ctx.versionId === w.pendingVersion) throw new Error('issuer unavailable');
          await revoke(ctx);
        };
      },
    );

    // Assess: the key is still live, still labelled, and the alert names it as not revoked
    expect(world.outcome.revokes[0], trace.join(' > ')).toMatchObject({ status: 'completed' });
    expect(world.outcome.rotation).toBe('failed');
    const { versions, values } = await world.read();
    expect(versions[world.pendingVersion]).toEqual([STAGE.pending]);
    const key = world.keyIn(values[world.pendingVersion])!;
    expect(world.saas.valid.has(key)).toBe(true);
    const [alert] = await world.alertTexts('rotation.failed');
    expect(alert).toContain(`the new token (${key}) was NOT revoked`);
    expect(alert).toContain('issuer unavailable');

    // Act: the issuer answers again, and the revoke is run again
    down = false;
    const run = new Interleaver();
    const again = world.revoke(run, 'reissue', {
      actor: 'revoke-again',
      reason: 'the rotation left a key live',
    });
    await run.run();
    await again;
    await aws.idle();

    // Assess: the key the rotation left is found and revoked; nothing is left live
    expect(world.revokeOf.get('revoke-again')).toMatchObject({ status: 'completed' });
    expect(world.saas.valid.has(key)).toBe(false);
    expect(await world.check()).toEqual([]);
  });
});

describe('two emergency revokes of one secret at once', () => {
  // Running first, arriving second (mid-way through the first): what the second answers, and what
  // the secret ends as. Precedence is by mode alone, whatever the triggers.
  it.each([
    ['reissue', 'tag', 'reissue', 'health', 'duplicate', 'reissued'],
    ['reissue', 'runbook', 'quarantine', 'console', 'queued', 'quarantined'],
    ['reissue', 'health', 'quarantine', 'runbook', 'queued', 'quarantined'],
    ['quarantine', 'runbook', 'reissue', 'health', 'duplicate', 'quarantined'],
    ['quarantine', 'console', 'quarantine', 'runbook', 'duplicate', 'quarantined'],
  ] as const)(
    'a %s revoke (%s) running, a %s request (%s) arriving: %s, and the secret ends %s',
    async (firstMode, firstTrigger, secondMode, secondTrigger, answer, end) => {
      // Prepare
      const world = new RaceWorld(aws, suite, idleRotationArn);
      await world.setUp(`precedence-${firstMode}-${secondMode}`);
      const run = new Interleaver(
        phases({ actor: 'first', until: 'sm.putPending' }, { actor: 'second' }, { actor: 'first' }),
      );

      // Act
      const actors = [
        world.revoke(run, firstMode, { actor: 'first', trigger: firstTrigger, reason: 'first' }),
        world.revoke(run, secondMode, {
          actor: 'second',
          trigger: secondTrigger,
          reason: 'second',
        }),
      ];
      await run.run();
      await Promise.all(actors);
      await aws.idle();

      // Assess
      const first = world.revokeOf.get('first');
      const second = world.revokeOf.get('second');
      expect(first, run.trace.join(' > ')).toMatchObject({ status: 'completed', mode: firstMode });
      expect(second).toMatchObject({ status: answer });
      const { versions, values } = await world.read();
      expect(Object.keys(versions)).toHaveLength(1);
      const current = Object.values(values)[0]!;
      expect(readQuarantineNotice(current) !== undefined).toBe(end === 'quarantined');
      expect(await world.check()).toEqual([]);
      // Every key ever issued for this secret works nowhere, but a reissued secret's one.
      expect(world.saas.valid.size).toBe(end === 'reissued' ? 1 : 0);
      const completed = (await world.alerts()).filter((e) => e === 'revoke.completed');
      expect(completed).toHaveLength(answer === 'queued' ? 2 : 1);
      if (answer === 'queued') {
        expect((first as { followedBy?: unknown }).followedBy).toMatchObject({
          status: 'completed',
          mode: secondMode,
        });
        const records = await suite.audit.history(world.arn);
        expect(records.map((r) => `${r.event}:${r.outcome}`)).toEqual([
          'revoke.requested:started',
          'revoke.requested:queued',
          'revoke.completed:succeeded',
          'revoke.requested:started',
          'revoke.completed:succeeded',
        ]);
        expect(records[3]!.trigger.source).toBe(secondTrigger);
        expect(records[3]!.detail?.queuedBehind).toBe((first as { revokeId: string }).revokeId);
      }
    },
  );
});
