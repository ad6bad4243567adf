// An in-memory Lambda speaking the REST-JSON protocol of @aws-sdk/client-lambda, so a test can
// deploy a real bundled handler with CreateFunction and have Secrets Manager invoke it by ARN.
// Each execution environment is a worker thread with its own process.env, one invocation at a
// time, as on Lambda; the timeout is enforced and every log line is kept, as CloudWatch Logs would.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LocalClock } from './clock.ts';
import { AwsError, type Caller } from './wire.ts';
import { readZip, ZipError } from './zip.ts';

/** Runtimes whose handlers run here, on this process's Node.js. */
const NODE_RUNTIMES = ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x'];
const NAME = /^[a-zA-Z0-9-_]{1,64}$/;
const ARN =
  /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]{1,64})(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
/** Set by Lambda itself: "You can't set these reserved environment variables." */
const RESERVED = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];
/** Invoke's LogType=Tail returns "the last 4 KB of the execution log". */
const TAIL_BYTES = 4096;
/** Invoke: "6 MB each for request and response" (synchronous). */
const MAX_PAYLOAD = 6 * 1024 * 1024;

// The runtime interface inside each worker: loads the handler module once (the cold start),
// then runs one event per message. stdout/stderr go through the same port as the results, so
// an invocation's log lines arrive before its result and are filed under it.
const RUNTIME = `
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
for (const name of ['stdout', 'stderr']) {
  process[name].write = (chunk, encoding, done) => {
    parentPort.postMessage({ type: 'log', text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
    (typeof encoding === 'function' ? encoding : done)?.();
    return true;
  };
}
const { taskRoot, handler } = workerData;
let loaded;
async function load() {
  const dot = handler.lastIndexOf('.');
  const file = handler.slice(0, dot);
  const name = handler.slice(dot + 1);
  const found = ['.mjs', '.js', '.cjs'].map((ext) => join(taskRoot, file + ext)).find((p) => existsSync(p));
  if (dot < 1 || !found) {
    throw Object.assign(new Error("Cannot find module '" + file + "'"), { name: 'Runtime.ImportModuleError' });
  }
  const module = await import(pathToFileURL(found).href);
  const fn = module[name] ?? module.default?.[name];
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(file + '.' + name + ' is undefined or not exported'), { name: 'Runtime.HandlerNotFound' });
  }
  return fn;
}
parentPort.on('message', async ({ requestId, event, timeoutMs, context }) => {
  try {
    loaded ??= load();
    const fn = await loaded;
    // The init phase (loading the module) is over: the invoke phase, which the timeout limits, starts.
    const deadline = Date.now() + timeoutMs;
    parentPort.postMessage({ type: 'invoke' });
    const result = await fn(JSON.parse(event), {
      ...context,
      awsRequestId: requestId,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done() {}, fail() {}, succeed() {},
    });
    parentPort.postMessage({ type: 'result', payload: JSON.stringify(result ?? null) });
  } catch (error) {
    const report = {
      errorType: error?.name ?? typeof error,
      errorMessage: error?.message ?? String(error),
      trace: String(error?.stack ?? '').split('\\n'),
    };
    // As the Node.js runtime does: the error goes to the log too.
    console.error(new Date().toISOString() + '\\t' + requestId + '\\tERROR\\tInvoke Error \\t' + JSON.stringify(report));
    parentPort.postMessage({ type: 'error', report });
  }
});
`;

export interface LambdaOptions {
  region: string;
  accountId: string;
  clock: LocalClock;
  /** What a function's role would give it: credentials for the local endpoint. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Whether an execution role exists (the local IAM); CreateFunction refuses one that does not. */
  roleExists?: (roleArn: string) => boolean;
}

/** One statement of a function's resource-based policy, as AddPermission adds it. */
interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Principal: { Service: string } | { AWS: string };
  Action: string;
  Resource: string;
  Condition?: Record<string, Record<string, string>>;
}

/** One line a function wrote, with the request it belongs to (none: between invocations). */
export interface LogLine {
  at: Date;
  requestId?: string;
  text: string;
}

/** What Invoke returns: the handler's result, or Lambda's error document and FunctionError. */
export interface Invocation {
  requestId: string;
  payload: string;
  functionError?: 'Unhandled';
  /** This invocation's log lines. */
  log: string[];
}

