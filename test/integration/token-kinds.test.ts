// Token kinds beyond `random`, in a session of the local AWS (embedded, or the served one behind
// AWS_ENDPOINT_URL): IAM access keys (the endpoint's IAM and STS) and custom issuers (the example
// issuer function, bundled and deployed through the endpoint's Lambda API, minting at a local
// SaaS). Rotations are driven by RotateSecret, Secrets Manager invoking the rotation handler run
// in this process; grace expiry by the sweep runner; emergency revokes by issuer.revoke, as the
// revoke does.

import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IamAccessKeys } from '#adapters/iam-keys';
import type { IssuerFor } from '#domain/kinds/registry';
import { deleteAfterLabel } from '#domain/sweep/labels';
import { TAG } from '#domain/vocabulary';
import type { SaasServer } from '../support/saas-server.ts';
import { bundleHandler } from './support/bundle.ts';
import {
  BINDING_TAG,
  DELETE_AFTER,
  type KindsWorld,
  iamSecret as kindsIamSecret,
  iamUser as kindsIamUser,
  startKindsWorld,
} from './support/kinds-world.ts';
import { needsSessions, type Session, type SuiteAt } from './support/session.ts';

/** On an endpoint without the local AWS's control API this file is skipped, naming what it needs. */
const skipped = await needsSessions(
  import.meta.url,
  'a movable clock, a rotation function served from the test process (injected issuers and store faults), the rotations Secrets Manager ran, and IAM consistency delays',
  ['function-callbacks', 'rotations', 'iam-consistency'],
);

const HOUR = 3_600_000;

let w: KindsWorld;
let session: Session;
let suite: SuiteAt;
let saas: SaasServer;
let sm: SecretsManagerClient;
let lambda: LambdaClient;
let accessKeys: IamAccessKeys;
let issuerFor: IssuerFor;
/** What the issuers waited for (testSecret's backoff), advancing the local clock instead. */
let waits: number[];

