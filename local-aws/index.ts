// The embedded local AWS: one loopback endpoint that the real SDK clients reach through the
// standard AWS_ENDPOINT_URL. Requests are routed by the service in their SigV4 credential scope:
// Secrets Manager, SNS and S3 to our emulators, DynamoDB to dynalite (with transactions, see
// dynamo-transactions.ts), and the rest (iam, sts, lambda, later) to whatever registers for them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { ApiCallLog } from './api-calls.ts';
import { LocalClock } from './clock.ts';
import { dynamoWithTransactions } from './dynamo-transactions.ts';
import { EventBus } from './events.ts';
import { FunctionRegistry } from './functions.ts';
import { IamEmulator } from './iam.ts';
import { LambdaEmulator } from './lambda.ts';
import { logsService } from './logs.ts';
import { S3Emulator } from './s3.ts';
import {
  type ListConsistency,
  type PendingEndState,
  SecretsManagerEmulator,
  type SecretsManagerOperation,
  type WindowPoint,
} from './secrets-manager.ts';
import { SnsEmulator } from './sns.ts';
import {
  AwsError,
  type Caller,
  callerOf,
  readBody,
  sendJsonError,
  sendQueryError,
} from './wire.ts';

export type { ApiCall, ApiCallLog } from './api-calls.ts';
export { LocalClock } from './clock.ts';
export type { LocalEvent } from './events.ts';
export type { FunctionHandler } from './functions.ts';
export type { AccessKeyRecord, IamCall, IamEmulator } from './iam.ts';
export type { Invocation, LambdaEmulator, LogLine } from './lambda.ts';
export type { S3Emulator } from './s3.ts';
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
     * Where AWSPENDING ends up after a rotation: 'removed' or 'kept' on AWSCURRENT (AWS documents
     * both). Default: LOCAL_AWS_PENDING_END_STATE, else 'removed'.
     */
    pendingAfterRotation?: PendingEndState;
    /**
     * Requests per second per operation, or 'documented' for AWS's published quotas; above it,
     * ThrottlingException. Counted on the local clock, so never machine-speed dependent.
     * Default: no limits.
     */
    throttle?: Partial<Record<SecretsManagerOperation, number>> | 'documented';
    /**
     * ListSecrets' eventual consistency (short, empty and incomplete pages), seeded. Default:
     * on with seed LOCAL_AWS_LIST_CONSISTENCY_SEED when that is set, else off.
     */
    listConsistency?: ListConsistency;
  };
  /** How long (local clock) STS refuses a new or changed access key. Default 0. */
  iamConsistencyDelayMs?: number;
  /** dynalite's table state delays (ms); default 0, so tables are ACTIVE at once. */
  dynamoTableMs?: number;
  /**
   * The endpoint this local AWS is reached at when another one hands it its requests (a session of
   * the control API, control.ts): what `clientConfig` and `env` name. Default its own.
   */
  publicEndpoint?: string;
}

/**
 * A control route beyond the built-in ones (control.ts adds the session API): answers
 * `{status, body}` for a route it serves, undefined for one it does not.
 */
export type ControlHandler = (request: {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}) => Promise<{ status: number; body: unknown } | undefined>;

export interface LocalAws {
  /** `http://127.0.0.1:<port>`: the value for AWS_ENDPOINT_URL. */
  endpoint: string;
  region: string;
  accountId: string;
  clock: LocalClock;
  secretsManager: SecretsManagerEmulator;
  sns: SnsEmulator;
  /** S3 (path-style REST): buckets, versions and Object Lock on the local clock. */
  s3: S3Emulator;
  /** IAM users and access keys, and STS GetCallerIdentity. */
  iam: IamEmulator;
  functions: FunctionRegistry;
  /** The Lambda service: functions deployed with CreateFunction, and their logs. */
  lambda: LambdaEmulator;
  events: EventBus;
  /** Every signed request, by the IAM action it needs and the key that signed it. */
  apiCalls: ApiCallLog;
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
  /** Answers one signed AWS request as this endpoint would (for an endpoint that delegates here). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /**
   * While set, this endpoint hands every signed request (still counted in its request log) and the
   * clock routes to `to`: a session of the control API (control.ts). Undefined restores its own.
   */
  delegate(to: LocalAws | undefined): void;
  /** Adds control routes under /_local/ (control.ts). */
  addControl(handler: ControlHandler): void;
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
  const credentials = {
    accessKeyId: 'AKIALOCALAWS00000000',
    secretAccessKey: 'local-aws-secret-access-key',
  };
  const emulators = createEmulators(options, { region, accountId, clock, credentials });
  const { functions, events, lambda, secretsManager, sns, s3, iam, dynamo } = emulators;
  const services = new Map<string, ServiceHandler>([
    ['secretsmanager', secretsManager.handle],
    ['sns', sns.handle],
    ['s3', s3.handle],
    ['dynamodb', dynamoWithTransactions(dynamo)],
    ['lambda', lambda.handle],
    ['logs', logsService({ functions, lambda })],
    ['iam', iam.handleIam],
    ['sts', iam.handleSts],
  ]);
  const apiCalls = new ApiCallLog();
  const routing: Routing = { services, clock, apiCalls, controls: [] };
  const server = createEndpoint(routing);
  const endpoint = options.publicEndpoint ?? (await listen(server, options.port ?? 0));