interface Environment {
  worker: Worker;
  busy: boolean;
  /** Set when the configuration changed: finish the current invocation, then retire. */
  stale: boolean;
  /** The invocation in progress. */
  current?: {
    requestId: string;
    log: string[];
    settle(outcome: { payload: string; functionError?: 'Unhandled' }): void;
    /** Starts the timeout: the handler has been loaded and is being called. */
    invoked(): void;
  };
}

interface LocalFunction {
  /** The resource-based policy: who else may invoke it (AddPermission). */
  policy: PolicyStatement[];
  name: string;
  arn: string;
  runtime: string;
  handler: string;
  role: string;
  description: string;
  timeout: number;
  memorySize: number;
  variables: Record<string, string>;
  dir: string;
  codeSha256: string;
  codeSize: number;
  lastModified: Date;
  revisionId: string;
  environments: Environment[];
  logs: LogLine[];
}

const invalid = (message: string) => new AwsError('InvalidParameterValueException', message);

export class LambdaEmulator {
  private readonly functions = new Map<string, LocalFunction>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: LambdaOptions) {}

  /** The ARN of a function name, ARN or partial ARN (without qualifier). */
  arnOf(nameOrArn: string): string {
    const match = ARN.exec(nameOrArn);
    const name = match ? match[3]! : nameOrArn.split(':').at(-1)!;
    return `arn:aws:lambda:${this.options.region}:${this.options.accountId}:function:${name}`;
  }

  has(nameOrArn: string): boolean {
    return this.functions.has(this.nameOf(nameOrArn));
  }

  /** Every line a function has written, oldest first (its CloudWatch log group). */
  logsOf(nameOrArn: string): LogLine[] {
    return [...(this.functions.get(this.nameOf(nameOrArn))?.logs ?? [])];
  }

  /**
   * Invokes synchronously, as Secrets Manager invokes a rotation function: resolves to the
   * result, throws the function's error (its errorMessage) when the handler failed.
   */
  async invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    const fn = this.fn(nameOrArn);
    const outcome = await this.run(fn, JSON.stringify(event ?? null));
    const payload = JSON.parse(outcome.payload);
    if (outcome.functionError) {
      const error = new Error(payload?.errorMessage ?? 'Unhandled');
      error.name = payload?.errorType ?? 'Error';
      throw error;
    }
    return payload;
  }

  /** Waits for asynchronous (Event) invocations in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops every execution environment and removes the unpacked code. */
  async stop(): Promise<void> {
    await this.idle();
    for (const fn of this.functions.values()) await this.remove(fn);
    this.functions.clear();
  }

  readonly handle = async (req: IncomingMessage, res: ServerResponse, _caller?: Caller) => {
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      const body = await readBytes(req);
      const path = url.pathname.split('/').map(decodeURIComponent);
      // ['', '2015-03-31', 'functions', name?, sub?]
      const policyStatement = path.length === 6 && path[4] === 'policy';
      if (
        path[1] !== '2015-03-31' ||
        path[2] !== 'functions' ||
        (path.length > 5 && !policyStatement)
      ) {
        throw new AwsError(
          'UnknownOperationException',
          `The local Lambda does not serve ${req.method} ${url.pathname}.`,
          404,
        );
      }
      const [name, sub] = [path[3], path[4]];
      const route = `${req.method} ${name === undefined ? '' : '{name}'}${sub ? `/${sub}` : ''}`;
      const json = () => parseJson(body);
      switch (route) {
        case 'POST ':
          return sendRest(res, 201, this.createFunction(json()));
        case 'GET {name}':
          return sendRest(res, 200, this.getFunction(name!));
        case 'GET {name}/configuration':
          return sendRest(res, 200, this.configuration(this.fn(name!)));
        case 'DELETE {name}':
          await this.deleteFunction(name!);
          res.writeHead(204, { 'x-amzn-requestid': randomUUID() });
          res.end();
          return;
        case 'PUT {name}/configuration':
          return sendRest(res, 200, this.updateConfiguration(name!, json()));
        case 'POST {name}/policy':
          return sendRest(res, 201, this.addPermission(name!, json()));
        case 'GET {name}/policy':
          return sendRest(res, 200, this.getPolicy(name!));
        case 'DELETE {name}/policy':
          if (!policyStatement) break;
          this.removePermission(name!, path[5]!);
          res.writeHead(204, { 'x-amzn-requestid': randomUUID() });
          res.end();
          return;
        case 'POST {name}/invocations':
          return await this.invokeRequest(name!, url, req, body, res);
        default:
          throw new AwsError(
            'UnknownOperationException',
            `The local Lambda does not serve ${req.method} ${url.pathname}.`,
            404,
          );
      }
    } catch (error) {
      const aws =
        error instanceof AwsError
          ? error
          : new AwsError(
              'ServiceException',
              error instanceof Error ? error.message : String(error),
              500,
            );
      sendRestError(res, aws);
    }
  };

  /**
   * Whether the function's resource-based policy lets `service` (a service principal such as
   * secretsmanager.amazonaws.com) invoke it for `sourceArn`. Lambda developer guide,
   * access-control-resource-based.html: another service invokes a function only through such a
   * statement; its AWS:SourceArn condition, when present, must match the resource acting.
   */
  allows(nameOrArn: string, service: string, sourceArn?: string): boolean {
    const fn = this.functions.get(this.nameOf(nameOrArn));
    if (!fn) return false;
    return fn.policy.some((st) => {
      if (!('Service' in st.Principal) || st.Principal.Service !== service) return false;
      if (st.Action !== 'lambda:InvokeFunction' && st.Action !== 'lambda:*') return false;
      const pattern = st.Condition?.ArnLike?.['AWS:SourceArn'];
      if (pattern === undefined) return true;
      if (sourceArn === undefined) return false;
      const glob = new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
      return glob.test(sourceArn);
    });
  }

  // ---- operations ----

  /** AddPermission: one statement of the function's resource-based policy. */
  private addPermission(name: string, input: Record<string, unknown>) {
    const fn = this.fn(name);
    const sid = String(input.StatementId ?? '');
    const action = String(input.Action ?? '');
    const principal = String(input.Principal ?? '');
    if (!sid || !action || !principal) {
      throw invalid('StatementId, Action and Principal are required.');
    }
    if (fn.policy.some((st) => st.Sid === sid)) {
      throw new AwsError(
        'ResourceConflictException',
        `The statement id (${sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
        409,
      );
    }
    const statement: PolicyStatement = {
      Sid: sid,
      Effect: 'Allow',
      Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
      Action: action,
      Resource: fn.arn,
      ...(typeof input.SourceArn === 'string' && {
        Condition: { ArnLike: { 'AWS:SourceArn': input.SourceArn } },
      }),
    };
    fn.policy.push(statement);
    return { Statement: JSON.stringify(statement) };
  }

  private getPolicy(name: string) {
    const fn = this.fn(name);
    if (fn.policy.length === 0) {
      throw new AwsError(
        'ResourceNotFoundException',
        'The resource you requested does not exist.',
        404,
      );
    }
    return {
      Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: fn.policy }),
      RevisionId: fn.revisionId,
    };
  }

  private removePermission(name: string, sid: string): void {
    const fn = this.fn(name);
    const at = fn.policy.findIndex((st) => st.Sid === sid);
    if (at < 0) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Statement ${sid} is not found in resource policy.`,
        404,
      );
    }
    fn.policy.splice(at, 1);
  }

  private createFunction(input: Record<string, unknown>) {
    const name = String(input.FunctionName ?? '');
    if (!NAME.test(name)) {
      throw invalid(
        `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ (1 to 64 characters)`,
      );
    }
    if (this.functions.has(name)) {
      throw new AwsError('ResourceConflictException', `Function already exist: ${name}`, 409);
    }
    const runtime = String(input.Runtime ?? '');
    if (!NODE_RUNTIMES.includes(runtime)) {
      throw invalid(
        `The runtime parameter of ${runtime || 'null'} is not supported by the local Lambda; it runs ${NODE_RUNTIMES.join(', ')} handlers on this process's Node.js.`,
      );
    }
    const role = String(input.Role ?? '');
    if (!ROLE.test(role)) {
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`,
      );
    }
    // "The role defined for the function cannot be assumed by Lambda" is what CreateFunction
    // answers for a role that does not exist (or does not trust lambda.amazonaws.com), Lambda
    // developer guide, lambda-intro-execution-role.html.
    if (this.options.roleExists && !this.options.roleExists(role)) {
      throw invalid('The role defined for the function cannot be assumed by Lambda.');
    }
    const handler = String(input.Handler ?? '');
    if (!/^[^\s]+\.[^\s.]+$/.test(handler)) {
      throw invalid(
        `The handler "${handler}" is not valid: expected <file>.<export>, such as index.handler.`,
      );
    }
    const code = (input.Code ?? {}) as { ZipFile?: string };
    if (typeof code.ZipFile !== 'string') {
      throw invalid('The local Lambda takes code as Code.ZipFile only (no S3 or image).');
    }
    const zip = Buffer.from(code.ZipFile, 'base64');
    let files: Map<string, Buffer>;
    try {
      files = readZip(zip);
    } catch (error) {
      if (!(error instanceof ZipError)) throw error;
      throw invalid(
        `Could not unzip uploaded file. Please check your file, then try to upload again. (${error.message})`,
      );
    }
    const dir = mkdtempSync(join(tmpdir(), `local-lambda-${name}-`));
    writeFileSync(join(dir, 'runtime.mjs'), RUNTIME);
    for (const [path, content] of files) {
      const target = join(dir, 'task', path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    mkdirSync(join(dir, 'task'), { recursive: true });
    const fn: LocalFunction = {
      policy: [],
      name,
      arn: this.arnOf(name),
      runtime,
      handler,
      role,
      description: String(input.Description ?? ''),
      timeout: this.timeout(input.Timeout),
      memorySize: this.memory(input.MemorySize),
      variables: this.variables(input.Environment),
      dir,
      codeSha256: createHash('sha256').update(zip).digest('base64'),
      codeSize: zip.length,
      lastModified: this.options.clock.now(),
      revisionId: randomUUID(),
      environments: [],
      logs: [],
    };
    this.functions.set(name, fn);
    return this.configuration(fn);
  }

  private getFunction(name: string) {
    const fn = this.fn(name);
    return {
      Configuration: this.configuration(fn),
      Code: { RepositoryType: 'S3', Location: `file://${join(fn.dir, 'task')}` },
    };
  }

  private async deleteFunction(name: string) {
    const fn = this.fn(name);
    this.functions.delete(fn.name);
    await this.remove(fn);
  }

  private updateConfiguration(name: string, input: Record<string, unknown>) {
    const fn = this.fn(name);
    if (input.Timeout !== undefined) fn.timeout = this.timeout(input.Timeout);
    if (input.MemorySize !== undefined) fn.memorySize = this.memory(input.MemorySize);
    if (input.Environment !== undefined) fn.variables = this.variables(input.Environment);
    if (typeof input.Handler === 'string') fn.handler = input.Handler;
    if (typeof input.Description === 'string') fn.description = input.Description;
    fn.lastModified = this.options.clock.now();
    fn.revisionId = randomUUID();
    // New configuration, new execution environments: running invocations finish on the old ones.
    for (const env of fn.environments) {
      env.stale = true;
      if (!env.busy) void this.retire(fn, env);
    }
    return this.configuration(fn);
  }

  private async invokeRequest(
    name: string,
    url: URL,
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
  ) {
    const qualifier = url.searchParams.get('Qualifier');
    const fn = this.fn(qualifier ? `${name}:${qualifier}` : name);
    if (qualifier && qualifier !== '$LATEST') {
      throw new AwsError(
        'ResourceNotFoundException',
        `Function not found: ${fn.arn}:${qualifier}`,
        404,
      );
    }
    if (body.length > MAX_PAYLOAD) {
      throw new AwsError(
        'RequestTooLargeException',
        'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
        413,
      );
    }
    const event = body.length === 0 ? 'null' : body.toString('utf8');
    try {
      JSON.parse(event);
    } catch {
      throw new AwsError(
        'InvalidRequestContentException',
        'Could not parse request body into json: the payload is not valid JSON',
        400,
      );
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (type === 'DryRun') {
      res.writeHead(204, { 'x-amzn-requestid': randomUUID() });
      res.end();
      return;
    }
    if (type === 'Event') {
      // Queued: the caller hears 202 at once; errors stay in the function's log.
      const work = this.run(fn, event).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
      res.writeHead(202, { 'x-amzn-requestid': randomUUID() });
      res.end();
      return;
    }
    if (type !== 'RequestResponse') {
      throw invalid(`Invalid invocation type: ${type}; expected RequestResponse, Event or DryRun.`);
    }
    const outcome = await this.run(fn, event);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'x-amzn-requestid': outcome.requestId,
      'x-amz-executed-version': '$LATEST',
    };
    if (outcome.functionError) headers['x-amz-function-error'] = outcome.functionError;
    if (req.headers['x-amz-log-type'] === 'Tail') {
      const log = Buffer.from(outcome.log.join(''), 'utf8');
      headers['x-amz-log-result'] = log
        .subarray(Math.max(0, log.length - TAIL_BYTES))
        .toString('base64');
    }
    const payload = Buffer.from(outcome.payload, 'utf8');
    headers['content-length'] = payload.length;
    res.writeHead(200, headers);
    res.end(payload);
  }

  // ---- execution environments ----

  /** Runs one event on an idle environment of `fn`, starting one (a cold start) when none is idle. */
  private async run(fn: LocalFunction, event: string): Promise<Invocation> {
    const env = fn.environments.find((e) => !e.busy && !e.stale) ?? this.start(fn);
    const requestId = randomUUID();
    const log: string[] = [];
    env.busy = true;
    const write = (text: string) => {
      log.push(text);
      fn.logs.push({ at: this.options.clock.now(), requestId, text });
    };
    write(`START RequestId: ${requestId} Version: $LATEST\n`);
    const started = performance.now();
    const outcome = await new Promise<{ payload: string; functionError?: 'Unhandled' }>(
      (resolve) => {
        // Lambda's timeout limits the invoke phase; loading the module is the init phase, with a
        // limit of its own (Lambda developer guide, lambda-runtime-environment.html), so a cold
        // start on a slow machine does not eat into the function's timeout.
        let timer: NodeJS.Timeout | undefined;
        const startTimer = () => {
          timer ??= setTimeout(() => {
            const message = `RequestId: ${requestId} Error: Task timed out after ${fn.timeout.toFixed(2)} seconds`;
            write(`${new Date().toISOString()} ${message}\n`);
            resolve({
              payload: JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: message }),
              functionError: 'Unhandled',
            });
            // A timed-out environment is not reused: whatever it was doing is cut off.
            env.stale = true;
            void this.retire(fn, env);
          }, fn.timeout * 1000);
        };
        const settle = (result: { payload: string; functionError?: 'Unhandled' }) => {
          clearTimeout(timer);
          resolve(result);
        };
        env.current = { requestId, log, settle, invoked: startTimer };
        env.worker.postMessage({
          requestId,
          event,
          timeoutMs: fn.timeout * 1000,
          context: {
            functionName: fn.name,
            functionVersion: '$LATEST',
            invokedFunctionArn: fn.arn,
            memoryLimitInMB: String(fn.memorySize),
            logGroupName: `/aws/lambda/${fn.name}`,
            logStreamName: `${fn.name}/${env.worker.threadId}`,
          },
        });
      },
    );
    env.current = undefined;
    env.busy = false;
    const ms = performance.now() - started;
    write(`END RequestId: ${requestId}\n`);
    write(
      `REPORT RequestId: ${requestId}\tDuration: ${ms.toFixed(2)} ms\tMemory Size: ${fn.memorySize} MB\n`,
    );
    if (env.stale) void this.retire(fn, env);
    return { requestId, ...outcome, log };
  }

  private start(fn: LocalFunction): Environment {
    const { region } = this.options;
    const worker = new Worker(join(fn.dir, 'runtime.mjs'), {
      workerData: { taskRoot: join(fn.dir, 'task'), handler: fn.handler },
      // Only what Lambda gives a function: its own variables and the runtime's, never the host's.
      env: {
        ...fn.variables,
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        TZ: ':UTC',
        LANG: 'en_US.UTF-8',
        _HANDLER: fn.handler,
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: 'local',
        AWS_ACCESS_KEY_ID: this.options.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: this.options.credentials.secretAccessKey,
        LAMBDA_TASK_ROOT: join(fn.dir, 'task'),
      },
      execArgv: [],
      stdout: true,
      stderr: true,
    });
    const env: Environment = { worker, busy: false, stale: false };
    const capture = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      env.current?.log.push(text);
      fn.logs.push({ at: this.options.clock.now(), requestId: env.current?.requestId, text });
    };
    worker.stdout.on('data', capture);
    worker.stderr.on('data', capture);
    worker.on(
      'message',
      (message: { type: string; text?: string; payload?: string; report?: unknown }) => {
        if (message.type === 'log') {
          capture(Buffer.from(message.text ?? ''));
        } else if (message.type === 'invoke') {
          env.current?.invoked();
        } else if (message.type === 'result') {
          env.current?.settle({ payload: message.payload ?? 'null' });
        } else if (message.type === 'error') {
          env.current?.settle({
            payload: JSON.stringify(message.report),
            functionError: 'Unhandled',
          });
        }
      },
    );
    // A crash of the environment itself (process.exit, an uncaught exception in a timer).
    const crashed = (reason: string) => {
      env.stale = true;
      fn.environments = fn.environments.filter((e) => e !== env);
      env.current?.settle({
        payload: JSON.stringify({
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${env.current.requestId} Error: ${reason}`,
        }),
        functionError: 'Unhandled',
      });
    };
    worker.on('error', (error) => crashed(`Runtime exited with error: ${error.message}`));
    worker.on('exit', (code) => crashed(`Runtime exited with error: exit status ${code}`));
    fn.environments.push(env);
    return env;
  }

  private async retire(fn: LocalFunction, env: Environment): Promise<void> {
    fn.environments = fn.environments.filter((e) => e !== env);
    await env.worker.terminate();
  }

  private async remove(fn: LocalFunction): Promise<void> {
    await Promise.all(fn.environments.map((env) => this.retire(fn, env)));
    rmSync(fn.dir, { recursive: true, force: true });
  }

  // ---- helpers ----

  private nameOf(nameOrArn: string): string {
    const match = ARN.exec(nameOrArn);
    if (match) return match[3]!;
    // Partial ARN: 123456789012:function:name, or name:qualifier.
    const parts = nameOrArn.split(':');
    const at = parts.indexOf('function');
    return at >= 0 ? (parts[at + 1] ?? '') : parts[0]!;
  }

  private fn(nameOrArn: string): LocalFunction {
    const fn = this.functions.get(this.nameOf(nameOrArn));
    if (!fn) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Function not found: ${this.arnOf(nameOrArn)}`,
        404,
      );
    }
    return fn;
  }

  private timeout(value: unknown): number {
    if (value === undefined) return 3;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 900) {
      throw invalid(
        `1 validation error detected: Value '${value}' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900`,
      );
    }
    return value as number;
  }

  private memory(value: unknown): number {
    if (value === undefined) return 128;
    if (!Number.isInteger(value) || (value as number) < 128 || (value as number) > 10240) {
      throw invalid(
        `1 validation error detected: Value '${value}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240`,
      );
    }
    return value as number;
  }

  private variables(environment: unknown): Record<string, string> {
    const variables =
      ((environment ?? {}) as { Variables?: Record<string, unknown> }).Variables ?? {};
    const reserved = Object.keys(variables).filter((key) => RESERVED.includes(key));
    if (reserved.length > 0) {
      throw invalid(
        `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
      );
    }
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(variables)) {
      if (!/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(key)) {
        throw invalid(
          `Environment variable name ${key} is not valid: letters, digits and underscores, starting with a letter.`,
        );
      }
      out[key] = String(value);
    }
    // "The total size of the set of environment variables doesn't exceed 4 KB."
    if (Buffer.byteLength(JSON.stringify(out)) > 4096) {
      throw invalid(
        'Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.',
      );
    }
    return out;
  }

  private configuration(fn: LocalFunction) {
    return {
      FunctionName: fn.name,
      FunctionArn: fn.arn,
      Runtime: fn.runtime,
      Role: fn.role,
      Handler: fn.handler,
      CodeSize: fn.codeSize,
      CodeSha256: fn.codeSha256,
      Description: fn.description,
      Timeout: fn.timeout,
      MemorySize: fn.memorySize,
      LastModified: fn.lastModified.toISOString().replace('Z', '+0000'),
      Version: '$LATEST',
      Environment: { Variables: { ...fn.variables } },
      RevisionId: fn.revisionId,
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      State: 'Active',
      LastUpdateStatus: 'Successful',
    };
  }
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const value = body.length ? JSON.parse(body.toString('utf8')) : {};
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {}
  throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json.');
}

/** REST-JSON: the status the operation defines, a JSON body. */
function sendRest(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

/** REST-JSON errors: the type in `x-amzn-ErrorType`, `{Type, message}` in the body. */
function sendRestError(res: ServerResponse, error: AwsError) {
  const text = JSON.stringify({
    Type: error.fault === 'Sender' ? 'User' : 'Service',
    message: error.message,
  });
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': error.type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}
