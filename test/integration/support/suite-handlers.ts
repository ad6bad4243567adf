// The suite's rotation and revoke functions answered from this process, for a test whose
// handlers must see something only this process has (a token kind registered here, log lines it
// captures): built as local-aws/suite.ts builds them, from the session's handler dependencies
// (clients at the endpoint, the session's clock), and invoked by the endpoint as before:
// Secrets Manager runs the rotation steps, Invoke reaches the revoke function.
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmAutomationExecutions } from '#adapters/ssm-automation';
import { createRevokeHandler } from '#handlers/revoke';
import { createRotationHandler } from '#handlers/rotation';
import type { Session } from './session.ts';

/** Serves the suite's rotation and revoke functions from this process. */
export async function serveSuiteHandlers(session: Session): Promise<void> {
  const { suite } = session;
  await session.serveFunction(suite.functions.rotation, createRotationHandler(suite.rotationDeps));
  await session.serveFunction(
    suite.functions.revoke,
    createRevokeHandler({
      ...suite.revokeDeps,
      executions: new SsmAutomationExecutions(new SSMClient(session.clientConfig)),
    }),
  );
}

/** What invoking a function through the Lambda API answered: its result, or its error message. */
export type Invoked = { ok: true; result: unknown } | { ok: false; errorMessage: string };

/** Invokes the function (RequestResponse) through the endpoint's Lambda API. */
export async function invokeFunction(
  session: Session,
  functionName: string,
  event: unknown,
): Promise<Invoked> {
  const out = await session.suite.lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
  );
  const payload = JSON.parse(
    Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8') || 'null',
  );
  if (out.FunctionError) return { ok: false, errorMessage: String(payload?.errorMessage) };
  return { ok: true, result: payload };
}
