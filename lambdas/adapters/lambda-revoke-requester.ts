// RevokeRequester over Lambda: queues the revoke function (an asynchronous invoke) with the direct
// invoke's event plus the sweep's marker, which lambdas/handlers/revoke.ts `parseRevokeInvoke` reads.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { describeError } from '#domain/errors';
import type { RevokeRequester, TagRevokeRequest } from '#domain/ports';

/** The deployed sweep's requester: endpoints and region from the SDK's own configuration. */
export const deployedRevokeRequester = (functionName: string): RevokeRequester =>
  new LambdaRevokeRequester(new LambdaClient({}), functionName);

export class LambdaRevokeRequester implements RevokeRequester {
  constructor(
    private readonly lambda: LambdaClient,
    /** The revoke function's name or ARN. */
    private readonly functionName: string,
  ) {}

  async requestRevoke(request: TagRevokeRequest): Promise<void> {
    const event = {
      secretId: request.secretArn,
      reason: request.reason,
      // The tag always reissues (SPEC "Emergency revoke"); quarantine is a person's choice.
      mode: 'reissue',
      sweep: { requestId: request.requestId },
    };
    let status: number | undefined;
    try {
      const out = await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(event), 'utf8'),
        }),
      );
      status = out.StatusCode;
    } catch (error) {
      throw new Error(
        `expected the revoke function ${this.functionName} to accept the revoke its tag asks for, found: ${describeError(error)}`,
        { cause: error },
      );
    }
    if (status !== 202) {
      throw new Error(
        `expected the revoke function ${this.functionName} to queue the revoke its tag asks for (status 202), found status ${status ?? 'none'}`,
      );
    }
  }
}
