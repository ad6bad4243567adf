// A SaaS issuer function (acme-issuer-function.ts, the kind `lambda:acme-issuer`) deployed where
// the test's session is, through the endpoint's own APIs as an account needs it: an execution
// role (IAM), the table it records revokes in (DynamoDB), the function (Lambda, from its bundle).
// What it was asked to revoke is read back from that table.
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import {
  CreateFunctionCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import type { IssuerRequest } from '#domain/kinds/custom/contract';
import { bundleHandler } from './bundle.ts';
import { scaled } from './endpoint.ts';
import { createLambdaRole } from './lambda-role.ts';
import type { Session } from './session.ts';

export interface AcmeIssuer {
  /** The token field of every value it was asked to revoke, in order. */
  revoked(): Promise<string[]>;
  revokeRequests(): Promise<IssuerRequest[]>;
  /** Refuses every revoke with `message` from now on; undefined: the issuer's API is back. */
  refuseRevoke(message: string | undefined): Promise<void>;
}

const NAME = 'acme-issuer';
const ENTRY = new URL('./acme-issuer-function.ts', import.meta.url);

/** Deploys `acme-issuer` in the session. */
export async function acmeIssuer(
  session: Session,
  reply: { tokenField?: string } = {},
): Promise<AcmeIssuer> {
  const config = session.clientConfig;
  const iam = new IAMClient(config);
  const dynamo = new DynamoDBClient(config);
  const lambda = new LambdaClient(config);
  const table = `${NAME}-records`;
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const roleArn = await createLambdaRole(iam, `${NAME}-role`);
  const environment = (refuse?: string) => ({
    Variables: {
      ACME_TABLE: table,
      AWS_ENDPOINT_URL: session.endpoint,
      ...(reply.tokenField && { ACME_TOKEN_FIELD: reply.tokenField }),
      ...(refuse && { ACME_REFUSE_REVOKE: refuse }),
    },
  });
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: NAME,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: roleArn,
      Code: { ZipFile: await bundleHandler(ENTRY) },
      Timeout: 30,
      Environment: environment(),
    }),
  );
  const waiter = { client: lambda, maxWaitTime: scaled(120), minDelay: 1 };
  await waitUntilFunctionActiveV2(waiter, { FunctionName: NAME });
  const revokeRequests = async () => {
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: table }));
    return Items.filter((item) => item.pk?.S?.startsWith('revoke#'))
      .sort((a, b) => a.pk!.S!.localeCompare(b.pk!.S!))
      .map((item) => JSON.parse(item.request!.S!) as IssuerRequest);
  };
  return {
    revokeRequests,
    revoked: async () =>
      (await revokeRequests()).map((r) => JSON.parse(r.value ?? '{}').token as string),
    refuseRevoke: async (message) => {
      await lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: NAME,
          Environment: environment(message),
        }),
      );
      await waitUntilFunctionUpdatedV2(waiter, { FunctionName: NAME });
    },
  };
}