beforeAll(async () => {
  if (skipped) return;
  w = await startKindsWorld({
    stackName: 'TokenKinds',
    rotationName: 'TokenKinds-kinds-rotation',
    secretPrefix: 'kinds',
  });
  ({ session, suite, saas, sm, lambda, accessKeys, issuerFor, waits } = w);
  const misbehaving = await bundleHandler(
    new URL('./support/misbehaving-issuer.ts', import.meta.url),
  );
  for (const mode of ['garbage', 'throw', 'hang']) {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: `bad-issuer-${mode}`,
        Runtime: 'nodejs20.x',
        Role: w.issuerRole,
        Handler: 'index.handler',
        // Only the hanging one is meant to run out of time; the others answer at once, and a
        // 1-second limit would make them fail by timeout on a machine too busy to schedule them.
        Timeout: mode === 'hang' ? 1 : 30,
        Code: { ZipFile: misbehaving },
        Environment: { Variables: { MODE: mode } },
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  if (skipped) return;
  await w?.stop();
});

// ---- helpers (support/kinds-world.ts) ----

const createSecret = (value: string, tags: Record<string, string>) => w.createSecret(value, tags);
const rotate = (arn: string) => w.rotate(arn);
const secretValue = (arn: string, select?: { stage?: string; versionId?: string }) =>
  w.secretValue(arn, select);
const stagesOf = (arn: string) => w.stagesOf(arn);
const sweep = () => w.sweep();
const readable = (arn: string) => w.readable(arn);

const versionWith = async (arn: string, stage: string) =>
  Object.entries(await stagesOf(arn)).find(([, stages]) => stages.includes(stage))?.[0];

const alertsFor = (arn: string) => w.alertsFor(arn);
const keysOf = (userName: string) => w.keysOf(userName);

const iamUser = (extra?: object) => kindsIamUser(w, extra);
const iamSecret = (extra?: object) => kindsIamSecret(w, extra);

// ---- iam-access-key ----

describe('iam-access-key', () => {
  it('rotates to a new active key that signs in as the user, the old key working through grace', async () => {
    // Prepare
    const { userName, key, value, arn } = await iamSecret({ region: 'eu-west-1' });

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('succeeded');
    const current = JSON.parse(await secretValue(arn));
    expect(current.accessKeyId).not.toBe(key.accessKeyId);
    expect(current).toMatchObject({ userName, region: 'eu-west-1' });
    expect(await secretValue(arn, { stage: 'AWSPREVIOUS' })).toBe(value);
    const keys = await keysOf(userName);
    expect(keys.map((k) => [k.accessKeyId, k.status])).toEqual([
      [key.accessKeyId, 'Active'],
      [current.accessKeyId, 'Active'],
    ]);
    const identity = await accessKeys.whoAmI(current);
    expect(identity).toMatchObject({
      accepted: true,
      arn: `arn:aws:iam::123456789012:user/token-rotation/${userName}`,
    });
    const history = await suite.audit.history(arn);
    // setSecret activates the new key, so it is recorded; testSecret's passed check is not.
    expect(history.filter((r) => r.event === 'step.succeeded').map((r) => r.step)).toEqual([
      'createSecret',
      'setSecret',
      'finishSecret',
    ]);
    expect(
      history.find((r) => r.step === 'setSecret' && r.event === 'step.succeeded')?.tokens,
    ).toEqual({
      pending: current.accessKeyId,
    });
    const text = await readable(arn);
    expect(text).not.toContain(key.secretAccessKey);
    expect(text).not.toContain(current.secretAccessKey);
  });

  it("waits out IAM's eventual consistency before the new key is accepted", async () => {
    // Prepare
    const { arn } = await iamSecret();
    await session.setIamConsistencyDelay(6000);
    waits.length = 0;

    try {
      // Act
      const rotation = await rotate(arn);

      // Assess
      expect(rotation.outcome).toBe('succeeded');
      expect(waits).toEqual([1000, 2000, 4000]);
      expect(rotation.attempts.every((a) => a.error === undefined)).toBe(true);
    } finally {
      await session.setIamConsistencyDelay(0);
    }
  });

  it('after grace deactivates the previous key, and deletes it when its delete-after time comes', async () => {
    // Prepare
    const { userName, key, arn } = await iamSecret();
    await rotate(arn);
    const current = JSON.parse(await secretValue(arn));
    const previousVersion = (await versionWith(arn, 'AWSPREVIOUS'))!;

    // Act: past grace (1h) plus a sweep interval
    await session.clock.advance(2 * HOUR);
    const sweptAt = session.clock.now();
    await sweep();
    const afterGrace = (await keysOf(userName)).map((k) => [k.accessKeyId, k.status]);
    const labels = (await stagesOf(arn))[previousVersion];
    // ... and past the delete-after time
    await session.clock.advance(DELETE_AFTER);
    await sweep();

    // Assess
    expect(afterGrace).toEqual([
      [key.accessKeyId, 'Inactive'],
      [current.accessKeyId, 'Active'],
    ]);
    expect(labels).toEqual([deleteAfterLabel(sweptAt, DELETE_AFTER)]);
    expect((await keysOf(userName)).map((k) => k.accessKeyId)).toEqual([current.accessKeyId]);
    expect((await stagesOf(arn))[previousVersion]).toBeUndefined();
    expect((await accessKeys.whoAmI(key)).accepted).toBe(false);
    expect((await accessKeys.whoAmI(current)).accepted).toBe(true);
    const events = (await suite.audit.history(arn)).map((r) => `${r.event}:${r.outcome}`);
    expect(events).toContain('previous.revoked:succeeded');
    expect(events).toContain('previous.deleted:succeeded');
    expect(await readable(arn)).not.toContain(key.secretAccessKey);
  });

  it('extends the grace once while a consumer still uses the previous key, then revokes it anyway, alerted both times', async () => {
    // Prepare: a consumer that did not switch signs in with the old key after the rotation
    const { userName, key, arn } = await iamSecret();
    await rotate(arn);
    const current = JSON.parse(await secretValue(arn));
    const previousVersion = (await versionWith(arn, 'AWSPREVIOUS'))!;
    await session.clock.advance(HOUR / 2);
    expect((await accessKeys.whoAmI(key)).accepted).toBe(true);

    // Act: past grace (1h) → extended by one grace; still used; past the extension → revoked
    await session.clock.advance(HOUR + HOUR / 2);
    const extendedAt = session.clock.now();
    await sweep();
    const whileExtended = (await keysOf(userName)).map((k) => k.status);
    const labelsWhileExtended = (await stagesOf(arn))[previousVersion];
    expect((await accessKeys.whoAmI(key)).accepted).toBe(true);
    await session.clock.advance(HOUR / 2);
    await sweep();
    const beforeBound = (await keysOf(userName)).map((k) => k.status);
    await session.clock.advance(HOUR / 2 + 60_000);
    await sweep();

    // Assess: one extension, then the revoke, both e-mailed with who still used the key
    const extendedUntil = new Date(extendedAt.getTime() + HOUR).toISOString().replace('.000', '');
    expect(whileExtended).toEqual(['Active', 'Active']);
    expect(labelsWhileExtended).toEqual(
      expect.arrayContaining(['AWSPREVIOUS', `token-rotation:grace-extended:${extendedUntil}`]),
    );
    expect(beforeBound).toEqual(['Active', 'Active']);
    expect((await keysOf(userName)).map((k) => [k.accessKeyId, k.status])).toEqual([
      [key.accessKeyId, 'Inactive'],
      [current.accessKeyId, 'Active'],
    ]);
    expect((await stagesOf(arn))[previousVersion]).toEqual([
      expect.stringMatching(/^token-rotation:delete-after:/),
    ]);
    const history = await suite.audit.history(arn);
    const events = history.map((r) => `${r.event}:${r.outcome}`);
    expect(events.filter((e) => e.startsWith('previous.'))).toEqual([
      'previous.still-used:skipped',
      'previous.revoked:succeeded',
      'previous.still-used:reported',
    ]);
    expect(history.find((r) => r.event === 'previous.still-used')?.detail).toMatchObject({
      usedBy: expect.stringMatching(/^sts in /),
      extendedUntil,
    });
    expect(history.find((r) => r.event === 'previous.revoked')?.detail).toMatchObject({
      revokedAnyway: 'true',
    });
    const subjects = (await alertsFor(arn)).map((m) => m.subject);
    expect(subjects.filter((s) => s?.includes('previous.still-used'))).toHaveLength(2);
    const [first, last] = (await alertsFor(arn)).filter((m) => m.subject?.includes('still-used'));
    expect(first?.message).toContain(`its grace is extended once, until ${extendedUntil}`);
    expect(last?.message).toContain('was revoked although a consumer still used it');
    expect(await readable(arn)).not.toContain(key.secretAccessKey);
  });

  it('revokes the previous key at the end of its grace when no consumer used it since the rotation', async () => {
    // Prepare: the old key was used only before the rotation
    const { userName, key, arn } = await iamSecret();
    expect((await accessKeys.whoAmI(key)).accepted).toBe(true);
    await session.clock.advance(60_000);
    await rotate(arn);

    // Act
    await session.clock.advance(2 * HOUR);
    await sweep();

    // Assess
    expect((await keysOf(userName))[0]).toMatchObject({ status: 'Inactive' });
    const revoked = (await suite.audit.history(arn)).find((r) => r.event === 'previous.revoked');
    expect(revoked?.detail).toMatchObject({ lastUsed: expect.stringMatching(/^20\d\d-/) });
    expect((await alertsFor(arn)).filter((m) => m.subject?.includes('still-used'))).toEqual([]);
  });

  it('revokes at once in an emergency: the key is deactivated and deleted, with no grace', async () => {
    // Prepare
    const { userName, key, value } = await iamUser();
    const arn = await createSecret(value, { [TAG.kind]: 'iam-access-key' });
    await w.tagUser(userName, { [BINDING_TAG]: arn });
    const issuer = issuerFor('iam-access-key', { arn, name: 'kinds/emergency' });

    // Act
    await issuer.revoke({ secretArn: arn, secretName: 'kinds/emergency', versionId: 'v', value });

    // Assess
    expect(await keysOf(userName)).toEqual([]);
    expect((await accessKeys.whoAmI(key)).accepted).toBe(false);
  });

  it('fails when the user already has two active keys: alerted, no key deleted, AWSCURRENT unchanged', async () => {
    // Prepare
    const { userName, value, arn } = await iamSecret();
    const other = await w.createAccessKey(userName);

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('failed');
    expect((await keysOf(userName)).map((k) => k.status)).toEqual(['Active', 'Active']);
    expect((await keysOf(userName)).map((k) => k.accessKeyId)).toContain(other.accessKeyId);
    expect(await secretValue(arn)).toBe(value);
    const failed = (await suite.audit.history(arn)).filter((r) => r.event === 'rotation.failed');
    expect(failed[0]?.error).toContain('(IAM allows two), found');
    expect(failed[0]?.error).toContain('no active key is deleted');
    expect(failed[0]?.detail?.reason).toBe('two-active-keys');
    const alerts = await alertsFor(arn);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.message).toContain('two active access keys');
    expect(await readable(arn)).not.toContain(other.secretAccessKey);
  });

  it('retries a createSecret whose key was lost before it was stored without piling up keys', async () => {
    // Prepare
    const { userName, key, arn } = await iamSecret();
    w.faults.failPuts = 1;

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('succeeded');
    expect(rotation.attempts.filter((a) => a.error).map((a) => a.step)).toEqual(['createSecret']);
    const current = JSON.parse(await secretValue(arn));
    expect((await keysOf(userName)).map((k) => k.accessKeyId)).toEqual([
      key.accessKeyId,
      current.accessKeyId,
    ]);
  });
});

