// In-process stand-ins for Lambda functions: Secrets Manager's RotateSecret (and later the
// Lambda emulator) invokes whatever handler is registered under the function's ARN. What a
// handler writes while it runs is filed under its function, as Lambda sends it to the function's
// log group (read back through CloudWatch Logs: logs.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { LogLine } from './lambda-model.ts';
import { AwsError } from './wire.ts';

// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own event type (a rotation event, a revoke request).
export type FunctionHandler = (event: any, context: Context) => Promise<unknown>;

/** The log of the registered function whose invocation this code runs in, if any. */
const running = new AsyncLocalStorage<(text: string) => void>();
/** Our wrappers of the streams' writes (by identity: a spy may copy a function's properties). */
const ours = new WeakSet<object>();
/** A write being passed on: a wrapper of ours further down must not file it again. */
let passing = false;

/**
 * Files every write to stdout and stderr made inside an invocation under its function, and passes
 * it on as before. The endpoint's sessions share it through `running`. Checked at every invoke,
 * not once per process: code that saved a stream's write and put it back later (a test that
 * collected output) may have dropped our wrapper; a wrapper of ours still further down then sees
 * `passing` and leaves the line to the new one.
 */
function fileWritesOfInvocations(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (ours.has(stream.write)) continue;
    const write = stream.write;
    const filed = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      if (!passing) {
        running.getStore()?.(
          typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'),
        );
      }
      const outer = passing;
      passing = true;
      try {
        return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      } finally {
        passing = outer;
      }
    };
    ours.add(filed);
    stream.write = filed as typeof stream.write;
  }
}

export class FunctionRegistry {
  private readonly handlers = new Map<string, FunctionHandler>();
  private readonly logs = new Map<string, LogLine[]>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
    private readonly clock: { now(): Date } = { now: () => new Date() },
  ) {}

  /** Every line a registered function has written, oldest first (its CloudWatch log group). */
  logsOf(nameOrArn: string): LogLine[] {
    return [...(this.logs.get(this.arnOf(nameOrArn)) ?? [])];
  }

  /** The ARN a function of this name has on the local AWS. */
  arnOf(nameOrArn: string): string {
    if (nameOrArn.startsWith('arn:')) return nameOrArn.replace(/:(\$LATEST|\d+)$/, '');
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${nameOrArn}`;
  }

  /** Registers `handler` under a function name or ARN; returns the function's ARN. */
  register(nameOrArn: string, handler: FunctionHandler): string {
    const arn = this.arnOf(nameOrArn);
    this.handlers.set(arn, handler);
    return arn;
  }

  unregister(nameOrArn: string): void {
    this.handlers.delete(this.arnOf(nameOrArn));
  }

  has(nameOrArn: string): boolean {
    return this.handlers.has(this.arnOf(nameOrArn));
  }

  /** Invokes synchronously (RequestResponse), as Secrets Manager invokes a rotation function. */
  async invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    const arn = this.arnOf(nameOrArn);
    const handler = this.handlers.get(arn);
    if (!handler) {
      throw new AwsError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
    }
    fileWritesOfInvocations();
    const context = lambdaContext(arn);
    const log = this.logs.get(arn) ?? [];
    this.logs.set(arn, log);
    const file = (text: string) => {
      for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
        log.push({ at: this.clock.now(), requestId: context.awsRequestId, text: line });
      }
    };
    return running.run(file, () => handler(structuredClone(event), context));
  }
}

/**
 * Enough of a Lambda context for Powertools and friends: names, request ID, remaining time (of
 * `timeoutMs`, 30 s unless said).
 */
export function lambdaContext(
  arn: string,
  requestId: string = randomUUID(),
  timeoutMs = 30_000,
): Context {
  const functionName = arn.split(':').at(6) ?? 'function';
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: arn,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
