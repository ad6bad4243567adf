// An in-memory Lambda speaking the REST-JSON protocol of @aws-sdk/client-lambda, so a test can
// deploy a real bundled handler with CreateFunction and have Secrets Manager invoke it by ARN.
// Each execution environment is a worker thread with its own process.env, one invocation at a
// time, as on Lambda; the timeout is enforced and every log line is kept, as CloudWatch Logs would.
// This module holds the API; the model, the execution environments and the REST-JSON wire each
// have a module of their own.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { forwardInvocation, resultOf } from './lambda-callback.ts';
import {
  ARN,
  configuration,
  invalid,
  type LambdaOptions,
  type LocalFunction,
  type LogLine,
  MAX_PAYLOAD,
  NAME,
  NODE_RUNTIMES,
  type PolicyStatement,
  ROLE,
  TAIL_BYTES,
  validMemory,
  validTimeout,
  validVariables,
} from './lambda-model.ts';
import { parseJson, readBytes, sendRest, sendRestError } from './lambda-rest.ts';
import { install, remove, retire, run } from './lambda-runtime.ts';
import { AwsError, type Caller } from './wire.ts';
import { readZip, ZipError } from './zip.ts';

export type { Invocation, LambdaOptions, LogLine } from './lambda-model.ts';

export class LambdaEmulator {
  private readonly functions = new Map<string, LocalFunction>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Functions whose invocations go to a URL instead of their code (lambda-callback.ts). */
  private readonly callbacks = new Map<string, string>();

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
    return resultOf(await this.execute(this.fn(nameOrArn), JSON.stringify(event ?? null)));
  }

  /**
   * From now on, invocations of the function (Invoke, and Secrets Manager's) go to `url` instead
   * of its code, with its configuration, role and resource policy as they are (lambda-callback.ts).
   */
  forwardTo(nameOrArn: string, url: string): string {
    const fn = this.fn(nameOrArn);
    this.callbacks.set(fn.name, url);
    return fn.arn;
  }

  /** One invocation: the function's code in an execution environment, or its callback. */
  private execute(fn: LocalFunction, event: string) {
    const url = this.callbacks.get(fn.name);
    if (url === undefined) return run(this.options, fn, event);
    return forwardInvocation(url, fn.arn, event, fn.timeout).then((o) => ({ ...o, log: [] }));
  }

  /** Waits for asynchronous (Event) invocations in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops every execution environment and removes the unpacked code. */
  async stop(): Promise<void> {
    await this.idle();
    for (const fn of this.functions.values()) await remove(fn);
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
          return sendRest(res, 200, configuration(this.fn(name!)));
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
    const dir = install(name, files);
    const fn: LocalFunction = {
      policy: [],
      name,
      arn: this.arnOf(name),
      runtime,
      handler,
      role,
      description: String(input.Description ?? ''),
      timeout: validTimeout(input.Timeout),
      memorySize: validMemory(input.MemorySize),
      variables: validVariables(input.Environment),
      dir,
      codeSha256: createHash('sha256').update(zip).digest('base64'),
      codeSize: zip.length,
      lastModified: this.options.clock.now(),
      revisionId: randomUUID(),
      environments: [],
      logs: [],
    };
    this.functions.set(name, fn);
    return configuration(fn);
  }

  private getFunction(name: string) {
    const fn = this.fn(name);
    return {
      Configuration: configuration(fn),
      Code: { RepositoryType: 'S3', Location: `file://${join(fn.dir, 'task')}` },
    };
  }

  private async deleteFunction(name: string) {
    const fn = this.fn(name);
    this.functions.delete(fn.name);
    this.callbacks.delete(fn.name);
    await remove(fn);
  }

  private updateConfiguration(name: string, input: Record<string, unknown>) {
    const fn = this.fn(name);
    if (input.Timeout !== undefined) fn.timeout = validTimeout(input.Timeout);
    if (input.MemorySize !== undefined) fn.memorySize = validMemory(input.MemorySize);
    if (input.Environment !== undefined) fn.variables = validVariables(input.Environment);
    if (typeof input.Handler === 'string') fn.handler = input.Handler;
    if (typeof input.Description === 'string') fn.description = input.Description;
    fn.lastModified = this.options.clock.now();
    fn.revisionId = randomUUID();
    // New configuration, new execution environments: running invocations finish on the old ones.
    for (const env of fn.environments) {
      env.stale = true;
      if (!env.busy) void retire(fn, env);
    }
    return configuration(fn);
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
      const work = this.execute(fn, event).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
      res.writeHead(202, { 'x-amzn-requestid': randomUUID() });
      res.end();
      return;
    }
    if (type !== 'RequestResponse') {
      throw invalid(`Invalid invocation type: ${type}; expected RequestResponse, Event or DryRun.`);
    }
    const outcome = await this.execute(fn, event);
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
}