describe('iam-access-key: the user bound to its secret', () => {
  it('rotates a user bound by the ARN without its random suffix, as an administrator tags it before the secret exists', async () => {
    // Prepare
    const { userName, key, value } = await iamUser();
    const name = `kinds/secret-${w.nextId()}`;
    await w.tagUser(userName, {
      [BINDING_TAG]: `arn:aws:secretsmanager:${session.region}:${session.accountId}:secret:${name}`,
    });
    const { ARN } = await sm.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: value,
        Tags: [
          { Key: TAG.lifespan, Value: '7d' },
          { Key: TAG.kind, Value: 'iam-access-key' },
        ],
      }),
    );

    // Act
    const rotation = await rotate(ARN!);

    // Assess
    expect(rotation.outcome).toBe('succeeded');
    const current = JSON.parse(await secretValue(ARN!));
    expect((await keysOf(userName)).map((k) => k.accessKeyId)).toEqual([
      key.accessKeyId,
      current.accessKeyId,
    ]);
  });

  it('fails to rotate a secret naming another user under the path: no key for that user, audited, alerted once', async () => {
    // Prepare: the victim's keys belong in its own secret; the attacker may create and read
    // another secret, and names the victim in it, keeping a key of its own user.
    const victim = await iamSecret();
    const attacker = await iamUser();
    const forged = JSON.stringify({ ...JSON.parse(attacker.value), userName: victim.userName });
    const arn = await createSecret(forged, { [TAG.kind]: 'iam-access-key' });
    const victimKeys = await keysOf(victim.userName);

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('failed');
    expect(await keysOf(victim.userName)).toEqual(victimKeys);
    expect(await keysOf(attacker.userName)).toEqual([
      { accessKeyId: attacker.key.accessKeyId, status: 'Active' },
    ]);
    expect(await secretValue(arn)).toBe(forged);
    const history = await suite.audit.history(arn);
    const failed = history.filter((r) => r.event === 'rotation.failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.step === 'createSecret')).toBe(true);
    expect(failed[0]?.detail?.reason).toBe('user-not-bound');
    expect(failed[0]?.error).toContain(
      `expected IAM user ${victim.userName} to carry the tag ${BINDING_TAG} naming this secret (${arn}`,
    );
    expect(failed[0]?.error).toContain(`found ${BINDING_TAG} = ${victim.arn}`);
    expect(history.some((r) => r.event === 'step.succeeded')).toBe(false);
    const alerts = await alertsFor(arn);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toContain('rotation.failed');
    expect(alerts[0]?.message).toContain(BINDING_TAG);
    expect(await readable(arn)).not.toContain(attacker.key.secretAccessKey);
  });

  it('fails to rotate a user that carries no binding tag, creating no key', async () => {
    // Prepare
    const { userName, key, value } = await iamUser();
    const arn = await createSecret(value, { [TAG.kind]: 'iam-access-key' });

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('failed');
    expect((await keysOf(userName)).map((k) => k.accessKeyId)).toEqual([key.accessKeyId]);
    const failed = (await suite.audit.history(arn)).find((r) => r.event === 'rotation.failed');
    expect(failed?.error).toContain(`found no ${BINDING_TAG} tag`);
    expect(await alertsFor(arn)).toHaveLength(1);
  });

  it("refuses to retire another user's live key named in a secret that user is not bound to", async () => {
    // Prepare: access key IDs are not secret; a secret's writer names the victim's user and key
    const victim = await iamSecret();
    const forged = JSON.stringify({ ...JSON.parse(victim.value), secretAccessKey: 'x' });
    const arn = await createSecret(forged, { [TAG.kind]: 'iam-access-key' });
    const issuer = issuerFor('iam-access-key', { arn, name: 'kinds/forged' });

    // Act
    const revoke = issuer.revoke({
      secretArn: arn,
      secretName: 'kinds/forged',
      versionId: 'v',
      value: forged,
    });

    // Assess: the victim's key still works
    await expect(revoke).rejects.toThrow(`expected IAM user ${victim.userName} to carry the tag`);
    expect(await keysOf(victim.userName)).toEqual([
      { accessKeyId: victim.key.accessKeyId, status: 'Active' },
    ]);
    expect((await accessKeys.whoAmI(victim.key)).accepted).toBe(true);
  });

  it("fails to revoke a version naming one user with another user's key, leaving that key untouched", async () => {
    // Prepare: the named user is bound to this secret, but the key is someone else's
    const victim = await iamSecret();
    const other = await iamUser();
    const forged = JSON.stringify({ ...JSON.parse(victim.value), userName: other.userName });
    const arn = await createSecret(forged, { [TAG.kind]: 'iam-access-key' });
    await w.tagUser(other.userName, { [BINDING_TAG]: arn });
    const issuer = issuerFor('iam-access-key', { arn, name: 'kinds/forged' });

    // Act
    const revoke = issuer.revoke({
      secretArn: arn,
      secretName: 'kinds/forged',
      versionId: 'v',
      value: forged,
    });

    // Assess
    await expect(revoke).rejects.toThrow(
      `expected access key ${victim.key.accessKeyId} (version v) to belong to IAM user ${other.userName}`,
    );
    const keys = async (userName: string) =>
      (await keysOf(userName)).map((k) => [k.accessKeyId, k.status]);
    expect(await keys(victim.userName)).toEqual([[victim.key.accessKeyId, 'Active']]);
    expect(await keys(other.userName)).toEqual([[other.key.accessKeyId, 'Active']]);
  });
});

