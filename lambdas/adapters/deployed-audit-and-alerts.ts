// The audit trail and the alerter every deployed handler writes to, built from its environment:
// one wiring, so no handler can point its alerts' de-duplication marks at another table.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { snsClient } from '#commons/clients';
import type { Config } from '#commons/config';
import { createMetrics } from '#commons/metrics';
import { DynamoAuditLog } from './dynamodb-audit-log.ts';
import { SnsAlerter } from './sns-alerter.ts';

export function deployedAuditAndAlerts(
  config: Config,
  dynamo: DynamoDBDocumentClient,
): { audit: DynamoAuditLog; alerter: SnsAlerter } {
  return {
    audit: new DynamoAuditLog({ client: dynamo, tableName: config.auditTableName }),
    alerter: new SnsAlerter({
      sns: snsClient(),
      topicArn: config.alertTopicArn,
      dynamo,
      tableName: config.auditTableName,
      region: config.region,
      stackName: config.stackName,
      metrics: createMetrics(),
    }),
  };
}
