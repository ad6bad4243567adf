// The AWS an integration suite runs against: the endpoint named by AWS_ENDPOINT_URL when set
// (external mode: nothing started, real time), otherwise the embedded local AWS. Either way the
// suite gets its own audit table, alert topic, secrets and functions there, deployed as
// `cdk deploy` would (the real bundle, the stack's environment), and removes them afterwards.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, DeleteTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { AUDIT_TABLE, alertPk, secretPk } from '#adapters/audit-table';
import { createAuditTable, DynamoAuditLog, deleteAuditTable } from '#adapters/dynamodb-audit-log';
import type { AuditRecord } from '#domain/ports';
import { STAGE } from '#domain/vocabulary';
import { type LocalAws, type PublishedMessage, startLocalAws } from '#local-aws/index';
import { bundleHandler } from './bundle.ts';
import { ENDPOINT_URL, EXTERNAL_ENDPOINT, scaled } from './endpoint.ts';
import { createLambdaRole } from './lambda-role.ts';

export { EXTERNAL_ENDPOINT, scaled, TIMEOUT_SCALE } from './endpoint.ts';

/** The deployed rotation handler, and the test-only entries built on it. */
export const ENTRY = {
  rotation: new URL('../../../lambdas/handlers/rotation.ts', import.meta.url),
  issuerOutage: new URL('./issuer-outage.ts', import.meta.url),
  twicePerStep: new URL('./twice-per-step.ts', import.meta.url),
} as const;

/** What one Invoke answered, as the Lambda API returns it. */
export interface InvokeResult {
  statusCode: number;
  functionError?: string;
  payload: string;
  /** LogType=Tail: the last 4 KB of the invocation's log. */
  logTail: string;
}

export interface SecretRef {
  arn: string;
  name: string;
  /** The version CreateSecret made AWSCURRENT. */
  versionId: string;
}

/** How long external mode waits for a rotation to settle, and how quiet its audit trail must stay. */
const SETTLE_LIMIT_MS = scaled(120_000);
const QUIET_MS = scaled(3_000);
/** How long a new role may take to become assumable by Lambda (IAM is eventually consistent). */
const ROLE_PROPAGATION_MS = scaled(60_000);
const ROLE_POLICY = 'token-rotation-test';
const POLL_MS = 200;

export class AwsUnderTest {
  readonly external = EXTERNAL_ENDPOINT;
  readonly mode: 'embedded' | 'external' = this.external ? 'external' : 'embedded';
  /** The embedded local AWS; undefined in external mode. */
  local: LocalAws | undefined;
  readonly run = randomUUID().slice(0, 8);
  readonly stackName = `TokenRotationTest-${this.run}`;
  readonly tableName = `token-rotation-audit-test-${this.run}`;
  /** The functions' execution role, created through the endpoint's IAM at setUp. */
  readonly roleName = `token-rotation-test-${this.run}`;
  roleArn = '';
  topicArn = '';
  region = '';
  accountId = '';
  endpoint = '';
  secretsManager!: SecretsManagerClient;
  lambda!: LambdaClient;
  sns!: SNSClient;
  iam!: IAMClient;
  rawDynamo!: DynamoDBClient;
  dynamo!: DynamoDBDocumentClient;
  audit!: DynamoAuditLog;

  private readonly secrets: string[] = [];
  private readonly functions: string[] = [];

  async setUp(): Promise<void> {
    let config = {};
    if (this.external) {
      this.endpoint = ENDPOINT_URL ?? '';
      this.region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    } else {
      this.local = await startLocalAws();
      config = this.local.clientConfig;
      this.endpoint = this.local.endpoint;
      this.region = this.local.region;
    }
    this.secretsManager = new SecretsManagerClient(config);
    this.lambda = new LambdaClient(config);
    this.sns = new SNSClient(config);
    this.iam = new IAMClient(config);
    this.rawDynamo = new DynamoDBClient(config);
    this.dynamo = DynamoDBDocumentClient.from(this.rawDynamo, {
      marshallOptions: { removeUndefinedValues: true },
    });
    await createAuditTable(this.rawDynamo, this.tableName);
    const topic = await this.sns.send(new CreateTopicCommand({ Name: `${this.stackName}-alerts` }));
    this.topicArn = topic.TopicArn!;
    this.accountId = this.topicArn.split(':')[4]!;
    this.audit = new DynamoAuditLog({ client: this.dynamo, tableName: this.tableName });
    await this.createRole();
  }

