// Rotation functions a test deploys where its session is, through the endpoint's own APIs as an
// account needs them: an execution role (IAM), the function (Lambda) and the permission for
// Secrets Manager to invoke it. They run in the endpoint, as any function RotateSecret invokes.
import { IAMClient } from '@aws-sdk/client-iam';
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  LambdaClient,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { writeZip } from '#local-aws/zip';
import { bundleHandler } from './bundle.ts';
import { scaled } from './endpoint.ts';
import { createLambdaRole } from './lambda-role.ts';
import type { Session } from './session.ts';

/** Deploys `zip` (handler index.handler) as `name`, Secrets Manager allowed to invoke it; its ARN. */
export async function deployRotationFunction(
  session: Session,
  name: string,
  zip: Uint8Array,
  variables: Record<string, string> = {},
): Promise<string> {
  const iam = new IAMClient(session.clientConfig);
  const lambda = new LambdaClient(session.clientConfig);
  const roleArn = await createLambdaRole(iam, `${name}-role`);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: roleArn,
      Code: { ZipFile: zip },
      Timeout: 120,
      Environment: { Variables: variables },
    }),
  );
  await waitUntilFunctionActiveV2(
    { client: lambda, maxWaitTime: scaled(120), minDelay: 1 },
    { FunctionName: name },
  );
  // Without it RotateSecret answers AccessDeniedException, as on AWS.
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: name,
      StatementId: 'SecretsManagerInvoke',
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: session.accountId,
    }),
  );
  return created.FunctionArn!;
}

/**
 * A rotation function that does nothing: RotateSecret with it stages AWSPENDING and leaves it
 * there, a rotation whose steps have not run yet, for the test to run them itself.
 */
export function idleRotationFunction(session: Session, prefix: string): Promise<string> {
  return deployRotationFunction(
    session,
    `${prefix}-idle-rotation`,
    writeZip({ 'index.mjs': 'export const handler = async () => undefined;\n' }),
  );
}

/**
 * A test-only rotation entry (a file of this folder built on the deployed handler), bundled as the
 * stack bundles it and deployed with the environment the stack gives the session suite's rotation
 * function, over the session's endpoint.
 */
export async function deployedRotationVariant(
  session: Session,
  name: string,
  entry: URL,
): Promise<string> {
  const { suite } = session;
  return deployRotationFunction(session, name, await bundleHandler(entry), {
    AUDIT_TABLE_NAME: suite.tableName,
    ALERT_TOPIC_ARN: suite.topicArn,
    STACK_NAME: suite.stackName,
    SWEEP_INTERVAL_MINUTES: String(suite.sweepIntervalMs / 60_000),
    POWERTOOLS_SERVICE_NAME: 'token-rotation',
    POWERTOOLS_METRICS_NAMESPACE: 'TokenRotation',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    AWS_ENDPOINT_URL: session.endpoint,
  });
}
