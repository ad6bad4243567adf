// Installs token-rotation into an embedded local AWS the way `cdk deploy` installs it into an
// account: an audit table, an alert topic, and the real handlers behind function ARNs, wired
// with the local clock. The demo, the benchmark and the CLI's local mode all start here.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAuditTable, DynamoAuditLog } from '#adapters/dynamodb-audit-log';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { SnsAlerter } from '#adapters/sns-alerter';
import { createIssuerFor } from '#domain/issuers/index';
import type { RotationDeps } from '#domain/rotation';
import { createRotationHandler } from '#handlers/rotation';
import { type CloudFormationEmulator, cloudFormationOf } from './cloudformation.ts';
import type { LocalAws } from './index.ts';

export interface InstalledSuite {
  stackName: string;
  tableName: string;
  topicArn: string;
  rotationFunctionArn: string;
  secretsManager: SecretsManagerClient;
  dynamo: DynamoDBDocumentClient;
  sns: SNSClient;
  audit: DynamoAuditLog;
  alerter: SnsAlerter;
  store: SecretsManagerStore;
  rotationDeps: RotationDeps;
  /**
   * The local CloudFormation, holding this stack and its outputs under the names the CDK stack
   * gives them, so the operator CLI finds the suite here as in an account. Tests add outputs
   * (a revoke function they deploy) with `cloudFormation.putStack(stackName, {...})`.
   */
  cloudFormation: CloudFormationEmulator;
}

export async function installSuite(
  aws: LocalAws,
  options: { stackName?: string } = {},
): Promise<InstalledSuite> {
  const stackName = options.stackName ?? 'TokenRotation';
  const tableName = `${stackName}-audit`;
  const rawDynamo = new DynamoDBClient(aws.clientConfig);
  const dynamo = DynamoDBDocumentClient.from(rawDynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const secretsManager = new SecretsManagerClient(aws.clientConfig);
  const sns = new SNSClient(aws.clientConfig);

  await createAuditTable(rawDynamo, tableName);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${stackName}-alerts` }));
  const topicArn = TopicArn!;

  const clock = aws.clock.now;
  const audit = new DynamoAuditLog({ client: dynamo, tableName, clock });
  const alerter = new SnsAlerter({
    sns,
    topicArn,
    dynamo,
    tableName,
    region: aws.region,
    stackName,
    clock,
  });
  const store = new SecretsManagerStore(secretsManager);
  const rotationDeps: RotationDeps = {
    store,
    audit,
    alerter,
    issuerFor: createIssuerFor({ clock }),
    clock,
  };
  const rotationFunctionArn = aws.functions.register(
    `${stackName}-rotation`,
    createRotationHandler(rotationDeps),
  );

  // Output names as infra/token-rotation.ts gives them (console links have no local meaning).
  const cloudFormation = cloudFormationOf(aws);
  cloudFormation.putStack(stackName, {
    AlertTopicArn: { value: topicArn, description: 'Alert topic (SNS)' },
    AuditTableName: { value: tableName, description: 'Audit trail (DynamoDB table)' },
  });

  return {
    stackName,
    tableName,
    topicArn,
    rotationFunctionArn,
    secretsManager,
    dynamo,
    sns,
    audit,
    alerter,
    store,
    rotationDeps,
    cloudFormation,
  };
}
