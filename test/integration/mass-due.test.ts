// The day everything is due at once (issue 16): many opted-in secrets overdue in one pass, some
// never attached, some attached on the right schedule, some on a stale one. One sweep rotates
// every one of them with one RotateSecret each and no failure; a secret whose rotation is
// already under way is left alone. On the local AWS, RotateSecret returns before its rotation
// ends, as on AWS, so a second request for the same secret in the pass would be refused with
// "A previous rotation isn't complete".
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { HOUR_MS } from '#domain/policy';
import { TAG } from '#domain/vocabulary';
import type { CallRecord } from '#local-aws/index';
import type { PendingEndState } from '#local-aws/secrets-manager';
import { attachRotation, createTaggedSecret, settleListings } from '../cli/support.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

await needsSessions(
  import.meta.url,
  'a movable clock (tokens ten days old in no time) and the Secrets Manager requests received',
);

logger.setLogLevel('ERROR');

const DAY_MS = 24 * HOUR_MS;
const PER_GROUP = 12;
let aws: Session | undefined;
afterEach(async () => {
  await aws?.stop();
  aws = undefined;
});

const attach = (suite: SuiteAt, arn: string, lifespanMs: number) =>
  attachRotation(suite, arn, lifespanMs, false);

const current = async (suite: SuiteAt, arn: string) => {
  const out = await suite.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
  return Object.entries(out.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))![0];
};

const rotateRequests = (calls: CallRecord[], arn: string) =>
  calls.filter((r) => r.operation === 'RotateSecret' && r.secret === arn).length;

const due = (groups: Record<string, string[]>) => Object.values(groups).flat();

for (const pendingAfterRotation of ['removed', 'kept'] as PendingEndState[]) {
  describe(`with AWSPENDING ${pendingAfterRotation} after a rotation`, () => {
    it('rotates every due secret in one sweep with one RotateSecret each and no failure', async () => {
      // Prepare: tokens ten days old under a 7-day lifespan, in three shapes, and two secrets
      // whose rotation is under way (AWSPENDING on a version that is not AWSCURRENT).
      aws = await openSession(
        { clock: '2026-05-04T08:00:00Z', secretsManager: { pendingAfterRotation } },
        { pace: { ratePerSecond: 100_000, burst: 1000 } },
      );
      const suite = aws.suite;
      const tags = { [TAG.lifespan]: '7d' };
      const make = (name: string, i: number) =>
        createTaggedSecret(
          suite.secretsManager,
          `${name}/${i}`,
          `acme_live_${name}_${i}_0123456789abcdef0123456789`,
          tags,
        );
      const groups = {
        unattached: [] as string[],
        attached: [] as string[],
        stale: [] as string[],
      };
      for (let i = 0; i < PER_GROUP; i++) {
        for (const name of Object.keys(groups) as (keyof typeof groups)[]) {
          groups[name].push(await make(name, i));
        }
      }
      const busy = [await make('busy-unattached', 0), await make('busy-attached', 0)];
      await aws.clock.advance(10 * DAY_MS);
      for (const arn of groups.attached) await attach(suite, arn, 7 * DAY_MS);
      for (const arn of groups.stale) await attach(suite, arn, 30 * DAY_MS);
      await attach(suite, busy[1]!, 7 * DAY_MS);
      await aws.idle();
      // AWSPENDING left on AWSCURRENT by an earlier successful rotation (AWS documents both end
      // states) is a finished rotation, not one in progress: half of each group carries it.
      for (const arn of due(groups).filter((_, i) => i % 2 === 1)) {
        await suite.secretsManager.send(
          new UpdateSecretVersionStageCommand({
            SecretId: arn,
            VersionStage: 'AWSPENDING',
            MoveToVersionId: await current(suite, arn),
          }),
        );
      }
      for (const arn of busy) {
        await suite.secretsManager.send(
          new PutSecretValueCommand({
            SecretId: arn,
            SecretString: 'acme_live_in_flight_x',
            VersionStages: ['AWSPENDING'],
          }),
        );
      }
      // Every due secret was just created, attached or relabelled, and ListSecrets may leave out
      // a secret changed in the last minutes (on AWS too): a sweep can only promise to rotate the
      // secrets it lists, and one it missed is the next sweep's (sweep-consistency.test.ts proves
      // that). The promise measured here, all in one sweep, is for changes that have settled.
      await settleListings(aws);
      const before = new Map<string, string>();
      for (const arn of due(groups)) before.set(arn, await current(suite, arn));
      await aws.resetSecretsManagerCalls();

      // Act: one sweep, as the schedule runs it.
      const report = await aws.sweep();
      await aws.idle();

      // Assess: no failure, every due token replaced, one RotateSecret per due secret ...
      expect(report.failureCount).toBe(0);
      const calls = await aws.secretsManagerCalls();
      for (const arn of due(groups)) {
        expect(rotateRequests(calls, arn), arn).toBe(1);
        expect(await current(suite, arn), arn).not.toBe(before.get(arn));
      }
      const requests = calls.filter((r) => r.operation === 'RotateSecret');
      expect(requests.filter((r) => r.throttled)).toEqual([]);
      // ... and the secrets mid-rotation are left alone: not rotated, audited or failed.
      expect(rotateRequests(calls, busy[1]!)).toBe(0);
      for (const arn of busy) {
        const records = await suite.audit.history(arn);
        expect(records.filter((r) => r.outcome === 'failed')).toEqual([]);
      }
      for (const arn of due(groups)) {
        const failed = (await suite.audit.history(arn)).filter((r) => r.outcome === 'failed');
        expect(failed, arn).toEqual([]);
      }
    });
  });
}
