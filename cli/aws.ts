// The CLI's way into AWS: SDK clients on the standard credential chain (only the endpoint
// differs for the embedded local AWS), the deployed stack found by name through its
// CloudFormation outputs, and AWS's failures turned into errors an operator can act on.
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '#adapters/dynamodb-audit-log';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { describeError } from '#domain/errors';
import type { Clock, SecretDescription } from '#domain/ports';

/** An error the CLI reports as it is and exits with `exitCode` (2: could not run). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/**
 * Output names of the stack `cdk deploy` creates (infra/token-rotation.ts), and the ones the
 * embedded local AWS registers for it (local-aws/suite.ts).
 */
export const STACK_OUTPUT = {
  auditTable: 'AuditTableName',
  alertTopic: 'AlertTopicArn',
  /** The stack's maxLifespan in hours; a stack deployed before it existed had no ceiling below 365d. */
  maxLifespanHours: 'MaxLifespanHours',
  /** The anchored audit trail's checkpoint bucket (infra/audit-anchor.ts), when the stack has one. */
  checkpointBucket: 'CheckpointBucketName',
  /** The keyed-fingerprint key secret (#domain/keyed-fingerprint), when the stack has one. */
  fingerprintKey: 'FingerprintKeySecretArn',
  /** Either one; Lambda Invoke takes a name or an ARN. */
  revokeFunction: ['RevokeFunctionArn', 'RevokeFunctionName'],
} as const;

export interface Target {
  stack: string;
  region?: string;
  endpoint?: string;
  /** A profile of the shared config and credentials files, instead of AWS_PROFILE. */
  profile?: string;
}

export interface Connection {
  target: Target;
  /** The region the clients resolved (flag, environment or profile). */
  region(): Promise<string>;
  secretsManager: SecretsManagerClient;
  dynamo: DynamoDBDocumentClient;
  lambda: LambdaClient;
  sts: STSClient;
  cloudFormation: CloudFormationClient;
  store: SecretsManagerStore;
  catalog: SecretsManagerCatalog;
  /** Closes every client's sockets, so the process can exit at once. */
  close(): void;
}

export function connect(target: Target): Connection {
  // Adaptive retry backs off on Secrets Manager's and DynamoDB's throttling, as the Lambdas do.
  const config = {
    maxAttempts: 8,
    retryMode: 'adaptive' as const,
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
  };
  const secretsManager = new SecretsManagerClient(config);
  const rawDynamo = new DynamoDBClient(config);
  const dynamo = DynamoDBDocumentClient.from(rawDynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const lambda = new LambdaClient(config);
  const sts = new STSClient(config);
  const cloudFormation = new CloudFormationClient(config);
  return {
    target,
    region: async () => secretsManager.config.region(),
    secretsManager,
    dynamo,
    lambda,
    sts,
    cloudFormation,
    store: new SecretsManagerStore(secretsManager),
    catalog: new SecretsManagerCatalog(secretsManager),
    close: () => {
      for (const client of [secretsManager, rawDynamo, lambda, sts, cloudFormation])
        client.destroy();
    },
  };
}

export interface Stack {
  name: string;
  outputs: Record<string, string>;
  /** The audit trail the stack's functions write. */
  audit(clock: Clock): DynamoAuditLog;
  /** An output the command cannot do without; a clear error when this stack lacks it. */
  require(...names: string[]): string;
}

/** Finds the deployed stack by name and reads its outputs (CloudFormation DescribeStacks). */
export async function findStack(connection: Connection): Promise<Stack> {
  const name = connection.target.stack;
  let outputs: Record<string, string>;
  try {
    const out = await connection.cloudFormation.send(
      new DescribeStacksCommand({ StackName: name }),
    );
    const stack = out.Stacks?.[0];
    outputs = Object.fromEntries(
      (stack?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
    );
  } catch (error) {
    if (/does not exist/.test(String((error as Error)?.message))) {
      const region = await connection.region().catch(() => 'the default region');
      throw new CliError(
        `stack "${name}" not found in ${region}${where(connection)}. Deploy token-rotation with "npx cdk deploy", or name the deployed stack with --stack <name> (and its region with --region).`,
      );
    }
    throw explain(error, connection);
  }
  const stack: Stack = {
    name,
    outputs,
    audit: (clock) =>
      new DynamoAuditLog({
        client: connection.dynamo,
        tableName: stack.require(STACK_OUTPUT.auditTable),
        clock,
      }),
    require: (...names) => {
      for (const key of names) if (outputs[key]) return outputs[key];
      throw new CliError(
        `stack "${name}" has no output ${names.join(' or ')}: it is not a token-rotation stack, or was deployed by a version without it. Update it with "npx cdk deploy".`,
      );
    },
  };
  return stack;
}

/** Who the credentials belong to (for the evidence header). */
export async function callerIdentity(connection: Connection) {
  try {
    const out = await connection.sts.send(new GetCallerIdentityCommand({}));
    return { arn: out.Arn ?? '', account: out.Account ?? '', userId: out.UserId ?? '' };
  } catch (error) {
    throw explain(error, connection);
  }
}

/**
 * A secret by name or ARN, or a CliError naming it when Secrets Manager has no such secret.
 * DescribeSecret only: never the value.
 */
export async function findSecret(
  connection: Connection,
  secretId: string,
): Promise<SecretDescription> {
  try {
    return await connection.store.describe(secretId);
  } catch (error) {
    if ((error as Error)?.name === 'ResourceNotFoundException') {
      const region = await connection.region().catch(() => 'this region');
      throw new CliError(
        `unknown secret "${secretId}": Secrets Manager has no secret of that name or ARN in ${region}${where(connection)}.`,
      );
    }
    throw explain(error, connection);
  }
}

const where = (connection: Connection) =>
  connection.target.endpoint ? ` at ${connection.target.endpoint}` : '';

/** An SDK failure as a CliError whose message says what to do. Never quotes a secret value. */
export function explain(error: unknown, connection?: Connection): CliError {
  if (error instanceof CliError) return error;
  const name = (error as Error)?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  const code =
    (error as { code?: string })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new CliError(
      'no AWS credentials found. The CLI uses the standard AWS credential chain: set AWS_PROFILE (after "aws sso login" or "aws configure"), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run it where a role provides them.',
    );
  }
  if (/ExpiredToken/i.test(name) || /token .* expired/i.test(message)) {
    return new CliError(
      'your AWS credentials have expired: refresh them (e.g. "aws sso login") and run again.',
    );
  }
  if (/InvalidClientTokenId|UnrecognizedClient|InvalidSignature|SignatureDoesNotMatch/.test(name)) {
    return new CliError(
      `AWS rejected your credentials (${name}): check AWS_PROFILE or your access keys.`,
    );
  }
  if (/Region is missing/i.test(message)) {
    return new CliError('no AWS region: pass --region <region> or set AWS_REGION.');
  }
  if (/AccessDenied|UnauthorizedOperation|AuthorizationError/.test(name)) {
    return new CliError(`access denied: ${describeError(error)}`);
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || /ECONNREFUSED|ENOTFOUND/.test(message)) {
    const endpoint = connection?.target.endpoint;
    return new CliError(
      endpoint
        ? `cannot reach the endpoint ${endpoint}: is it running?`
        : `cannot reach AWS: ${describeError(error)}`,
    );
  }
  return new CliError(describeError(error));
}