  /**
   * The execution role the suite's functions run as, created as an account needs it: trusted by
   * Lambda, allowed what the stack grants its rotation function (this run's secrets, the audit
   * table, the alert topic, its own logs).
   */
  private async createRole(): Promise<void> {
    this.roleArn = await createLambdaRole(this.iam, this.roleName);
    const partition = this.roleArn.split(':')[1];
    await this.iam.send(
      new PutRolePolicyCommand({
        RoleName: this.roleName,
        PolicyName: ROLE_POLICY,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: [
                'secretsmanager:DescribeSecret',
                'secretsmanager:GetSecretValue',
                'secretsmanager:PutSecretValue',
                'secretsmanager:UpdateSecretVersionStage',
              ],
              Resource: `arn:${partition}:secretsmanager:${this.region}:${this.accountId}:secret:token-rotation-test/${this.run}/*`,
            },
            {
              Effect: 'Allow',
              Action: [
                'dynamodb:PutItem',
                'dynamodb:Query',
                'dynamodb:GetItem',
                'dynamodb:UpdateItem',
              ],
              Resource: `arn:${partition}:dynamodb:${this.region}:${this.accountId}:table/${this.tableName}`,
            },
            { Effect: 'Allow', Action: 'sns:Publish', Resource: this.topicArn },
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: '*',
            },
          ],
        }),
      }),
    );
  }

  /** Removes everything the suite created, the last thing first; reports every failure at the end. */
  async tearDown(): Promise<void> {
    const failures: unknown[] = [];
    const attempt = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        failures.push(error);
      }
    };
    await this.local?.idle();
    for (const secretId of this.secrets) {
      await attempt(() =>
        this.secretsManager.send(
          new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }),
        ),
      );
    }
    for (const name of this.functions) {
      await attempt(() => this.lambda.send(new DeleteFunctionCommand({ FunctionName: name })));
    }
    if (this.topicArn) {
      await attempt(() => this.sns.send(new DeleteTopicCommand({ TopicArn: this.topicArn })));
    }
    if (this.roleArn) {
      await attempt(() =>
        this.iam.send(
          new DeleteRolePolicyCommand({ RoleName: this.roleName, PolicyName: ROLE_POLICY }),
        ),
      );
      await attempt(() => this.iam.send(new DeleteRoleCommand({ RoleName: this.roleName })));
    }
    if (this.rawDynamo) await attempt(() => deleteAuditTable(this.rawDynamo, this.tableName));
    await this.local?.stop();
    if (failures.length > 0) {
      throw new AggregateError(failures, `teardown left ${failures.length} resource(s) behind`);
    }
  }

  /** The environment the stack gives its functions (infra/token-rotation.ts), plus the endpoint. */
  functionEnvironment(extra: Record<string, string> = {}): Record<string, string> {
    return {
      AUDIT_TABLE_NAME: this.tableName,
      ALERT_TOPIC_ARN: this.topicArn,
      SWEEP_INTERVAL_MINUTES: '15',
      STACK_NAME: this.stackName,
      POWERTOOLS_SERVICE_NAME: 'token-rotation',
      POWERTOOLS_METRICS_NAMESPACE: 'TokenRotation',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // A real account's functions reach AWS's own endpoints.
      ...(this.endpoint && { AWS_ENDPOINT_URL: this.endpoint }),
      ...extra,
    };
  }

  /** Bundles `entry`, deploys it with CreateFunction (nodejs22.x, 2 minutes, as the stack), waits until Active. */
  async deploy(
    label: string,
    entry: URL,
    environment: Record<string, string> = {},
  ): Promise<string> {
    const zip = await bundleHandler(entry);
    const name = `token-rotation-${label}-${this.run}`;
    const create = () =>
      this.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: this.roleArn,
          Code: { ZipFile: zip },
          Timeout: 120,
          MemorySize: 512,
          Environment: { Variables: this.functionEnvironment(environment) },
        }),
      );
    // A role IAM has just created may not be assumable by Lambda yet (IAM is eventually
    // consistent): CreateFunction says so with InvalidParameterValueException; try again.
    const deadline = Date.now() + ROLE_PROPAGATION_MS;
    let created: Awaited<ReturnType<typeof create>>;
    for (;;) {
      try {
        created = await create();
        break;
      } catch (error) {
        const e = error as Error;
        const notYet =
          e.name === 'InvalidParameterValueException' && /cannot be assumed/.test(e.message);
        if (!notYet || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
    this.functions.push(name);
    await waitUntilFunctionActiveV2(
      { client: this.lambda, maxWaitTime: scaled(120), minDelay: 1 },
      { FunctionName: name },
    );
    // The stack grants Secrets Manager the right to invoke its rotation function, for this
    // account's secrets; without it RotateSecret answers AccessDeniedException.
    await this.lambda.send(
      new AddPermissionCommand({
        FunctionName: name,
        StatementId: 'SecretsManagerInvoke',
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: this.accountId,
      }),
    );
    return created.FunctionArn!;
  }

  /** Replaces a function's environment (the stack's, plus `environment`), as a redeploy would. */
  async configure(functionArn: string, environment: Record<string, string>): Promise<void> {
    await this.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: functionArn,
        Environment: { Variables: this.functionEnvironment(environment) },
      }),
    );
    await waitUntilFunctionUpdatedV2(
      { client: this.lambda, maxWaitTime: scaled(120), minDelay: 1 },
      { FunctionName: functionArn },
    );
  }

  async functionVariables(functionArn: string): Promise<Record<string, string>> {
    const { Configuration } = await this.lambda.send(
      new GetFunctionCommand({ FunctionName: functionArn }),
    );
    return Configuration?.Environment?.Variables ?? {};
  }

  /** Invokes a function directly (RequestResponse, LogType Tail), as a person would from the console. */
  async invoke(functionArn: string, event: unknown): Promise<InvokeResult> {
    const out = await this.lambda.send(
      new InvokeCommand({
        FunctionName: functionArn,
        Payload: Buffer.from(JSON.stringify(event)),
        LogType: 'Tail',
      }),
    );
    return {
      statusCode: out.StatusCode ?? 0,
      functionError: out.FunctionError,
      payload: Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'),
      logTail: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'),
    };
  }

  /** A secret of this run (removed at teardown), opted in with a lifespan tag. */
  async createSecret(label: string, value: string): Promise<SecretRef> {
    const out = await this.secretsManager.send(
      new CreateSecretCommand({
        Name: `token-rotation-test/${this.run}/${label}`,
        SecretString: value,
        Tags: [{ Key: 'token-rotation:lifespan', Value: '7d' }],
      }),
    );
    this.secrets.push(out.ARN!);
    return { arn: out.ARN!, name: out.Name!, versionId: out.VersionId! };
  }

  /** RotateSecret now with `functionArn`; returns the new version's ID (the rotation's token). */
  async rotate(secretArn: string, functionArn: string, token = randomUUID()): Promise<string> {
    await this.secretsManager.send(
      new RotateSecretCommand({
        SecretId: secretArn,
        RotationLambdaARN: functionArn,
        ClientRequestToken: token,
        RotateImmediately: true,
      }),
    );
    return token;
  }

  /**
   * Waits until the rotation of `token` is over: succeeded (the version is AWSCURRENT) or failed
   * (Secrets Manager has stopped retrying). Embedded, or an endpoint with the local AWS's
   * control API: the emulator says when. Elsewhere: failed means a `rotation.failed` record and
   * then an audit trail quiet for QUIET_MS.
   */
  async settle(secretArn: string, token: string): Promise<'succeeded' | 'failed'> {
    if (this.local) {
      // Read from the emulator's record, so waiting adds no call to the secret's API count.
      await this.local.idle();
      const run = this.local.secretsManager.rotations.findLast(
        (r) => r.secretArn === secretArn && r.token === token,
      );
      return run?.outcome === 'succeeded' ? 'succeeded' : 'failed';
    }
    // An endpoint whose control API says when its rotations are over (the local AWS's
    // POST /_local/idle) is asked; that takes no guess at how long a rotation may be quiet.
    if (await this.endpointIdle()) {
      return (await this.stages(secretArn))[token]?.includes(STAGE.current)
        ? 'succeeded'
        : 'failed';
    }
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    let seen = -1;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      if ((await this.stages(secretArn))[token]?.includes(STAGE.current)) return 'succeeded';
      const history = await this.audit.history(secretArn);
      if (history.length !== seen) {
        seen = history.length;
        quietSince = Date.now();
      }
      const failed = history.some(
        (r) => r.event === 'rotation.failed' && r.versions?.pending === token,
      );
      if (failed && Date.now() - quietSince >= QUIET_MS) return 'failed';
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(
      `rotation ${token} of ${secretArn} neither succeeded nor failed within ${SETTLE_LIMIT_MS / 1000} s`,
    );
  }

  /**
   * Waits until the endpoint's rotations and deliveries are over, when its control API offers
   * that (POST /_local/idle, local-aws/control.ts); false on an endpoint without it.
   */
  private async endpointIdle(): Promise<boolean> {
    if (!ENDPOINT_URL) return false;
    try {
      const res = await fetch(new URL('/_local/idle', ENDPOINT_URL), { method: 'POST' });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Version ID → staging labels, as DescribeSecret lists them. */
  async stages(secretArn: string): Promise<Record<string, string[]>> {
    const out = await this.secretsManager.send(new DescribeSecretCommand({ SecretId: secretArn }));
    return out.VersionIdsToStages ?? {};
  }

  /** The value of a version (AWSCURRENT when none is named); undefined when it holds none. */
  async value(secretArn: string, versionId?: string): Promise<string | undefined> {
    try {
      const out = await this.secretsManager.send(
        new GetSecretValueCommand({
          SecretId: secretArn,
          ...(versionId && { VersionId: versionId }),
        }),
      );
      return out.SecretString;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  /** Every value the secret holds in any version, deprecated ones included. */
  async allValues(secretArn: string): Promise<string[]> {
    const out = await this.secretsManager.send(
      new ListSecretVersionIdsCommand({ SecretId: secretArn, IncludeDeprecated: true }),
    );
    const values = await Promise.all(
      (out.Versions ?? []).map((v) => this.value(secretArn, v.VersionId)),
    );
    return values.filter((v): v is string => v !== undefined);
  }

  /** The secret's audit chain, oldest first. */
  history(secretArn: string): Promise<AuditRecord[]> {
    return this.audit.history(secretArn);
  }

  /** Every item the suite stored about the secret (audit records and alert marks), as stored. */
  async storedItems(secretArn: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (const pk of [secretPk(secretArn), alertPk(secretArn)]) {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.dynamo.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey },
            ExpressionAttributeValues: { ':pk': pk },
            ...(start && { ExclusiveStartKey: start }),
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    }
    return items;
  }

  /** Alert marks of the secret whose e-mail went out: what the alerter recorded as sent. */
  async alertsSent(secretArn: string): Promise<Record<string, unknown>[]> {
    return (await this.storedItems(secretArn)).filter(
      (item) =>
        String(item[AUDIT_TABLE.partitionKey]) === alertPk(secretArn) && item.state === 'sent',
    );
  }

  /**
   * The alerts published about the secret, as subscribers received them. Only the embedded
   * endpoint records publishes; external mode answers undefined (its marks are in alertsSent).
   */
  published(secretName: string): PublishedMessage[] | undefined {
    return this.local?.sns
      .messagesTo(this.topicArn)
      .filter((m) => m.attributes.secret?.StringValue === secretName);
  }

  /** The function's whole log (its CloudWatch log group); undefined in external mode. */
  functionLog(functionArn: string): string | undefined {
    return this.local?.lambda
      .logsOf(functionArn)
      .map((line) => line.text)
      .join('');
  }

  /** Secrets Manager calls at the endpoint naming the secret, by operation; undefined in external mode. */
  secretsManagerCalls(secretArn: string): Record<string, number> | undefined {
    return this.local?.secretsManager.calls.byOperation({ secret: secretArn });
  }

  /** The errors the embedded Secrets Manager got back from the rotation function; undefined in external mode. */
  rotationErrors(secretArn: string): string[] | undefined {
    return this.local?.secretsManager.rotations
      .filter((r) => r.secretArn === secretArn)
      .flatMap((r) => r.attempts.map((a) => a.error ?? ''))
      .filter(Boolean);
  }
}

/** The suite's AWS, set up before its tests and torn down after them. */
export function useAws(): AwsUnderTest {
  const aws = new AwsUnderTest();
  beforeAll(() => aws.setUp(), scaled(180_000));
  afterAll(() => aws.tearDown(), scaled(180_000));
  return aws;
}
