// Adding a token kind is a folder and one registry entry: a fourth kind that exists only in the
// tests (support/fake-kind) is registered in this process and then, in a session of the local AWS
// (embedded, or the served one behind AWS_ENDPOINT_URL) with the real handlers run here (the
// suite's rotation and revoke functions served from this process, invoked by the endpoint), goes
// through a rotation, a grace expiry (the sweep revokes the previous token) and an emergency
// revoke. Nothing else in the suite knows its name.
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { kindPermissions, registerKindForTests } from '#domain/kinds/registry';
import { parsePolicy } from '#domain/policy';
import type { AuditRecord } from '#domain/ports';
import type { RevokeOutcome } from '#domain/revoke/index';
import { STAGE, TAG } from '#domain/vocabulary';
import { createTaggedSecret, sweepOnce } from '../cli/support.ts';
import { FAKE_KIND, FakeSaas, fakeKind } from './support/fake-kind/index.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';
import { invokeFunction, serveSuiteHandlers } from './support/suite-handlers.ts';

const skipped = await needsSessions(
  import.meta.url,
  'a kind registered in this process: the rotation and revoke functions served from it, and a movable clock',
  ['function-callbacks'],
);

logger.setLogLevel('CRITICAL');
const HOUR = 3_600_000;
const TAGS = { [TAG.lifespan]: '7d', [TAG.kind]: FAKE_KIND, [TAG.grace]: '1h' };

let aws: Session;
let suite: SuiteAt;
let unregister: (() => void) | undefined;
const saas = new FakeSaas();

beforeAll(async () => {
  if (skipped) return;
  unregister = registerKindForTests(fakeKind(saas));
  aws = await openSession({ clock: '2026-04-01T09:00:00.000Z' }, { stackName: 'FakeKind' });
  suite = aws.suite;
  await serveSuiteHandlers(aws);
});

afterAll(async () => {
  unregister?.();
  await aws?.stop();
});

const keyIdOf = async (arn: string) =>
  JSON.parse((await suite.store.getValue(arn)) ?? '{}').keyId as string;

/** The version holding `stage`. */
async function versionOf(arn: string, stage: string): Promise<string> {
  const { versions } = await suite.store.describe(arn);
  return Object.keys(versions).find((id) => versions[id]!.includes(stage))!;
}

const named = (records: AuditRecord[], event: string) => records.filter((r) => r.event === event);

describe.skipIf(skipped)('a token kind added as a folder and a registry entry', () => {
  it('is known to the policy and the permissions only while registered', () => {
    // Assess: the registry is the one place the policy and the permissions read.
    const tags = { ...TAGS };
    expect(parsePolicy({ tags })).toMatchObject({ ok: true, policy: { kind: FAKE_KIND } });
    const sids = kindPermissions({ accessKeyUserPath: '/p/', issuerFunctions: [] }, 'mint').map(
      (grant) => grant.sid,
    );
    expect(sids).toContain('CallTheFakeSaas');
    unregister?.();
    try {
      expect(parsePolicy({ tags })).toMatchObject({
        ok: false,
        problems: [{ tag: TAG.kind, found: FAKE_KIND }],
      });
    } finally {
      unregister = registerKindForTests(fakeKind(saas));
    }
  });

  it('rotates, revokes the previous token after grace, and revokes in an emergency', async () => {
    // Prepare: a key a person got from the SaaS, stored and opted in; the sweep attaches rotation.
    const first = saas.issue();
    const arn = await createTaggedSecret(
      suite.secretsManager,
      'fake/api-key',
      JSON.stringify({ ...first, owner: 'payments-team' }),
      TAGS,
    );
    await sweepOnce(aws, suite);
    expect(named(await suite.audit.history(arn), 'rotation.attached')).toHaveLength(1);
    const firstVersionId = await versionOf(arn, STAGE.current);

    // Act 1: a rotation, through Secrets Manager and the real rotation handler.
    await suite.secretsManager.send(
      new RotateSecretCommand({ SecretId: arn, RotateImmediately: true }),
    );
    await aws.idle();

    // Assess 1: the issuer minted and verified one new key for the new version, which is now
    // AWSCURRENT with the other fields carried over; the old key still works through grace.
    const current = JSON.parse((await suite.store.getValue(arn)) ?? '{}');
    const second = current.keyId as string;
    const secondVersion = await versionOf(arn, STAGE.current);
    expect(saas.calls).toEqual([
      { action: 'mint', keyId: second, versionId: secondVersion },
      { action: 'verify', keyId: second, versionId: secondVersion },
    ]);
    expect(current.owner).toBe('payments-team');
    expect(saas.liveKeys().sort()).toEqual([first.keyId, second].sort());
    const steps = named(await suite.audit.history(arn), 'step.succeeded');
    expect(steps.find((r) => r.step === 'createSecret')?.tokens).toEqual({
      current: first.keyId,
      pending: second,
    });
    // The issuer's verify (above) passed; finishSecret's record, which only follows it, says so.
    const rotated = steps.filter((r) => !r.detail?.configurationTest).map((r) => r.step);
    expect(rotated).toEqual(['createSecret', 'finishSecret']);

    // Act 2: grace (1h) runs out; the next sweep revokes the previous key at the issuer.
    saas.calls.length = 0;
    await aws.clock.advance(2 * HOUR);
    await sweepOnce(aws, suite);

    // Assess 2: only the previous key was revoked, and the audit says so, naming it.
    expect(saas.calls).toEqual([
      { action: 'revoke', keyId: first.keyId, versionId: firstVersionId },
    ]);
    expect(saas.liveKeys()).toEqual([second]);
    const [revoked, ...moreRevoked] = named(await suite.audit.history(arn), 'previous.revoked');
    expect(moreRevoked).toEqual([]);
    expect(revoked).toMatchObject({
      outcome: 'succeeded',
      versions: { previous: firstVersionId },
      tokens: { previous: first.keyId },
      detail: { kind: FAKE_KIND, revokedBy: FAKE_KIND, notLiveBy: 'keyId' },
    });

    // Act 3: an emergency revoke from the console (the revoke function, invoked through Lambda).
    saas.calls.length = 0;
    const invoked = await invokeFunction(aws, suite.functions.revoke, {
      secretId: arn,
      reason: 'key pasted in a chat',
      mode: 'reissue',
    });
    await aws.idle();
    expect(invoked.ok).toBe(true);
    const outcome = (invoked as { result: RevokeOutcome }).result;

    // Assess 3: the live key was revoked with no grace, a new one minted and verified for the
    // reissued version, which is AWSCURRENT and the only key the SaaS still accepts.
    expect(outcome.status).toBe('completed');
    const third = await keyIdOf(arn);
    const thirdVersion = await versionOf(arn, STAGE.current);
    expect(saas.calls).toEqual([
      { action: 'revoke', keyId: second, versionId: secondVersion },
      { action: 'mint', keyId: third, versionId: thirdVersion },
      { action: 'verify', keyId: third, versionId: thirdVersion },
    ]);
    expect(saas.liveKeys()).toEqual([third]);
    const [completed, ...moreCompleted] = named(await suite.audit.history(arn), 'revoke.completed');
    expect(moreCompleted).toEqual([]);
    expect(completed).toMatchObject({
      outcome: 'succeeded',
      versions: { current: secondVersion, reissued: thirdVersion },
      tokens: { current: second },
      detail: { mode: 'reissue', reason: 'key pasted in a chat', revokedVersions: 1 },
    });
  });
});
