// The embedded local AWS: one loopback endpoint that the real SDK clients reach through the
// standard AWS_ENDPOINT_URL. Requests are routed by the service in their SigV4 credential scope:
// Secrets Manager and SNS to our emulators, DynamoDB to dynalite, and the rest (iam, sts,
// lambda, later) to whatever registers for them.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { LocalClock } from './clock.ts';
import { EventBus } from './events.ts';
import { FunctionRegistry } from './functions.ts';
import { IamEmulator } from './iam.ts';
import { LambdaEmulator } from './lambda.ts';
import {
  SecretsManagerEmulator,
  type SecretsManagerOperation,
  type WindowPoint,
} from './secrets-manager.ts';
import { SnsEmulator } from './sns.ts';
import { AwsError, type Caller, callerOf, sendJsonError, sendQueryError } from './wire.ts';

export { LocalClock } from './clock.ts';
export type { LocalEvent } from './events.ts';
export type { FunctionHandler } from './functions.ts';
export type { AccessKeyRecord, IamCall, IamEmulator } from './iam.ts';
export type { Invocation, LambdaEmulator, LogLine } from './lambda.ts';
export type { CallRecord, RotationRecord, SecretsManagerEmulator } from './secrets-manager.ts';
export type { PublishedMessage, SnsEmulator } from './sns.ts';

/** Handles one request for a service; `caller` is read from the SigV4 credential scope. */
export type ServiceHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  caller: Caller,
) => void | Promise<void>;

export interface LocalAwsOptions {
  /** Loopback port; 0 (default) picks a free one. */
  port?: number;
  region?: string;
  accountId?: string;
  /** Where the local clock starts (default: the real time now), or a clock to share. */
  clock?: LocalClock | Date | string | number;
  secretsManager?: {
    /** Whole-rotation attempts before RotationFailed. Default 3. */
    rotationAttempts?: number;
    /** Where in its window a scheduled rotation runs. Default 'end' (worst case for lifespans). */
    rotationWindowPoint?: WindowPoint;
    /**
     * Requests per second per operation, or 'documented' for AWS's published quotas; above it,
     * ThrottlingException. Counted on the local clock, so never machine-speed dependent.
     * Default: no limits.
     */
    throttle?: Partial<Record<SecretsManagerOperation, number>> | 'documented';
  };
  /** How long (local clock) STS refuses a new or changed access key. Default 0. */
  iamConsistencyDelayMs?: number;
  /** dynalite's table state delays (ms); default 0, so tables are ACTIVE at once. */
  dynamoTableMs?: number;
}

export interface LocalAws {
  /** `http://127.0.0.1:<port>`: the value for AWS_ENDPOINT_URL. */
  endpoint: string;
  region: string;
  accountId: string;
  clock: LocalClock;
  secretsManager: SecretsManagerEmulator;
  sns: SnsEmulator;
  /** IAM users and access keys, and STS GetCallerIdentity. */
  iam: IamEmulator;
  functions: FunctionRegistry;
  /** The Lambda service: functions deployed with CreateFunction, and their logs. */
  lambda: LambdaEmulator;
  events: EventBus;
  /** Spread into any SDK v3 client's constructor: `new SecretsManagerClient(aws.clientConfig)`. */
  clientConfig: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** The environment a handler needs to reach this endpoint through the SDK's own config. */
  env: Record<
    'AWS_ENDPOINT_URL' | 'AWS_REGION' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY',
    string
  >;
  /** Routes another service (`iam`, `sts`, `lambda`) to `handler`. */
  addService(service: string, handler: ServiceHandler): void;
  /** Waits for rotations in flight and event deliveries. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const clock =
    options.clock instanceof LocalClock
      ? options.clock
      : new LocalClock(options.clock ?? Date.now());
  const functions = new FunctionRegistry(region, accountId);
  const events = new EventBus();
  const credentials = {
    accessKeyId: 'AKIALOCALAWS00000000',
    secretAccessKey: 'local-aws-secret-access-key',
  };
  // Functions run in worker threads and reach this endpoint with the credentials a role would give.
  const lambda = new LambdaEmulator({ region, accountId, clock, credentials });
  const secretsManager = new SecretsManagerEmulator({
    region,
    accountId,
    clock,
    functions,
    events,
    lambda,
    ...options.secretsManager,
  });
  const sns = new SnsEmulator({ region, accountId, clock });
  const iam = new IamEmulator({
    accountId,
    clock,
    trustedKeys: [credentials.accessKeyId],
    consistencyDelayMs: options.iamConsistencyDelayMs ?? 0,
  });
  // dynalite is handed our requests directly: no second port, nothing to proxy.
  const tableMs = options.dynamoTableMs ?? 0;
  const dynamo = dynalite({
    createTableMs: tableMs,
    deleteTableMs: tableMs,
    updateTableMs: tableMs,
  });

  const services = new Map<string, ServiceHandler>([
    ['secretsmanager', secretsManager.handle],
    ['sns', sns.handle],
    ['dynamodb', (req, res) => void dynamo.emit('request', req, res)],
    ['lambda', lambda.handle],
    ['iam', iam.handleIam],
    ['sts', iam.handleSts],
  ]);

  const server = createServer((req, res) => {
    const caller = callerOf(req);
    const handler = caller && services.get(caller.service);
    if (!handler) {
      const error = new AwsError(
        'UnknownServiceException',
        `The local AWS does not emulate the service '${caller?.service ?? '(no SigV4 credential scope)'}'. It serves: ${[...services.keys()].join(', ')}.`,
      );
      req.resume();
      // Answer in the caller's protocol so its SDK can read the error: Query (form-encoded) or JSON.
      if (String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        sendQueryError(res, error, 'https://local-aws/');
      } else {
        sendJsonError(res, error);
      }
      return;
    }
    Promise.resolve(handler(req, res, caller)).catch((error: unknown) => {
      if (!res.headersSent) sendJsonError(res, new AwsError('InternalFailure', String(error), 500));
    });
  });
  // Keep-alive sockets would hold stop() open until they time out.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    region,
    accountId,
    clock,
    secretsManager,
    sns,
    iam,
    functions,
    lambda,
    events,
    clientConfig: { region, endpoint, credentials },
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    addService: (service, handler) => void services.set(service, handler),
    idle: async () => {
      await secretsManager.idle();
      await lambda.idle();
      await events.idle();
    },
    stop: async () => {
      await secretsManager.idle();
      await lambda.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
