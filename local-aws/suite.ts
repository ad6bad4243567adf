// Installs token-rotation into an embedded local AWS the way `cdk deploy` installs it into an
// account: an audit table, an alert topic, the real handlers behind function ARNs (built with
// their own create…Handler factories, over the local endpoint and the local clock), and, with
// `triggers`, the EventBridge rules and the sweep schedule that set them off. The demo, the
// benchmark, the CLI's tests and `serve.ts --with-suite` all start here.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAuditTable, DynamoAuditLog } from '#adapters/dynamodb-audit-log';
import { DynamoManagedSet } from '#adapters/dynamodb-managed-set';
import { DynamoRevokeLockStore } from '#adapters/dynamodb-revoke-locks';
import { DynamoSweepCursorStore } from '#adapters/dynamodb-sweep-cursor';
import { DynamoTokenUses } from '#adapters/dynamodb-token-uses';
import { IamAccessKeys } from '#adapters/iam-keys';
import { LambdaInvoker } from '#adapters/lambda-invoker';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { SnsAlerter } from '#adapters/sns-alerter';
import { SsmAutomationExecutions } from '#adapters/ssm-automation';
import { logger } from '#commons/logger';
import type { CheckpointDeps } from '#domain/audit-anchor';
import { describeError } from '#domain/errors';
import { DEFAULT_ENVIRONMENT_ORDER, newIndexMemory, revokedTokens } from '#domain/isolation/index';
import { createIssuerFor, type IssuerDeps, type IssuerFor } from '#domain/kinds/registry';
import { createPacer, type Pace } from '#domain/pacer';
import type { PolicyLimits } from '#domain/policy';
import type { AccessKeys, FunctionInvoker } from '#domain/ports';
import type { RevokeEventDeps } from '#domain/revoke-events';
import type { RotationDeps } from '#domain/rotation/index';
import { failedRotationVersion } from '#domain/service-events';
import type { SweepDeps } from '#domain/sweep/index';
import { createAuditAnchorHandler } from '#handlers/audit-anchor';
import { createRevokeHandler } from '#handlers/revoke';
import { createRevokeEventsHandler } from '#handlers/revoke-events';
import { createRotationHandler } from '#handlers/rotation';
import { createSecretsManagerEventsHandler } from '#handlers/secretsmanager-events';
import { createSweepHandler } from '#handlers/sweep';
import { createTagEventsHandler } from '#handlers/tag-events';
import { type CloudFormationEmulator, cloudFormationOf } from './cloudformation.ts';
import type { FunctionHandler, LocalAws } from './index.ts';
import { createCheckpointBucket, localCheckpointDeps } from './suite-anchor.ts';
import { createFingerprintKey, localTokenIndex } from './suite-fingerprint-key.ts';
import { connectTriggers, type SuiteRule, suiteRules } from './suite-triggers.ts';
import { AwsError, readBody } from './wire.ts';

export type { EventPattern, SuiteRule } from './suite-triggers.ts';

/** The deployed default (infra/token-rotation.ts `sweepInterval`). */
const DEFAULT_SWEEP_INTERVAL_MINUTES = 15;

export interface InstallOptions {
  /** Default `TokenRotation`, as `cdk deploy` names the stack. */
  stackName?: string;
  /**
   * Connects the EventBridge rules (to the local event bus) and the sweep schedule (to the local
   * clock), as the stack does; `true` for both, or say which. Default false: the functions are
   * installed but nothing sets them off, for tests that drive the handlers themselves.
   */
  triggers?: boolean | { rules?: boolean; sweep?: boolean };
  /** The stack's `sweepInterval`. Default 15. */
  sweepIntervalMinutes?: number;
  /** The stack's `maxLifespan` in hours. Default 720 (30 days). */
  maxLifespanHours?: number;
  /** The stack's `graceExtensions`. Default 1. */
  graceExtensions?: number;
  /**
   * The sweep's and tag events' pacing. Default the deployed pacer (40 calls a second, real
   * time); a simulation whose clock jumps days in a second of real time passes a faster one.
   */
  pace?: Pace;
  /** Issuer settings the deployed functions read from their environment, and the backoff's sleep. */
  issuers?: Pick<IssuerDeps, 'sleep' | 'deleteAfterMs' | 'issuerTimeoutMs'>;
  /**
   * Creates the checkpoint bucket and has every sweep checkpoint the chain heads to it, as the
   * stack does (output CheckpointBucketName). Default false: most tests have no use for it.
   */
  anchor?: boolean;
  /** The stack's `environmentOrder` (least trusted first). Default ci, dev, staging, prod. */
  environmentOrder?: string[];
}

