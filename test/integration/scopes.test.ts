// Scopes on the embedded local AWS (SPEC "Scopes and lifespan ceiling"): a new token broader
// than its secret declares is refused at testSecret (AWSCURRENT unchanged, the token revoked,
// one alert); a narrower or equal one is promoted; a live IAM user allowed `*` against a declared
// `s3:GetObject` is alerted once, critical; `random` values carry the declared scopes; and no
// token reaches an audit record or an alert through the scopes.

import { IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IamAccessKeys } from '#adapters/iam-keys';
import { LambdaInvoker } from '#adapters/lambda-invoker';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { logger } from '#commons/logger';
import { TOKEN_SCOPES_KEY } from '#domain/kinds/custom/contract';
import { createIssuerFor, type IssuerFor } from '#domain/kinds/registry';
import { createPacer } from '#domain/pacer';
import type { SecretStore, SweepCursor } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import { runSweep } from '#domain/sweep/index';
import { SCOPE_REFUSED_LABEL, TAG } from '#domain/vocabulary';
import { createRotationHandler } from '#handlers/rotation';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { cli, useLocalAwsEnv } from '../cli/support.ts';
import { type SaasKey, type SaasServer, startSaasServer } from '../support/saas-server.ts';
import { bundleHandler } from './support/bundle.ts';
import { embeddedOnly } from './support/endpoint.ts';

const onlyEmbedded = embeddedOnly(
  import.meta.url,
  "the local AWS's in-process function registration, its movable clock, its IAM policy records and its SNS publish record",
);

logger.setLogLevel('SILENT');

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DELETE_AFTER = 3 * DAY;
const WEEK = scheduleFor(7 * DAY);

let aws: LocalAws;
let suite: InstalledSuite;
let saas: SaasServer;
let admin: SaasKey;
let sm: SecretsManagerClient;
let lambda: LambdaClient;
let accessKeys: IamAccessKeys;
let issuerFor: IssuerFor;
let rotationArn: string;
/** What the issuers waited for (testSecret's backoff), advancing the local clock instead. */
const waits: number[] = [];
/** PutSecretValue calls to fail before they reach Secrets Manager, to lose a minted key. */
let failPuts = 0;
let run = 0;

beforeAll(async () => {
  if (onlyEmbedded) return;
  aws = await startLocalAws({ clock: '2025-03-01T10:00:00Z' });
  suite = await installSuite(aws, { stackName: 'Scopes' });
  saas = await startSaasServer({ now: aws.clock.now });
  admin = saas.issueKey('acme', { admin: true });
  sm = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 });
  lambda = new LambdaClient({ ...aws.clientConfig, maxAttempts: 1 });
  accessKeys = new IamAccessKeys(
    new IAMClient({ ...aws.clientConfig, maxAttempts: 1 }),
    (key) => new STSClient({ ...aws.clientConfig, credentials: key, maxAttempts: 1 }),
  );
  issuerFor = createIssuerFor({
    clock: aws.clock.now,
    accessKeys,
    invoker: new LambdaInvoker(lambda),
    sleep: async (ms) => {
      waits.push(ms);
      await aws.clock.advance(ms);
    },
    deleteAfterMs: DELETE_AFTER,
    issuerTimeoutMs: 10_000,
  });
  // The suite's store, except when a test makes PutSecretValue fail after the key was minted.
  const store: SecretStore = {
    describe: (id) => suite.store.describe(id),
    getValue: (id, select) => suite.store.getValue(id, select),
    versionCreated: (...args) => suite.store.versionCreated(...args),
    moveStage: (...args) => suite.store.moveStage(...args),
    putPending: (...args) => {
      if (failPuts > 0) {
        failPuts--;
        return Promise.reject(new Error('PutSecretValue: connection reset'));
      }
      return suite.store.putPending(...args);
    },
  };
  rotationArn = aws.functions.register(
    'Scopes-rotation',
    createRotationHandler({ ...suite.rotationDeps, store, issuerFor }),
  );

  const role = aws.iam.createRole('issuer');
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'acme-issuer',
      Runtime: 'nodejs20.x',
      Role: role,
      Handler: 'index.handler',
      Timeout: 10,
      Code: {
        ZipFile: await bundleHandler(
          new URL('../../examples/issuer-http/index.ts', import.meta.url),
        ),
      },
      Environment: { Variables: { SAAS_URL: saas.url, SAAS_ADMIN_KEY: admin.key } },
    }),
  );
}, 60_000);

