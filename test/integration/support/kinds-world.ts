// The world the token-kinds and scopes files rotate in, on the embedded local AWS: the suite
// installed, a local SaaS with the example issuer function (bundled and deployed to the local
// Lambda) minting at it, IAM access keys on the local IAM and STS, and the rotation handler
// registered in-process with issuers that wait on the local clock and a store that can lose a
// PutSecretValue. Plus the helpers both files drive it with.
import { IAMClient } from '@aws-sdk/client-iam';
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
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { type SaasKey, type SaasServer, startSaasServer } from '../../support/saas-server.ts';
import { bundleHandler } from './bundle.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How long a retired IAM key stays deactivated before the sweep deletes it. */
export const DELETE_AFTER = 3 * DAY;
const WEEK = scheduleFor(7 * DAY);

export interface KindsWorld {
  aws: LocalAws;
  suite: InstalledSuite;
  saas: SaasServer;
  admin: SaasKey;
  sm: SecretsManagerClient;
  lambda: LambdaClient;
  accessKeys: IamAccessKeys;
  issuerFor: IssuerFor;
  rotationArn: string;
  /** The role the issuer functions run as. */
  issuerRole: string;
  /** What the issuers waited for (testSecret's backoff), advancing the local clock instead. */
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
  rotate(arn: string): Promise<LocalAws['secretsManager']['rotations'][number]>;
  secretValue(arn: string, select?: { stage?: string; versionId?: string }): Promise<string>;
  stagesOf(arn: string): Promise<Record<string, string[]>>;
  /** One full sweep pass, as the scheduled sweep runs it. */
  sweep(): ReturnType<typeof runSweep>;
  /** Everything a person or a log could read: the secret's audit trail and every alert sent. */
  readable(arn: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startKindsWorld(options: {
  stackName: string;
  rotationName: string;
  secretPrefix: string;
}): Promise<KindsWorld> {
  const aws = await startLocalAws({ clock: '2025-03-01T10:00:00Z' });
  const suite = await installSuite(aws, { stackName: options.stackName });
  const saas = await startSaasServer({ now: aws.clock.now });
  const admin = saas.issueKey('acme', { admin: true });
  const sm = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 });
  const lambda = new LambdaClient({ ...aws.clientConfig, maxAttempts: 1 });
  const accessKeys = new IamAccessKeys(
    new IAMClient({ ...aws.clientConfig, maxAttempts: 1 }),
    (key) => new STSClient({ ...aws.clientConfig, credentials: key, maxAttempts: 1 }),
  );
  const waits: number[] = [];
  const faults = { failPuts: 0 };
  const issuerFor = createIssuerFor({
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
      if (faults.failPuts > 0) {
        faults.failPuts--;
        return Promise.reject(new Error('PutSecretValue: connection reset'));
      }
      return suite.store.putPending(...args);
    },
  };
  const rotationArn = aws.functions.register(
    options.rotationName,
    createRotationHandler({ ...suite.rotationDeps, store, issuerFor }),
  );

  const issuerRole = aws.iam.createRole('issuer');
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
  return {
    aws,
    suite,
    saas,
    admin,
    sm,
    lambda,
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
      await aws.idle();
      return aws.secretsManager.rotations.filter((r) => r.secretArn === arn).at(-1)!;
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
    },
    async readable(arn) {
      const history = await suite.audit.history(arn);
      return JSON.stringify(history) + JSON.stringify(aws.sns.published);
    },
    async stop() {
      sm.destroy();
      lambda.destroy();
      await saas.stop();
      await aws.stop();
    },
  };
}