export interface InstalledSuite {
  stackName: string;
  tableName: string;
  topicArn: string;
  rotationFunctionArn: string;
  /** Every function of the stack, by its role, as ARNs of the local function registry. */
  functions: {
    rotation: string;
    sweep: string;
    tagEvents: string;
    secretsManagerEvents: string;
    revoke: string;
    revokeEvents: string;
    /** The audit-anchor function, with `anchor` only. */
    auditAnchor?: string;
  };
  /** The rules the stack deploys (connected only with `triggers`). */
  rules: SuiteRule[];
  sweepIntervalMs: number;
  secretsManager: SecretsManagerClient;
  dynamo: DynamoDBDocumentClient;
  sns: SNSClient;
  audit: DynamoAuditLog;
  alerter: SnsAlerter;
  store: SecretsManagerStore;
  /** Every kind's issuer, over the local IAM, STS and Lambda, as the deployed functions build them. */
  issuerFor: IssuerFor;
  rotationDeps: RotationDeps;
  /** The sweep's dependencies, as its handler is given them (the tag events use the same). */
  sweepDeps: SweepDeps;
  revokeDeps: RevokeEventDeps;
  /**
   * The local CloudFormation, holding this stack and its outputs under the names the CDK stack
   * gives them, so the operator CLI finds the suite here as in an account. Tests add outputs
   * (a revoke function they deploy) with `cloudFormation.putStack(stackName, {...})`.
   */
  cloudFormation: CloudFormationEmulator;
  /** The fingerprint key secret the stack generates (output FingerprintKeySecretArn). */
  fingerprintKeySecretArn: string;
  /** Disconnects the rules and the schedule (a no-op without `triggers`). */
  disconnect(): void;
}

