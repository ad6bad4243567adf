// A fresh local AWS for one test, wherever the suite runs: embedded (started in this process) or,
// with AWS_ENDPOINT_URL set, a session of the served local AWS's control API (local-aws/control.ts)
// behind that endpoint, so the test's AWS calls, the suite's handlers and their clock are all
// there and nothing runs on an emulator in this process. An endpoint without the control API
// (real AWS, another emulator) cannot move a clock or show what SNS published: the file's tests
// are skipped there with the missing capability named, never run here and never counted passed.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SweepSummary } from '#handlers/sweep';
import { cloudFormationOf } from '#local-aws/cloudformation';
import {
  type SessionAwsOptions,
  type SessionOpened,
  type SessionSuite,
  type SessionSuiteOptions,
  sessionAwsOptions,
  sessionSuiteOptions,
} from '#local-aws/control';
import { forwardFunction } from '#local-aws/control-functions';
import type {
  CallRecord,
  FunctionHandler,
  LocalAws,
  PublishedMessage,
  RotationRecord,
} from '#local-aws/index';
import { startLocalAws } from '#local-aws/index';
import { type HandlerDeps, handlerDeps, installSuite } from '#local-aws/suite';
import { ENDPOINT_URL, EXTERNAL_ENDPOINT, skipFile } from './endpoint.ts';
import { deployServedFunction, type FunctionHost, startFunctionHost } from './function-host.ts';

export type { SessionAwsOptions, SessionSuiteOptions } from '#local-aws/control';

/**
 * What a test reaches the installed suite with: its names, clients at the endpoint, and the
 * handlers' dependencies as the deployed functions build them (over the endpoint, on the
 * session's clock), for a test that runs a handler's domain function itself.
 */
export interface SuiteAt extends SessionSuite, HandlerDeps {
  secretsManager: SecretsManagerClient;
  lambda: LambdaClient;
  dynamo: DynamoDBDocumentClient;
  sns: SNSClient;
}

