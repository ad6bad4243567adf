// In-process stand-ins for Lambda functions: Secrets Manager's RotateSecret (and later the
// Lambda emulator) invokes whatever handler is registered under the function's ARN.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { AwsError } from './wire.ts';

// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own event type (a rotation event, a revoke request).
export type FunctionHandler = (event: any, context: Context) => Promise<unknown>;

export class FunctionRegistry {
  private readonly handlers = new Map<string, FunctionHandler>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

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
    return handler(structuredClone(event), lambdaContext(arn));
  }
}

/** Enough of a Lambda context for Powertools and friends: names, request ID, remaining time. */
function lambdaContext(arn: string): Context {
  const functionName = arn.split(':').at(6) ?? 'function';
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: arn,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