export async function installSuite(
  aws: LocalAws,
  options: InstallOptions = {},
): Promise<InstalledSuite> {
  const stackName = options.stackName ?? 'TokenRotation';
  const tableName = `${stackName}-audit`;
  const sweepIntervalMs = (options.sweepIntervalMinutes ?? DEFAULT_SWEEP_INTERVAL_MINUTES) * 60_000;
  const maxLifespanHours = options.maxLifespanHours ?? 30 * 24;
  const limits = {
    maxLifespanMs: maxLifespanHours * 3_600_000,
    ...(options.graceExtensions !== undefined && { graceExtensions: options.graceExtensions }),
  };
  const rawDynamo = new DynamoDBClient(aws.clientConfig);
  const dynamo = DynamoDBDocumentClient.from(rawDynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const secretsManager = new SecretsManagerClient(aws.clientConfig);
  const sns = new SNSClient(aws.clientConfig);

  await createAuditTable(rawDynamo, tableName);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${stackName}-alerts` }));
  const topicArn = TopicArn!;
  const fingerprintKeySecretArn = await createFingerprintKey(secretsManager, stackName);

  const deps = handlerDeps(aws, options, {
    stackName,
    tableName,
    topicArn,
    dynamo,
    secretsManager,
    sns,
    fingerprintKeySecretArn,
  });
  const checkpointBucket = options.anchor ? `${stackName.toLowerCase()}-checkpoints` : undefined;
  if (checkpointBucket) await createCheckpointBucket(aws, checkpointBucket);
  const anchor = checkpointBucket
    ? localCheckpointDeps(aws, dynamo, tableName, checkpointBucket, deps.sweepDeps.managed)
    : undefined;
  const functions = registerFunctions(aws, stackName, deps, { sweepIntervalMs, limits }, anchor);
  const rules = suiteRules(functions);
  const disconnect = connectTriggers(aws, options.triggers, rules, {
    functionArn: functions.sweep,
    intervalMs: sweepIntervalMs,
    ...(functions.auditAnchor && { anchorFunctionArn: functions.auditAnchor }),
  });
  const cloudFormation = putStackOutputs(aws, {
    stackName,
    tableName,
    topicArn,
    maxLifespanHours,
    fingerprintKeySecretArn,
    ...(checkpointBucket && { checkpointBucket }),
  });
  answerInvokesOfRegisteredFunctions(aws);

  return {
    stackName,
    tableName,
    topicArn,
    rotationFunctionArn: functions.rotation,
    functions,
    rules,
    sweepIntervalMs,
    secretsManager,
    dynamo,
    sns,
    ...deps,
    cloudFormation,
    fingerprintKeySecretArn,
    disconnect,
  };
}

/** What the handlers' dependencies need of the local AWS: its clock, Region and client config. */
export type SuiteHost = {
  clock: { now(): Date };
  region: string;
  clientConfig: LocalAws['clientConfig'];
};

export type HandlerDeps = Pick<
  InstalledSuite,
  'audit' | 'alerter' | 'store' | 'issuerFor' | 'rotationDeps' | 'sweepDeps' | 'revokeDeps'
>;

/**
 * What each deployed handler builds from its environment (lambdas/handlers/*.ts `handler`), here
 * over the local endpoint and clock (or, for a test in a session of a served local AWS, over that
 * endpoint and the session's clock: test/integration/support/session.ts).
 */
export function handlerDeps(
  aws: SuiteHost,
  options: Pick<InstallOptions, 'pace' | 'issuers' | 'environmentOrder'>,
  stack: Pick<
    InstalledSuite,
    | 'stackName'
    | 'tableName'
    | 'topicArn'
    | 'dynamo'
    | 'secretsManager'
    | 'sns'
    | 'fingerprintKeySecretArn'
  >,
): HandlerDeps {
  const { stackName, tableName, topicArn, dynamo, secretsManager, sns } = stack;
  const keyArn = stack.fingerprintKeySecretArn;
  const clock = aws.clock.now;
  const audit = new DynamoAuditLog({ client: dynamo, tableName, clock });
  const alerter = new SnsAlerter({
    sns,
    topicArn,
    dynamo,
    tableName,
    region: aws.region,
    stackName,
    clock,
  });
  const store = new SecretsManagerStore(secretsManager);
  const catalog = new SecretsManagerCatalog(secretsManager);
  const issuerFor = localIssuerFor(aws, {
    tokenUses: new DynamoTokenUses(dynamo, tableName),
    ...options.issuers,
  });
  const log = { warn: (message: string, extra?: object) => logger.warn(message, { ...extra }) };
  const pace = options.pace ?? createPacer();
  const locks = new DynamoRevokeLockStore(dynamo, tableName);
  const { index, key, mint } = localTokenIndex(dynamo, tableName, store, keyArn);
  const rotationDeps: RotationDeps = { store, audit, alerter, issuerFor, clock, revokes: locks };
  rotationDeps.tokenIndex = mint();
  const sweepDeps: SweepDeps = {
    catalog,
    store,
    audit,
    alerter,
    issuerFor,
    clock,
    cursor: new DynamoSweepCursorStore(dynamo, tableName),
    pace,
    managed: new DynamoManagedSet(dynamo, tableName),
    log,
    isolation: {
      index,
      key: key(),
      keySecret: { arn: keyArn, name: 'token-rotation fingerprint key' },
      environmentOrder: options.environmentOrder ?? [...DEFAULT_ENVIRONMENT_ORDER],
      memory: newIndexMemory(),
    },
  };
  const revokeDeps: RevokeEventDeps = {
    store,
    catalog,
    audit,
    alerter,
    issuerFor,
    locks,
    clock,
    stackName,
    tokenIndex: revokedTokens({ index, key: key(), clock, log }),
  };
  return { audit, alerter, store, issuerFor, rotationDeps, sweepDeps, revokeDeps };
}

/** The handlers, each under its stack function name with the execution role the stack gives it. */
function registerFunctions(
  aws: LocalAws,
  stackName: string,
  { audit, alerter, store, rotationDeps, sweepDeps, revokeDeps }: HandlerDeps,
  sweepOptions: { sweepIntervalMs: number; limits: PolicyLimits },
  checkpoint?: CheckpointDeps,
): InstalledSuite['functions'] {
  // Each function's execution role, as the stack creates them: a function deployed under one of
  // these names through the Lambda API (a test deploying the real bundle) finds its role.
  const register = (name: string, handler: FunctionHandler) => {
    if (!aws.iam.roleExists(`arn:aws:iam::${aws.accountId}:role/${stackName}-${name}`)) {
      aws.iam.createRole(`${stackName}-${name}`);
    }
    return aws.functions.register(`${stackName}-${name}`, handler);
  };
  const rotation = register('rotation', createRotationHandler(rotationDeps));
  const sweepHandler = createSweepHandler({
    sweep: sweepDeps,
    rotationFunctionArn: rotation,
    ...sweepOptions,
  });
  return {
    rotation,
    // The registry's stand-in context gives 30 seconds; the deployed sweep has 15 minutes, which
    // is what the handler assumes when it is given no context.
    sweep: register('sweep', (event) => sweepHandler(event)),
    tagEvents: register(
      'tag-events',
      createTagEventsHandler({
        sweep: sweepDeps,
        rotationFunctionArn: rotation,
        ...sweepOptions,
        // Locally every caller signs as the same user, so the suite's own tag changes cannot be
        // told apart by role; the handlers pick them out by what changed, as they also do.
        ownRoles: [],
      }),
    ),
    secretsManagerEvents: register(
      'secretsmanager-events',
      createSecretsManagerEventsHandler({
        audit,
        alerter,
        // As deployed: a failed rotation leaves AWSPENDING on its version, which names the incident.
        pendingVersion: async (secretArn) => {
          const { versions } = await store.describe(secretArn);
          return failedRotationVersion(versions);
        },
      }),
    ),
    // As deployed: the revoke function reads the runbook's execution back from Systems Manager.
    revoke: register(
      'revoke',
      createRevokeHandler({
        ...revokeDeps,
        executions: new SsmAutomationExecutions(new SSMClient(aws.clientConfig)),
      }),
    ),
    revokeEvents: register('revoke-events', createRevokeEventsHandler(revokeDeps)),
    ...(checkpoint && {
      auditAnchor: register('audit-anchor', createAuditAnchorHandler({ checkpoint, alerter })),
    }),
  };
}

/** The stack in the local CloudFormation, so the operator CLI finds the suite as in an account. */
function putStackOutputs(
  aws: LocalAws,
  outputs: {
    stackName: string;
    tableName: string;
    topicArn: string;
    maxLifespanHours: number;
    fingerprintKeySecretArn: string;
    checkpointBucket?: string;
  },
): CloudFormationEmulator {
  const { stackName, tableName, topicArn, maxLifespanHours, checkpointBucket } = outputs;
  // Output names as infra/token-rotation.ts gives them (console links have no local meaning).
  const cloudFormation = cloudFormationOf(aws);
  cloudFormation.putStack(stackName, {
    AlertTopicArn: { value: topicArn, description: 'Alert topic (SNS)' },
    AuditTableName: { value: tableName, description: 'Audit trail (DynamoDB table)' },
    MaxLifespanHours: {
      value: String(maxLifespanHours),
      description: 'The longest lifespan a token-rotation:lifespan tag may ask for, in hours',
    },
    RevokeFunctionName: {
      value: `${stackName}-revoke`,
      description: 'Emergency revoke function (Test it in the Lambda console)',
    },
    FingerprintKeySecretArn: {
      value: outputs.fingerprintKeySecretArn,
      description: 'The keyed-fingerprint key of the token index (for token-rotation scan)',
    },
    RevokeTestEvent: {
      value: '{"secretId": "<secret name or ARN>", "reason": "<why>", "mode": "reissue"}',
      description: 'Test event for the revoke function (mode reissue or quarantine)',
    },
    ...(checkpointBucket && {
      CheckpointBucketName: {
        value: checkpointBucket,
        description: 'Audit checkpoints (S3, Object Lock)',
      },
    }),
  });
  return cloudFormation;
}

/**
 * `issuerFor` as the deployed functions build it (adapters/issuer-clients.ts deployedIssuerFor:
 * IAM with 5 attempts, STS with 1 per backoff try, Lambda with 2), over the local endpoint and
 * clock instead of the SDK's environment. Clients are made on first use, as there.
 */
function localIssuerFor(
  aws: SuiteHost,
  extra: InstallOptions['issuers'] & Pick<IssuerDeps, 'tokenUses'> = {},
): IssuerFor {
  let accessKeys: AccessKeys | undefined;
  let invoker: FunctionInvoker | undefined;
  return createIssuerFor({
    clock: aws.clock.now,
    ...extra,
    get accessKeys() {
      accessKeys ??= new IamAccessKeys(
        new IAMClient({ ...aws.clientConfig, maxAttempts: 5 }),
        (key) => new STSClient({ ...aws.clientConfig, credentials: key, maxAttempts: 1 }),
      );
      return accessKeys;
    },
    get invoker() {
      invoker ??= new LambdaInvoker(new LambdaClient({ ...aws.clientConfig, maxAttempts: 2 }));
      return invoker;
    },
  });
}

/**
 * Answers Lambda Invoke for functions of the local registry (this suite's handlers), so the
 * operator CLI and the console's Test reach the revoke function through the Lambda API as in an
 * account. Functions deployed with CreateFunction, and every other Lambda call, go to the local
 * Lambda service as before.
 */
function answerInvokesOfRegisteredFunctions(aws: LocalAws): void {
  const lambdaService = aws.lambda.handle;
  aws.addService('lambda', async (req, res, caller) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
    const name = match ? decodeURIComponent(match[1]!) : undefined;
    if (!name || aws.lambda.has(name) || !aws.functions.has(name)) {
      return lambdaService(req, res, caller);
    }
    await invokeRegistered(aws, name, req, res);
  });
}

async function invokeRegistered(
  aws: LocalAws,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  const body = await readBody(req);
  let event: unknown;
  try {
    event = body === '' ? null : JSON.parse(body);
  } catch {
    const error = new AwsError(
      'InvalidRequestContentException',
      'Could not parse request body into json: the payload is not valid JSON',
    );
    res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': error.type });
    res.end(JSON.stringify({ Type: 'User', message: error.message }));
    return;
  }
  const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
  if (type !== 'RequestResponse') {
    // Queued: the caller hears 202 at once; a failure stays with the function, as on AWS.
    if (type === 'Event') void aws.functions.invoke(name, event).catch(() => {});
    res.writeHead(type === 'Event' ? 202 : 204, { 'x-amzn-requestid': requestId });
    res.end();
    return;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'x-amz-executed-version': '$LATEST',
  };
  let payload: string;
  try {
    payload = JSON.stringify((await aws.functions.invoke(name, event)) ?? null);
  } catch (error) {
    // What Lambda answers for a handler that threw: 200, the error in the payload.
    headers['x-amz-function-error'] = 'Unhandled';
    payload = JSON.stringify({
      errorType: error instanceof Error ? error.name : 'Error',
      errorMessage: describeError(error),
    });
  }
  res.writeHead(200, headers);
  res.end(payload);
}
