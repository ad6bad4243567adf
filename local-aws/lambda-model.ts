// The local Lambda's data model: a function, its execution environments and resource-based
// policy, the options, and the checks CreateFunction and UpdateFunctionConfiguration apply to
// their input, with Lambda's own error wording.
import type { Worker } from 'node:worker_threads';
import type { LocalClock } from './clock.ts';
import { AwsError } from './wire.ts';

/** Runtimes whose handlers run here, on this process's Node.js. */
export const NODE_RUNTIMES = ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x'];
export const NAME = /^[a-zA-Z0-9-_]{1,64}$/;
export const ARN =
  /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]{1,64})(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
export const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
/** Set by Lambda itself: "You can't set these reserved environment variables." */
export const RESERVED = [
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
export const TAIL_BYTES = 4096;
/** Invoke: "6 MB each for request and response" (synchronous). */
export const MAX_PAYLOAD = 6 * 1024 * 1024;

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
export interface PolicyStatement {
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

export interface Environment {
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

export interface LocalFunction {
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

export const invalid = (message: string) => new AwsError('InvalidParameterValueException', message);

export function validTimeout(value: unknown): number {
  if (value === undefined) return 3;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 900) {
    throw invalid(
      `1 validation error detected: Value '${value}' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900`,
    );
  }
  return value as number;
}

export function validMemory(value: unknown): number {
  if (value === undefined) return 128;
  if (!Number.isInteger(value) || (value as number) < 128 || (value as number) > 10240) {
    throw invalid(
      `1 validation error detected: Value '${value}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240`,
    );
  }
  return value as number;
}

export function validVariables(environment: unknown): Record<string, string> {
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

/** A function's configuration, as GetFunctionConfiguration answers it. */
export function configuration(fn: LocalFunction) {
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
