// Invokes custom issuer functions (`lambda:<fn>` kinds) synchronously, with a deadline of our own:
// the SDK's retries cover throttling, the deadline covers a function that never answers.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { FunctionInvoker, InvokeResult } from '#domain/ports';

/** Thrown when an invocation outlives its deadline; the custom issuer names it `issuer-timeout`. */
export class IssuerTimeout extends Error {
  override readonly name = 'IssuerTimeout';
}

export class LambdaInvoker implements FunctionInvoker {
  constructor(private readonly lambda: LambdaClient) {}

  async invoke(
    functionName: string,
    payload: string,
    options: { timeoutMs: number },
  ): Promise<InvokeResult> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.timeoutMs);
    try {
      const out = await this.lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(payload, 'utf8'),
        }),
        { abortSignal: abort.signal },
      );
      return {
        payload: out.Payload ? Buffer.from(out.Payload).toString('utf8') : '',
        ...(out.FunctionError && { functionError: out.FunctionError }),
      };
    } catch (error) {
      if (abort.signal.aborted) {
        throw new IssuerTimeout(`${functionName} did not answer within ${options.timeoutMs} ms`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