afterAll(async () => {
  if (onlyEmbedded) return;
  sm?.destroy();
  lambda?.destroy();
  await saas?.stop();
  await aws?.stop();
});

// ---- helpers ----

async function createSecret(value: string, tags: Record<string, string>): Promise<string> {
  const { ARN } = await sm.send(
    new CreateSecretCommand({
      Name: `scopes/secret-${++run}`,
      SecretString: value,
      Tags: Object.entries({ [TAG.lifespan]: '7d', [TAG.grace]: '1h', ...tags }).map(
        ([Key, Value]) => ({ Key, Value }),
      ),
    }),
  );
  return ARN!;
}

/** RotateSecret now, with our function; resolves when the rotation (and its retries) ended. */
async function rotate(arn: string) {
  await sm.send(
    new RotateSecretCommand({
      SecretId: arn,
      RotationLambdaARN: rotationArn,
      // The schedule the sweep wants for a 7d lifespan, so it has no schedule to update.
      RotationRules: { ScheduleExpression: WEEK.scheduleExpression, Duration: WEEK.duration },
      RotateImmediately: true,
    }),
  );
  await aws.idle();
  return aws.secretsManager.rotations.filter((r) => r.secretArn === arn).at(-1)!;
}

const secretValue = async (arn: string, select: { stage?: string; versionId?: string } = {}) =>
  (
    await sm.send(
      new GetSecretValueCommand({
        SecretId: arn,
        ...(select.versionId
          ? { VersionId: select.versionId }
          : { VersionStage: select.stage ?? 'AWSCURRENT' }),
      }),
    )
  ).SecretString!;

const stagesOf = async (arn: string) =>
  (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages ?? {};

/** One full sweep pass, as the scheduled sweep runs it. */
async function sweep() {
  let saved: SweepCursor | undefined;
  return runSweep(
    {
      catalog: new SecretsManagerCatalog(sm),
      store: suite.store,
      audit: suite.audit,
      alerter: suite.alerter,
      issuerFor,
      clock: aws.clock.now,
      cursor: {
        get: async () => saved,
        put: async (cursor) => {
          saved = cursor;
        },
        clear: async () => {
          saved = undefined;
        },
      },
      pace: createPacer(),
    },
    {
      rotationFunctionArn: rotationArn,
      sweepIntervalMs: 15 * 60_000,
      deadline: new Date(aws.clock.now().getTime() + HOUR),
    },
  );
}

/** Everything a person or a log could read: the secret's audit trail and every alert sent. */
async function readable(arn: string): Promise<string> {
  const history = await suite.audit.history(arn);
  return JSON.stringify(history) + JSON.stringify(aws.sns.published);
}

const alertsFor = (arn: string) =>
  aws.sns.published.filter(
    (m) => m.attributes.secret?.StringValue && arn.includes(m.attributes.secret.StringValue),
  );

/** The IAM user tag naming the one secret allowed to hold the user's keys (README "Token kinds"). */
const BINDING_TAG = 'token-rotation:secret';

/** An IAM user under the path the construct scopes to, with one active key, and its secret value. */
function iamUser(extra: object = {}) {
  const userName = `ci-bot-${++run}`;
  aws.iam.createUser(userName, '/token-rotation/');
  const key = aws.iam.createAccessKey(userName);
  const value = JSON.stringify({
    userName,
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    ...extra,
  });
  return { userName, key, value };
}

/** An iam-access-key secret for a new user, the user bound to it by the secret's ARN. */
async function iamSecret(extra: object = {}) {
  const user = iamUser(extra);
  const arn = await createSecret(user.value, { [TAG.kind]: 'iam-access-key' });
  aws.iam.tagUser(user.userName, { [BINDING_TAG]: arn });
  return { ...user, arn };
}

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
    const alerts = alertsFor(arn);
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
    expect(alertsFor(arn)).toEqual([]);
  });
});

