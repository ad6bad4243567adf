// The stack's revoke function, invoked as the Lambda console's Test tab invokes it
// ({secretId, reason, mode} and the caller's ARN as a claim): the one path by which the CLI
// (`revoke`, `scan --revoke`) raises an emergency revoke.
import { InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { scrub } from '#domain/errors';
import { CliError, type Connection, callerIdentity, explain } from './aws.ts';

/** The revoke function's answer (lambdas/domain/revoke/ RevokeOutcome), as read here. */
export interface RevokeResult {
  status?: string;
  revokeId?: string;
  secretArn?: string;
  secretName?: string;
  mode?: string;
  revoked?: { versionId?: string; stages?: string[]; token?: string }[];
  newVersionId?: string;
  alert?: string;
  state?: string;
  message?: string;
}

/** What the function answered: its result, or the error it threw (refused: nothing changed). */
export type RevokeAnswer =
  | { ok: true; result: RevokeResult }
  | { ok: false; refused: boolean; errorType?: string; message: string };

/** Errors a revoke function throws for a request it refused before changing anything. */
const REFUSED = /^(RevokeRequestError|ValidationError)$/;

/** Invokes `functionName` for `secretArn`. Throws a CliError when it cannot be reached. */
export async function invokeRevokeFunction(
  connection: Connection,
  functionName: string,
  request: { secretArn: string; reason: string; mode: 'reissue' | 'quarantine' },
): Promise<RevokeAnswer> {
  // Who is asking, as a claim the function records as such: it cannot verify a direct invoke's
  // caller. An STS failure does not hold up an emergency revoke; the function then says unknown.
  const requestedBy = await callerIdentity(connection).then(
    (identity) => identity.arn || undefined,
    () => undefined,
  );
  let out: InvokeCommandOutput;
  try {
    out = await connection.lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(
          JSON.stringify({
            secretId: request.secretArn,
            reason: request.reason,
            mode: request.mode,
            ...(requestedBy && { requestedBy }),
          }),
        ),
      }),
    );
  } catch (error) {
    throw explain(error, connection);
  }
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : 'null';
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new CliError(
      `the revoke function ${functionName} answered with something that is not JSON`,
      1,
    );
  }
  if (out.FunctionError) {
    const report = (payload ?? {}) as { errorType?: string; errorMessage?: string };
    return {
      ok: false,
      refused: REFUSED.test(report.errorType ?? ''),
      ...(report.errorType && { errorType: report.errorType }),
      message: scrub(report.errorMessage ?? 'no error message'),
    };
  }
  return { ok: true, result: (payload ?? {}) as RevokeResult };
}
