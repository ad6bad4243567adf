// The world the token-kinds and scopes files rotate in, in a session of the local AWS (embedded,
// or the served one behind AWS_ENDPOINT_URL): the suite installed, a local SaaS with the example
// issuer function (bundled and deployed through the endpoint's Lambda API) minting at it, IAM
// users and access keys through the endpoint's IAM and STS, and the rotation handler run in this
// process, deployed as a function the endpoint forwards Secrets Manager's invocations to, with
// issuers that wait on the session's clock and a store that can lose a PutSecretValue. Plus the
// helpers both files drive it with.
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { IamAccessKeys } from '#adapters/iam-keys';
import { LambdaInvoker } from '#adapters/lambda-invoker';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { createIssuerFor, type IssuerFor } from '#domain/kinds/registry';
import { createPacer } from '#domain/pacer';
import type { SecretStore, SweepCursor } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import { runSweep } from '#domain/sweep/index';
import { TAG } from '#domain/vocabulary';
import { createRotationHandler } from '#handlers/rotation';
import type { PublishedMessage, RotationRecord } from '#local-aws/index';
import { type SaasKey, type SaasServer, startSaasServer } from '../../support/saas-server.ts';
import { bundleHandler } from './bundle.ts';
import { createLambdaRole } from './lambda-role.ts';
import { openSession, type Session, type SuiteAt } from './session.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How long a retired IAM key stays deactivated before the sweep deletes it. */
export const DELETE_AFTER = 3 * DAY;
const WEEK = scheduleFor(7 * DAY);

/** An access key as IAM's ListAccessKeys shows it. */
export interface KeyStatus {
  accessKeyId: string;
  status: string;
}

export interface KindsWorld {
  session: Session;
  suite: SuiteAt;
  saas: SaasServer;
  admin: SaasKey;
  sm: SecretsManagerClient;
  lambda: LambdaClient;
  iam: IAMClient;
  accessKeys: IamAccessKeys;
  issuerFor: IssuerFor;
  rotationArn: string;
  /** The role the issuer functions run as. */
  issuerRole: string;
  /** What the issuers waited for (testSecret's backoff), advancing the session's clock instead. */
  waits: number[];
  /** PutSecretValue calls to fail before they reach Secrets Manager, to lose a minted key. */
  faults: { failPuts: number };
  /** A number no earlier call (nor a secret's name) has used: unique names in one world. */
  nextId(): number;
  /** The number nextId last gave. */
  lastId(): number;
  /** A secret named `<secretPrefix>/secret-<n>`, opted in at 7d with 1h grace, plus `tags`. */
  createSecret(value: string, tags: Record<string, string>): Promise<string>;
  /** RotateSecret now, with our function; resolves when the rotation (and its retries) ended. */
  rotate(arn: string): Promise<RotationRecord>;
  secretValue(arn: string, select?: { stage?: string; versionId?: string }): Promise<string>;
  stagesOf(arn: string): Promise<Record<string, string[]>>;
  /** One full sweep pass, as the scheduled sweep runs it. */
  sweep(): ReturnType<typeof runSweep>;
  /** The alerts published about the secret. */
  alertsFor(arn: string): Promise<PublishedMessage[]>;
  /** Everything a person or a log could read: the secret's audit trail and every alert sent. */
  readable(arn: string): Promise<string>;
  /** An IAM user (CreateUser) under `path`. */
  createUser(userName: string, path: string): Promise<void>;
  /** CreateAccessKey: the new key and its secret. */
  createAccessKey(userName: string): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  tagUser(userName: string, tags: Record<string, string>): Promise<void>;
  /** The user's keys, as ListAccessKeys lists them. */
  keysOf(userName: string): Promise<KeyStatus[]>;
  stop(): Promise<void>;
}