describe("iam-access-key: the user's policies are its scopes", () => {
  it('promotes a key whose user may do less than declared', async () => {
    // Prepare: the user may only read objects; the secret declares read and write
    const { userName, arn } = await iamSecret();
    aws.iam.policies.putUserPolicy(
      userName,
      'read-reports',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
      }),
    );
    await tagSecret(arn, 's3:GetObject s3:PutObject');

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('succeeded');
    expect(alertsFor(arn)).toEqual([]);
  });

  it('alerts once, critical, on a live user allowed * against a declared s3:GetObject', async () => {
    // Prepare: AdministratorAccess (every action), a wildcard group policy and an inline Deny
    const { userName, arn, value } = await iamSecret();
    const admin = aws.iam.policies.createPolicy(
      `AdministratorAccess-${run}`,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
      { awsManaged: true },
    );
    aws.iam.policies.attachUserPolicy(userName, admin);
    await tagSecret(arn, 's3:GetObject');

    // Act: the sweep attaches rotation (and checks), then two more passes
    await sweep();
    await sweep();
    await sweep();

    // Assess
    expect((await sm.send(new DescribeSecretCommand({ SecretId: arn }))).RotationEnabled).toBe(
      true,
    );
    const alerts = alertsFor(arn);
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringMatching(/^\[CRITICAL\] token\.scope-drift: /),
    ]);
    expect(alerts[0]!.message).toContain('extra: *');
    const drift = (await suite.audit.history(arn)).filter((r) => r.event === 'token.scope-drift');
    expect(drift).toHaveLength(1);
    expect(drift[0]!.detail).toMatchObject({ extraScopes: '*', wildcard: true, found: 'attach' });
    expect(await readable(arn)).not.toContain(JSON.parse(value).secretAccessKey);

    // status and evidence show declared and actual scopes, and flag the drift
    useLocalAwsEnv(aws);
    const status = await cli(aws, 'status', '--stack', 'Scopes', '--format', 'json');
    const row = JSON.parse(status.stdout).find((r: { arn: string }) => r.arn === arn);
    expect(row.scopes).toMatchObject({
      declared: ['s3:GetObject'],
      reading: { actual: '*', drift: true, extra: '*', refused: false, by: 'the sweep' },
    });
    const table = await cli(aws, 'status', '--stack', 'Scopes', '--wide');
    expect(table.stdout).toContain('DRIFT: extra * (declared s3:GetObject; actual *');
    const evidence = await cli(aws, 'evidence', '--stack', 'Scopes', '--format', 'json');
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
    const group = `storage-${run}`;
    aws.iam.policies.createGroup(group);
    aws.iam.policies.putGroupPolicy(
      group,
      'all-of-s3',
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: '*' }] }),
    );
    aws.iam.policies.addUserToGroup(userName, group);
    await tagSecret(arn, 's3:GetObject');

    // Act
    const rotation = await rotate(arn);

    // Assess
    expect(rotation.outcome).toBe('failed');
    expect(await secretValue(arn)).toBe(value);
    expect(aws.iam.keysOf(userName).map((k) => k.accessKeyId)).toEqual([key.accessKeyId]);
    const alerts = alertsFor(arn);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toMatch(/^\[CRITICAL\] token\.scope-drift: /);
    expect(alerts[0]!.message).toContain('extra: s3:*');
    const text = await readable(arn);
    expect(text).not.toContain(key.secretAccessKey);
    for (const k of aws.iam.keysOf(userName)) expect(text).not.toContain(k.secretAccessKey);
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
