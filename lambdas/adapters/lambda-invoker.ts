// Invokes custom issuer functions (`lambda:<fn>` kinds) synchronously, with a deadline of our own:
// the SDK's retries cover throttling, the deadline covers a function that never answers.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { IssuerTimeoutError } from '#domain/errors';
import type { FunctionInvoker, InvokeResult } from '#domain/ports';
import { translateAwsError } from './aws-errors.ts';

/** The deployed functions' invoker. Two attempts: throttling only; a mint that may have run is not sent twice by us. */
export const deployedInvoker = (): FunctionInvoker =>
  new LambdaInvoker(new LambdaClient({ maxAttempts: 2 }));

export class LambdaInvoker implements FunctionInvoker {
  constructor(private readonly lambda: LambdaClient) {}

  async invoke(
    functionName: string,
    payload: string,
    options: { timeoutMs: number },
  ): Promise<InvokeResult> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The race, not the abort alone, decides: the deadline holds whatever the transport does.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(
          new IssuerTimeoutError(`${functionName} did not answer within ${options.timeoutMs} ms`),
        );
      }, options.timeoutMs);
    });
    try {
      const sent = this.lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(payload, 'utf8'),
        }),
        { abortSignal: abort.signal },
      );
      // The loser of the race must not surface later as an unhandled rejection.
      sent.catch(() => undefined);
      const out = await Promise.race([sent, deadline]).catch((error: unknown) => {
        throw translateAwsError(error);
      });
      return {
        payload: out.Payload ? Buffer.from(out.Payload).toString('utf8') : '',
        ...(out.FunctionError && { functionError: out.FunctionError }),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