// ---- lambda:<fn> ----

describe('lambda:<fn> custom issuers', () => {
  function saasValue() {
    const key = saas.issueKey('acme');
    return { key, value: JSON.stringify({ keyId: key.id, token: key.key, owner: 'payments' }) };
  }

  it('rotates a SaaS API key through the example issuer function', async () => {
    // Prepare
    const { key, value } = saasValue();
    const arn = await createSecret(value, { [TAG.kind]: 'lambda:acme-issuer' });

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('succeeded');
    const current = JSON.parse(await secretValue(arn));
    expect(current.owner).toBe('payments');
    expect(current.keyId).not.toBe(key.id);
    expect(saas.accepts(current.token)).toBe(true);
    expect(saas.accepts(key.key)).toBe(true);
    const history = await suite.audit.history(arn);
    expect(
      history.find((r) => r.step === 'createSecret' && r.event === 'step.succeeded')?.tokens,
    ).toEqual({
      current: key.id,
      pending: current.keyId,
    });
    const text = await readable(arn);
    expect(text).not.toContain(key.key);
    expect(text).not.toContain(current.token);
  });

  it('revokes the previous SaaS key at the issuer once grace has run out', async () => {
    // Prepare
    const { key, value } = saasValue();
    const arn = await createSecret(value, { [TAG.kind]: 'lambda:acme-issuer' });
    await rotate(arn);
    const current = JSON.parse(await secretValue(arn));

    // Act
    await session.clock.advance(30 * 60_000);
    await sweep();
    const withinGrace = saas.accepts(key.key);
    await session.clock.advance(90 * 60_000);
    await sweep();

    // Assess
    expect(withinGrace).toBe(true);
    expect(saas.accepts(key.key)).toBe(false);
    expect(saas.accepts(current.token)).toBe(true);
    expect(await versionWith(arn, 'AWSPREVIOUS')).toBeUndefined();
    const revoked = (await suite.audit.history(arn)).find((r) => r.event === 'previous.revoked');
    expect(revoked).toMatchObject({ outcome: 'succeeded', tokens: { previous: key.id } });
  });

  it('asks the issuer whether consumers switched: a SaaS key still used gets one extension, then is revoked anyway', async () => {
    // Prepare: a consumer keeps calling the SaaS with the old key after the rotation
    const { key, value } = saasValue();
    const arn = await createSecret(value, { [TAG.kind]: 'lambda:acme-issuer' });
    await rotate(arn);
    const consumer = () =>
      fetch(`${saas.url}/whoami`, {
        headers: { authorization: `Bearer ${key.key}`, 'user-agent': 'billing-worker/1.4' },
      });

    // Act: past grace (1h), then past the one-grace extension
    await session.clock.advance(30 * 60_000);
    expect((await consumer()).status).toBe(200);
    await session.clock.advance(90 * 60_000);
    await sweep();
    const extended = saas.accepts(key.key);
    await session.clock.advance(HOUR + 60_000);
    await sweep();

    // Assess
    expect(extended).toBe(true);
    expect(saas.accepts(key.key)).toBe(false);
    const events = (await suite.audit.history(arn)).map((r) => `${r.event}:${r.outcome}`);
    expect(events.filter((e) => e.startsWith('previous.'))).toEqual([
      'previous.still-used:skipped',
      'previous.revoked:succeeded',
      'previous.still-used:reported',
    ]);
    const still = (await alertsFor(arn)).filter((m) => m.subject?.includes('previous.still-used'));
    expect(still).toHaveLength(2);
    expect(still[0]?.message).toContain('billing-worker/1.4');
    expect(await readable(arn)).not.toContain(key.key);
  });

  it('revokes at once in an emergency through issuer.revoke', async () => {
    // Prepare
    const { key, value } = saasValue();
    const arn = await createSecret(value, { [TAG.kind]: 'lambda:acme-issuer' });
    const issuer = issuerFor('lambda:acme-issuer', { arn, name: 'kinds/emergency' });

    // Act
    await issuer.revoke({ secretArn: arn, secretName: 'kinds/emergency', versionId: 'v', value });

    // Assess
    expect(saas.accepts(key.key)).toBe(false);
  });

  const misbehaviours: Array<[string, string, string]> = [
    ['garbage', 'issuer-response', 'a response that is a string, not a JSON object'],
    ['throw', 'issuer-failed', 'it failed (Error: upstream rejected [redacted])'],
    ['hang', 'issuer-timeout', 'Task timed out after 1.00 seconds'],
  ];
  for (const [mode, reason, found] of misbehaviours) {
    it(`fails cleanly on an issuer that answers with ${mode}, AWSCURRENT untouched and nothing secret told`, async () => {
      // Prepare
      const { key, value } = saasValue();
      const arn = await createSecret(value, { [TAG.kind]: `lambda:bad-issuer-${mode}` });

      // Act
      const rotation = await rotate(arn);

      // Assess
      expect(rotation.outcome).toBe('failed');
      expect(await secretValue(arn)).toBe(value);
      const failed = (await suite.audit.history(arn)).filter((r) => r.event === 'rotation.failed');
      expect(failed[0]?.detail?.reason).toBe(reason);
      expect(failed[0]?.error).toContain(
        `expected issuer function bad-issuer-${mode} to mint the token, found`,
      );
      expect(failed[0]?.error).toContain(found);
      expect(await alertsFor(arn)).toHaveLength(1);
      const text = await readable(arn);
      expect(text).not.toContain(key.key);
      expect(text).not.toContain(key.key.slice(10, 40));
      expect(rotation.attempts.map((a) => a.error ?? '').join(' ')).not.toContain(key.key);
    });
  }
});