  const aws: LocalAws = {
    endpoint,
    region,
    accountId,
    clock,
    secretsManager,
    sns,
    s3,
    iam,
    functions,
    lambda,
    events,
    apiCalls,
    clientConfig: { region, endpoint, credentials },
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    addService: (service, handler) => void services.set(service, handler),
    handle: (req, res) => routeToService(req, res, services, apiCalls),
    delegate: (to) => {
      routing.delegate = to;
    },
    addControl: (handler) => void routing.controls.push(handler),
    idle: async () => {
      await secretsManager.idle();
      await lambda.idle();
      await events.idle();
    },
    stop: async () => {
      await secretsManager.idle();
      await lambda.stop();
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return aws;
}

interface Account {
  region: string;
  accountId: string;
  clock: LocalClock;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** Every service's emulator, wired to the others it needs, all on one clock. */
function createEmulators(
  options: LocalAwsOptions,
  { region, accountId, clock, credentials }: Account,
) {
  const functions = new FunctionRegistry(region, accountId, clock);
  const events = new EventBus();
  // Functions run in worker threads and reach this endpoint with the credentials a role would give.
  // Roles live in the local IAM; Lambda asks it whether an execution role exists.
  let iamRef: IamEmulator | undefined;
  const lambda = new LambdaEmulator({
    region,
    accountId,
    clock,
    credentials,
    roleExists: (arn) => iamRef?.roleExists(arn) ?? false,
  });
  const secretsManager = new SecretsManagerEmulator({
    region,
    accountId,
    clock,
    functions,
    events,
    lambda,
    pendingAfterRotation: pendingEndStateFromEnv(),
    listConsistency: listConsistencyFromEnv(),
    ...options.secretsManager,
  });
  const sns = new SnsEmulator({ region, accountId, clock });
  const s3 = new S3Emulator({ region, clock });
  const iam = new IamEmulator({
    accountId,
    clock,
    trustedKeys: [credentials.accessKeyId],
    consistencyDelayMs: options.iamConsistencyDelayMs ?? 0,
  });
  iamRef = iam;
  // dynalite is handed our requests directly: no second port, nothing to proxy.
  const tableMs = options.dynamoTableMs ?? 0;
  const dynamo = dynalite({
    createTableMs: tableMs,
    deleteTableMs: tableMs,
    updateTableMs: tableMs,
  });
  return { functions, events, lambda, secretsManager, sns, s3, iam, dynamo };
}

/** Every request the endpoint answers, by service: a suite pointed here can prove it ran here. */
interface RequestLog {
  total: number;
  byService: Record<string, number>;
}

/** What the endpoint routes to: its own services and clock, or a delegate's; its control routes. */
interface Routing {
  services: Map<string, ServiceHandler>;
  clock: LocalClock;
  apiCalls: ApiCallLog;
  delegate?: LocalAws;
  controls: ControlHandler[];
}

/** The one endpoint: routes each signed request to its service, unsigned /_local/ ones to control. */
function createEndpoint(routing: Routing): Server {
  const requests: RequestLog = { total: 0, byService: {} };
  return createServer((req, res) => {
    if (req.url?.startsWith('/_local/') && !req.headers.authorization) {
      void control(req, res, requests, routing);
      return;
    }
    const caller = callerOf(req);
    requests.total++;
    const service = caller?.service ?? 'unknown';
    requests.byService[service] = (requests.byService[service] ?? 0) + 1;
    if (routing.delegate) return routing.delegate.handle(req, res);
    routeToService(req, res, routing.services, routing.apiCalls);
  });
}

/** Hands a signed request to the service in its credential scope, logging the IAM action it needs. */
function routeToService(
  req: IncomingMessage,
  res: ServerResponse,
  services: Map<string, ServiceHandler>,
  apiCalls: ApiCallLog,
): void {
  const caller = callerOf(req);
  const handler = caller && services.get(caller.service);
  if (!handler) {
    unknownService(req, res, caller, services);
    return;
  }
  Promise.resolve(apiCalls.record(req, caller))
    .then(() => handler(req, res, caller))
    .catch((error: unknown) => {
      if (!res.headersSent) sendJsonError(res, new AwsError('InternalFailure', String(error), 500));
    });
}

function unknownService(
  req: IncomingMessage,
  res: ServerResponse,
  caller: Caller | undefined,
  services: Map<string, ServiceHandler>,
): void {
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
}

/**
 * The local AWS's own control API, beside the AWS one (unsigned requests under /_local/):
 *   GET  /_local/requests        {"total": n, "byService": {...}}: the request log's counts
 *   GET  /_local/clock           {"now": ISO}
 *   POST /_local/clock/advance   {"ms": n}: moves the local clock, running what falls due
 * (the clock of the session the endpoint delegates to, when one is open), and whatever
 * `addControl` adds (control.ts: sessions). No AWS endpoint has these; a suite that needs them
 * skips there, naming them.
 */
async function control(
  req: IncomingMessage,
  res: ServerResponse,
  requests: RequestLog,
  routing: Routing,
): Promise<void> {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  try {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://local-aws');
    const route = `${req.method} ${url.pathname}`;
    const clock = routing.delegate?.clock ?? routing.clock;
    if (route === 'GET /_local/requests') return reply(200, requests);
    if (route === 'GET /_local/clock') return reply(200, { now: clock.now().toISOString() });
    if (route === 'POST /_local/clock/advance') {
      const ms = Number(JSON.parse(body || '{}').ms);
      if (!(ms >= 0)) return reply(400, { message: `expected {"ms": <n ≥ 0>}, found ${body}` });
      await clock.advance(ms);
      return reply(200, { now: clock.now().toISOString() });
    }
    for (const handler of routing.controls) {
      const out = await handler({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        body,
      });
      if (out) return reply(out.status, out.body);
    }
    reply(404, { message: `the local AWS has no control route ${route}` });
  } catch (error) {
    reply(500, { message: String(error) });
  }
}

/** Listens on loopback; the endpoint URL. */
async function listen(server: Server, port: number): Promise<string> {
  // Connections are kept alive, as AWS's endpoints keep them: a Node.js client does not reuse a
  // socket whose server announces `Keep-Alive: timeout=1` (it keeps it for the timeout less one
  // second), so a one-second timeout cost every request a new TCP connection. stop() closes the
  // idle ones (closeAllConnections), so they do not hold it open.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/**
 * The AWSPENDING end state a whole test run uses unless a test picks one, so the rotation and
 * sweep suites run under both: LOCAL_AWS_PENDING_END_STATE=kept|removed.
 */
function pendingEndStateFromEnv(): PendingEndState {
  const chosen = process.env.LOCAL_AWS_PENDING_END_STATE ?? 'removed';
  if (chosen !== 'removed' && chosen !== 'kept') {
    throw new Error(`LOCAL_AWS_PENDING_END_STATE must be 'removed' or 'kept', found "${chosen}"`);
  }
  return chosen;
}

/** LOCAL_AWS_LIST_CONSISTENCY_SEED=<integer> runs a whole test run with eventually consistent ListSecrets. */
function listConsistencyFromEnv(): ListConsistency | undefined {
  const seed = process.env.LOCAL_AWS_LIST_CONSISTENCY_SEED;
  if (seed === undefined || seed === '') return undefined;
  if (!/^\d+$/.test(seed)) {
    throw new Error(`LOCAL_AWS_LIST_CONSISTENCY_SEED must be a whole number, found "${seed}"`);
  }
  return { seed: Number(seed) };
}