export interface Session {
  mode: 'embedded' | 'external';
  endpoint: string;
  region: string;
  accountId: string;
  /** Spread into any SDK v3 client's constructor. */
  clientConfig: { region: string; endpoint: string; credentials: Credentials };
  /** The variables a CLI or SDK in this process needs to reach the endpoint. */
  env: Record<string, string>;
  /**
   * The session's clock. `now()` is exact: only this test moves it (a session's clock does not
   * follow real time), so the value read back after each move stays true until the next.
   */
  clock: { now(): Date; advance(ms: number): Promise<void> };
  /** Waits until rotations in flight and event deliveries are over. */
  idle(): Promise<void>;
  /** What SNS published to the topic, oldest first. */
  published(topicArn: string): Promise<PublishedMessage[]>;
  /** Every Secrets Manager request the endpoint received in this session. */
  secretsManagerCalls(): Promise<CallRecord[]>;
  resetSecretsManagerCalls(): Promise<void>;
  /** Secrets ListSecrets' eventual consistency left out of a page. */
  listOmissions(): Promise<{ at: Date; secretArn: string }[]>;
  /** How long ListSecrets may leave out a changed secret here (the modelled window; 0: consistent). */
  listConsistencyLagMs(): Promise<number>;
  /** Sets a stack's outputs in the endpoint's CloudFormation (what the operator CLI reads). */
  putStackOutputs(stackName: string, outputs: Record<string, string>): Promise<void>;
  /** The suite, when the session installed it. */
  suite: SuiteAt;
  /** One sweep, as the schedule runs it: the sweep function invoked through the Lambda API. */
  sweep(): Promise<SweepSummary>;
  /**
   * Embedded only: the local AWS itself, for the part of a file that still needs this process's
   * hooks into it (its event bus delivering to, or Secrets Manager invoking, a handler here). That
   * part is skipped on an external endpoint, naming what it lacks (endpoint.ts skipOnEndpoint).
   */
  local?: LocalAws;
  /**
   * Has the endpoint forward `name`'s invocations to `handler`, run here (support/function-host.ts):
   * a function deployed through the Lambda API (its role and resource policy still checked by the
   * endpoint), or one of the suite's. Returns the function's ARN.
   */
  serveFunction(name: string, handler: FunctionHandler): Promise<string>;
  /**
   * Deploys `name` through the endpoint's IAM and Lambda APIs (role, function, and the permission
   * for `invokedBy`, e.g. secretsmanager.amazonaws.com), served by `handler`. Returns its ARN.
   */
  deployFunction(
    name: string,
    handler: FunctionHandler,
    options?: { invokedBy?: string; timeoutSeconds?: number },
  ): Promise<string>;
  /** The rotations Secrets Manager ran (of one secret, when named), oldest first. */
  rotations(secretArn?: string): Promise<RotationRecord[]>;
  /** How long (session clock) STS refuses a new or changed access key. */
  setIamConsistencyDelay(ms: number): Promise<void>;
  stop(): Promise<void>;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The control API's capabilities the session needs (local-aws/control.ts CONTROL_CAPABILITIES). */
const NEEDED = ['session', 'suite', 'clock', 'idle'];

/**
 * Declares that this file's tests run in sessions. Embedded, or on an endpoint offering the
 * control API: nothing to do. Elsewhere: every test is skipped naming `needs` and the missing
 * route, and recorded as skipped for `npm run test:external`. Call at the top of the file, awaited.
 * `extra` names further capabilities the file needs (e.g. 'function-callbacks', 'rotations').
 * True when the file's tests are skipped (so its beforeAll opens nothing).
 */
export async function needsSessions(
  fileUrl: string,
  needs: string,
  extra: string[] = [],
): Promise<boolean> {
  if (!EXTERNAL_ENDPOINT) return false;
  if (!ENDPOINT_URL) {
    skipFile(
      fileUrl,
      `needs ${needs} (the local AWS's /_local/session control API); real AWS has none`,
    );
    return true;
  }
  const offered = await capabilities(ENDPOINT_URL);
  const missing = [...NEEDED, ...extra].filter((c) => !offered.includes(c));
  if (missing.length > 0) {
    skipFile(
      fileUrl,
      `needs ${needs} (the local AWS's control API: ${missing.join(', ')}); ${ENDPOINT_URL} does not offer ${offered.length === 0 ? 'GET /_local/capabilities' : 'them'}`,
    );
    return true;
  }
  return false;
}

async function capabilities(endpoint: string): Promise<string[]> {
  try {
    const res = await fetch(new URL('/_local/capabilities', endpoint));
    if (!res.ok) return [];
    return ((await res.json()) as { capabilities?: string[] }).capabilities ?? [];
  } catch {
    return [];
  }
}

/** Opens a session: a fresh local AWS with `aws` options, the suite installed with `suite`. */
export async function openSession(
  aws: SessionAwsOptions = {},
  suite: SessionSuiteOptions = {},
): Promise<Session> {
  return ENDPOINT_URL ? remoteSession(ENDPOINT_URL, aws, suite) : embeddedSession(aws, suite);
}

function clientsFor(
  names: SessionSuite,
  host: Pick<Session, 'clock' | 'region' | 'clientConfig'>,
  suiteOptions: SessionSuiteOptions,
): SuiteAt {
  const config = host.clientConfig;
  const secretsManager = new SecretsManagerClient(config);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sns = new SNSClient(config);
  const deps = handlerDeps(host, sessionSuiteOptions(suiteOptions), {
    ...names,
    dynamo,
    secretsManager,
    sns,
  });
  return { ...names, ...deps, secretsManager, lambda: new LambdaClient(config), dynamo, sns };
}

async function invokeSweep(suite: SuiteAt): Promise<SweepSummary> {
  const out = await suite.lambda.send(
    new InvokeCommand({ FunctionName: suite.functions.sweep, Payload: Buffer.from('{}') }),
  );
  const payload = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  if (out.FunctionError) throw new Error(`the sweep function failed: ${payload}`);
  return JSON.parse(payload) as SweepSummary;
}

async function embeddedSession(
  awsOptions: SessionAwsOptions,
  suiteOptions: SessionSuiteOptions,
): Promise<Session> {
  const aws: LocalAws = await startLocalAws(sessionAwsOptions(awsOptions));
  const installed = await installSuite(aws, sessionSuiteOptions(suiteOptions));
  const suite: SuiteAt = { ...installed, lambda: new LambdaClient(aws.clientConfig) };
  const served = functionServing(aws.clientConfig, async (name, url) =>
    forwardFunction(aws, name, url),
  );
  return {
    mode: 'embedded',
    endpoint: aws.endpoint,
    region: aws.region,
    accountId: aws.accountId,
    clientConfig: aws.clientConfig,
    env: aws.env,
    clock: { now: aws.clock.now, advance: (ms) => aws.clock.advance(ms) },
    idle: () => aws.idle(),
    published: async (topicArn) => aws.sns.messagesTo(topicArn),
    secretsManagerCalls: async () => [...aws.secretsManager.calls.records],
    resetSecretsManagerCalls: async () => aws.secretsManager.calls.reset(),
    listOmissions: async () => [...aws.secretsManager.listOmissions],
    listConsistencyLagMs: async () => aws.secretsManager.listConsistencyLagMs,
    putStackOutputs: async (stackName, outputs) =>
      void cloudFormationOf(aws).putStack(stackName, outputs),
    suite,
    sweep: () => invokeSweep(suite),
    local: aws,
    ...served.methods,
    rotations: async (secretArn) =>
      aws.secretsManager.rotations
        .filter((r) => secretArn === undefined || r.secretArn === secretArn)
        .map((r) => structuredClone(r)),
    setIamConsistencyDelay: async (ms) => {
      aws.iam.consistencyDelayMs = ms;
    },
    stop: async () => {
      await aws.stop();
      await served.stop();
    },
  };
}

async function remoteSession(
  endpoint: string,
  awsOptions: SessionAwsOptions,
  suiteOptions: SessionSuiteOptions,
): Promise<Session> {
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(new URL(path, endpoint), {
      method,
      ...(body !== undefined && {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} at ${endpoint}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const opened = await control<SessionOpened>('POST', '/_local/session', {
    aws: awsOptions,
    suite: suiteOptions,
  });
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'AKIALOCALAWS00000000',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local-aws-secret-access-key',
  };
  const clientConfig = { region: opened.region, endpoint: opened.endpoint, credentials };
  let now = new Date(opened.now);
  const clock = {
    now: () => new Date(now),
    advance: async (ms: number) => {
      const out = await control<{ now: string }>('POST', '/_local/clock/advance', { ms });
      now = new Date(out.now);
    },
  };
  const suite = clientsFor(
    opened.suite!,
    { clock, region: opened.region, clientConfig },
    suiteOptions,
  );
  const served = functionServing(clientConfig, async (name, url) => {
    const path = `/_local/lambda/functions/${encodeURIComponent(name)}/callback`;
    return (await control<{ functionArn: string }>('PUT', path, { url })).functionArn;
  });
  const at = <T extends { at: string | Date }>(list: T[]) =>
    list.map((item) => ({ ...item, at: new Date(item.at) }));
  return {
    mode: 'external',
    endpoint: opened.endpoint,
    region: opened.region,
    accountId: opened.accountId,
    clientConfig,
    env: {
      AWS_ENDPOINT_URL: opened.endpoint,
      AWS_REGION: opened.region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    clock,
    idle: async () => {
      await control('POST', '/_local/idle');
    },
    published: async (topicArn) =>
      at(
        (
          await control<{ messages: PublishedMessage[] }>(
            'GET',
            `/_local/sns/messages?topic=${encodeURIComponent(topicArn)}`,
          )
        ).messages,
      ),
    secretsManagerCalls: async () =>
      at((await control<{ calls: CallRecord[] }>('GET', '/_local/secretsmanager/calls')).calls),
    resetSecretsManagerCalls: async () => {
      await control('DELETE', '/_local/secretsmanager/calls');
    },
    listOmissions: async () =>
      at(
        (
          await control<{ omissions: { at: string; secretArn: string }[] }>(
            'GET',
            '/_local/secretsmanager/list-omissions',
          )
        ).omissions,
      ),
    listConsistencyLagMs: async () =>
      (await control<{ lagMs?: number }>('GET', '/_local/secretsmanager/list-omissions')).lagMs ??
      0,
    putStackOutputs: async (stackName, outputs) => {
      await control('PUT', '/_local/cloudformation/outputs', { stackName, outputs });
    },
    suite,
    sweep: () => invokeSweep(suite),
    ...served.methods,
    rotations: async (secretArn) =>
      (
        await control<{ rotations: RotationRecord[] }>(
          'GET',
          `/_local/secretsmanager/rotations${secretArn ? `?secret=${encodeURIComponent(secretArn)}` : ''}`,
        )
      ).rotations.map((r) => ({ ...r, startedAt: new Date(r.startedAt) })),
    setIamConsistencyDelay: async (delayMs) => {
      await control('PUT', '/_local/iam/consistency', { delayMs });
    },
    stop: async () => {
      await control('DELETE', '/_local/session');
      await served.stop();
    },
  };
}

/** Serving functions from this process: one host per session, started when first asked. */
function functionServing(
  clientConfig: Session['clientConfig'],
  forward: (name: string, url: string) => Promise<string>,
) {
  let host: Promise<FunctionHost> | undefined;
  const serveFunction = async (name: string, handler: FunctionHandler) => {
    host ??= startFunctionHost();
    return forward(name, (await host).serve(name, handler));
  };
  const methods: Pick<Session, 'serveFunction' | 'deployFunction'> = {
    serveFunction,
    deployFunction: (name, handler, options) =>
      deployServedFunction(clientConfig, (n) => serveFunction(n, handler), name, options),
  };
  return {
    methods,
    stop: async () => {
      await (await host)?.stop();
    },
  };
}