export async function startKindsWorld(options: {
  stackName: string;
  rotationName: string;
  secretPrefix: string;
}): Promise<KindsWorld> {
  const session = await openSession(
    { clock: '2025-03-01T10:00:00Z' },
    { stackName: options.stackName },
  );
  const { suite, clock } = session;
  const saas = await startSaasServer({ now: clock.now });
  const admin = saas.issueKey('acme', { admin: true });
  const config = { ...session.clientConfig, maxAttempts: 1 };
  const sm = new SecretsManagerClient(config);
  const lambda = new LambdaClient(config);
  const iam = new IAMClient(config);
  const accessKeys = new IamAccessKeys(
    iam,
    (key) => new STSClient({ ...config, credentials: key }),
  );
  const waits: number[] = [];
  const faults = { failPuts: 0 };
  const issuerFor = createIssuerFor({
    clock: clock.now,
    accessKeys,
    invoker: new LambdaInvoker(lambda),
    sleep: async (ms) => {
      waits.push(ms);
      await clock.advance(ms);
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
      if (faults.failPuts > 0) {
        faults.failPuts--;
        return Promise.reject(new Error('PutSecretValue: connection reset'));
      }
      return suite.store.putPending(...args);
    },
  };
  // Deployed as an account holds a rotation function (a role, and a resource policy letting
  // Secrets Manager invoke it), its invocations answered here.
  const rotationArn = await session.deployFunction(
    options.rotationName,
    createRotationHandler({ ...suite.rotationDeps, store, issuerFor }),
    { invokedBy: 'secretsmanager.amazonaws.com' },
  );

  const issuerRole = await createLambdaRole(iam, 'issuer');
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'acme-issuer',
      Runtime: 'nodejs20.x',
      Role: issuerRole,
      Handler: 'index.handler',
      Timeout: 10,
      Code: {
        ZipFile: await bundleHandler(
          new URL('../../../examples/issuer-http/index.ts', import.meta.url),
        ),
      },
      Environment: { Variables: { SAAS_URL: saas.url, SAAS_ADMIN_KEY: admin.key } },
    }),
  );

  let run = 0;
  const stagesOf = async (arn: string) =>
    (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages ?? {};
  const alertsFor = async (arn: string) =>
    (await session.published(suite.topicArn)).filter(
      (m) => m.attributes.secret?.StringValue && arn.includes(m.attributes.secret.StringValue),
    );
  return {
    session,
    suite,
    saas,
    admin,
    sm,
    lambda,
    iam,
    accessKeys,
    issuerFor,
    rotationArn,
    issuerRole,
    waits,
    faults,
    nextId: () => ++run,
    lastId: () => run,
    async createSecret(value, tags) {
      const { ARN } = await sm.send(
        new CreateSecretCommand({
          Name: `${options.secretPrefix}/secret-${++run}`,
          SecretString: value,
          Tags: Object.entries({ [TAG.lifespan]: '7d', [TAG.grace]: '1h', ...tags }).map(
            ([Key, Value]) => ({ Key, Value }),
          ),
        }),
      );
      return ARN!;
    },
    async rotate(arn) {
      await sm.send(
        new RotateSecretCommand({
          SecretId: arn,
          RotationLambdaARN: rotationArn,
          // The schedule the sweep wants for a 7d lifespan, so it has no schedule to update.
          RotationRules: { ScheduleExpression: WEEK.scheduleExpression, Duration: WEEK.duration },
          RotateImmediately: true,
        }),
      );
      await session.idle();
      return (await session.rotations(arn)).at(-1)!;
    },
    async secretValue(arn, select = {}) {
      const out = await sm.send(
        new GetSecretValueCommand({
          SecretId: arn,
          ...(select.versionId
            ? { VersionId: select.versionId }
            : { VersionStage: select.stage ?? 'AWSCURRENT' }),
        }),
      );
      return out.SecretString!;
    },
    stagesOf,
    sweep() {
      let saved: SweepCursor | undefined;
      return runSweep(
        {
          catalog: new SecretsManagerCatalog(sm),
          store: suite.store,
          audit: suite.audit,
          alerter: suite.alerter,
          issuerFor,
          clock: clock.now,
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
          deadline: new Date(clock.now().getTime() + HOUR),
        },
      );
    },
    alertsFor,
    async readable(arn) {
      const history = await suite.audit.history(arn);
      return JSON.stringify(history) + JSON.stringify(await session.published(suite.topicArn));
    },
    async createUser(userName, path) {
      await iam.send(new CreateUserCommand({ UserName: userName, Path: path }));
    },
    async createAccessKey(userName) {
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    },
    async tagUser(userName, tags) {
      await iam.send(
        new TagUserCommand({
          UserName: userName,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    },
    async keysOf(userName) {
      const { AccessKeyMetadata } = await iam.send(
        new ListAccessKeysCommand({ UserName: userName }),
      );
      return (AccessKeyMetadata ?? []).map((k) => ({
        accessKeyId: k.AccessKeyId!,
        status: k.Status!,
      }));
    },
    async stop() {
      sm.destroy();
      lambda.destroy();
      iam.destroy();
      await session.stop();
      await saas.stop();
    },
  };
}

/** The IAM user tag naming the one secret allowed to hold the user's keys (README "Token kinds"). */
export const BINDING_TAG = 'token-rotation:secret';

/** An IAM user under the path the construct scopes to, with one active key, and its secret value. */
export async function iamUser(w: KindsWorld, extra: object = {}) {
  const userName = `ci-bot-${w.nextId()}`;
  await w.createUser(userName, '/token-rotation/');
  const key = await w.createAccessKey(userName);
  const value = JSON.stringify({
    userName,
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    ...extra,
  });
  return { userName, key, value };
}

/** An iam-access-key secret for a new user, the user bound to it by the secret's ARN (BINDING_TAG). */
export async function iamSecret(w: KindsWorld, extra: object = {}) {
  const user = await iamUser(w, extra);
  const arn = await w.createSecret(user.value, { [TAG.kind]: 'iam-access-key' });
  await w.tagUser(user.userName, { [BINDING_TAG]: arn });
  return { ...user, arn };
}
