// Scopes in a session of the local AWS (embedded, or the served one behind AWS_ENDPOINT_URL; SPEC
// "Scopes and lifespan ceiling"): a new token broader
// than its secret declares is refused at testSecret (AWSCURRENT unchanged, the token revoked,
// one alert); a narrower or equal one is promoted; a live IAM user allowed `*` against a declared
// `s3:GetObject` is alerted once, critical; `random` values carry the declared scopes; and no
// token reaches an audit record or an alert through the scopes.

import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  PutGroupPolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { TOKEN_SCOPES_KEY } from '#domain/kinds/custom/contract';
import { SCOPE_REFUSED_LABEL, TAG } from '#domain/vocabulary';
import { cli, useLocalAwsEnv } from '../cli/support.ts';
import type { SaasServer } from '../support/saas-server.ts';
import { settleListings } from '../support/settle-listings.ts';
import {
  type KindsWorld,
  iamSecret as kindsIamSecret,
  startKindsWorld,
} from './support/kinds-world.ts';
import { needsSessions, type Session, type SuiteAt } from './support/session.ts';

const skipped = await needsSessions(
  import.meta.url,
  'a movable clock, a rotation function served from the test process, the rotations Secrets Manager ran, and what SNS published',
  ['function-callbacks', 'rotations'],
);

logger.setLogLevel('SILENT');

let w: KindsWorld;
let session: Session;
let suite: SuiteAt;
let saas: SaasServer;
let sm: SecretsManagerClient;

beforeAll(async () => {
  if (skipped) return;
  w = await startKindsWorld({
    stackName: 'Scopes',
    rotationName: 'Scopes-rotation',
    secretPrefix: 'scopes',
  });
  ({ session, suite, saas, sm } = w);
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
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

const alertsFor = (arn: string) => w.alertsFor(arn);
const keysOf = (userName: string) => w.keysOf(userName);

const iamSecret = (extra?: object) => kindsIamSecret(w, extra);

// ---- the tests ----

const TOKEN_CANARY = 'acme_live_ScopesCanaryTokenNeverShown0123456789abcdef';

describe('custom issuers: mint and verify state the scopes', () => {
  function saasValue() {
    const key = saas.issueKey('acme', { scopes: ['read'] });
    return { key, value: JSON.stringify({ keyId: key.id, token: key.key, owner: 'payments' }) };
  }

  it('refuses a new key broader than declared: AWSCURRENT unchanged, the key revoked, one alert', async () => {
    // Prepare: a SaaS that grants `admin` on top of what it is asked for
    const { key, value } = saasValue();
    const arn = await createSecret(value, {
      [TAG.kind]: 'lambda:acme-issuer',
      [TAG.scopes]: 'read write',
    });
    saas.widenScopes(['admin']);

    // Act
    let rotation: Awaited<ReturnType<typeof rotate>>;
    try {
      rotation = await rotate(arn);
    } finally {
      saas.widenScopes(undefined);
    }

    // Assess
    expect(rotation.outcome).toBe('failed');
    expect(await secretValue(arn)).toBe(value);
    const minted = saas.keysOf('acme').filter((k) => k.scopes.includes('admin'));
    expect(minted).toHaveLength(1);
    expect(minted[0]!.revoked).toBe(true);
    expect(saas.accepts(key.key)).toBe(true);
    const stages = await stagesOf(arn);
    expect(Object.values(stages).flat()).not.toContain('AWSPENDING');
    expect(stages[rotation.token]).toEqual([SCOPE_REFUSED_LABEL]);
    const alerts = await alertsFor(arn);
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringMatching(/^\[HIGH\] token\.scope-drift: /),
    ]);
    expect(alerts[0]!.message).toContain('extra: admin');
    expect(alerts[0]!.message).toContain(`revoked at its issuer (version ${rotation.token})`);
    const drift = (await suite.audit.history(arn)).filter((r) => r.event === 'token.scope-drift');
    expect(drift).toHaveLength(1);
    expect(drift[0]!.detail?.extraScopes).toBe('admin');
    expect(drift[0]!.detail?.declaredScopes).toBe('read write');
    const text = await readable(arn);
    expect(text).not.toContain(key.key);
    expect(text).not.toContain(minted[0]!.key);
  });

  it('promotes a key with exactly the declared scopes, recording what the mint stated', async () => {
    // Prepare
    const { value } = saasValue();
    const arn = await createSecret(value, {
      [TAG.kind]: 'lambda:acme-issuer',
      [TAG.scopes]: 'read write',
    });

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('succeeded');
    const current = JSON.parse(await secretValue(arn));
    expect(JSON.parse(current[TOKEN_SCOPES_KEY])).toEqual(['read', 'write']);
    expect(saas.keysOf('acme').find((k) => k.key === current.token)?.scopes).toEqual([
      'read',
      'write',
    ]);
    expect(await alertsFor(arn)).toEqual([]);
  });
});

describe("iam-access-key: the user's policies are its scopes", () => {
  it('promotes a key whose user may do less than declared', async () => {
    // Prepare: the user may only read objects; the secret declares read and write
    const { userName, arn } = await iamSecret();
    await w.iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'read-reports',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
        }),
      }),
    );
    await tagSecret(arn, 's3:GetObject s3:PutObject');

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('succeeded');
    expect(await alertsFor(arn)).toEqual([]);
  });

  it('alerts once, critical, on a live user allowed * against a declared s3:GetObject', async () => {
    // Prepare: AWS's AdministratorAccess (every action), which every account has
    const { userName, arn, value } = await iamSecret();
    await w.iam.send(
      new AttachUserPolicyCommand({
        UserName: userName,
        PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      }),
    );
    await tagSecret(arn, 's3:GetObject');

    await settleListings(session);

    // Act: the sweep attaches rotation (and checks), then two more passes
    await sweep();
    await sweep();
    await sweep();

    // Assess
    expect((await sm.send(new DescribeSecretCommand({ SecretId: arn }))).RotationEnabled).toBe(
      true,
    );
    const alerts = await alertsFor(arn);
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringMatching(/^\[CRITICAL\] token\.scope-drift: /),
    ]);
    expect(alerts[0]!.message).toContain('extra: *');
    const drift = (await suite.audit.history(arn)).filter((r) => r.event === 'token.scope-drift');
    expect(drift).toHaveLength(1);
    expect(drift[0]!.detail).toMatchObject({ extraScopes: '*', wildcard: true, found: 'attach' });
    expect(await readable(arn)).not.toContain(JSON.parse(value).secretAccessKey);

    // status and evidence show declared and actual scopes, and flag the drift
    await settleListings(session);
    useLocalAwsEnv(session);
    const status = await cli(session, 'status', '--stack', 'Scopes', '--format', 'json');
    const row = JSON.parse(status.stdout).find((r: { arn: string }) => r.arn === arn);
    expect(row.scopes).toMatchObject({
      declared: ['s3:GetObject'],
      reading: { actual: '*', drift: true, extra: '*', refused: false, by: 'the sweep' },
    });
    const table = await cli(session, 'status', '--stack', 'Scopes', '--wide');
    expect(table.stdout).toContain('DRIFT: extra * (declared s3:GetObject; actual *');
    const evidence = await cli(session, 'evidence', '--stack', 'Scopes', '--format', 'json');
    const secret = JSON.parse(evidence.stdout).secrets.find(
      (s: { secretArn: string }) => s.secretArn === arn,
    );
    expect(secret.scopes.reading).toMatchObject({ actual: '*', drift: true });
    expect(status.stdout + table.stdout + evidence.stdout).not.toContain(
      JSON.parse(value).secretAccessKey,
    );
  });

  it('refuses a rotation whose user may do s3:* through a group: the new key deleted, AWSCURRENT unchanged', async () => {
    // Prepare
    const { userName, arn, value, key } = await iamSecret();
    const group = `storage-${w.lastId()}`;
    await w.iam.send(new CreateGroupCommand({ GroupName: group }));
    await w.iam.send(
      new PutGroupPolicyCommand({
        GroupName: group,
        PolicyName: 'all-of-s3',
        PolicyDocument: JSON.stringify({
          Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: '*' }],
        }),
      }),
    );
    await w.iam.send(new AddUserToGroupCommand({ UserName: userName, GroupName: group }));
    await tagSecret(arn, 's3:GetObject');

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('failed');
    expect(await secretValue(arn)).toBe(value);
    expect((await keysOf(userName)).map((k) => k.accessKeyId)).toEqual([key.accessKeyId]);
    const alerts = await alertsFor(arn);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toMatch(/^\[CRITICAL\] token\.scope-drift: /);
    expect(alerts[0]!.message).toContain('extra: s3:*');
    // The minted key was deleted, its secret with it (IAM never shows a secret again); the one
    // left is the original.
    const text = await readable(arn);
    expect(text).not.toContain(key.secretAccessKey);
  });
});

describe('random: the value carries the declared scopes', () => {
  it('writes the declared scopes into the value at every rotation, nothing else changed', async () => {
    // Prepare
    const arn = await createSecret(
      JSON.stringify({ owner: 'payments', token: TOKEN_CANARY, scopes: ['admin'] }),
      { [TAG.scopes]: 'orders:read orders:write' },
    );

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('succeeded');
    const current = JSON.parse(await secretValue(arn));
    expect(current.owner).toBe('payments');
    expect(current.scopes).toEqual(['orders:read', 'orders:write']);
    expect(current.token).not.toBe(TOKEN_CANARY);
    const text = await readable(arn);
    expect(text).not.toContain(TOKEN_CANARY);
    expect(text).not.toContain(current.token);
  });
});

async function tagSecret(arn: string, scopes: string) {
  await sm.send(
    new TagResourceCommand({ SecretId: arn, Tags: [{ Key: TAG.scopes, Value: scopes }] }),
  );
}
