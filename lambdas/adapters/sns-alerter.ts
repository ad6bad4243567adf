// Sends alerts by SNS, once per incident per secret: a conditional mark in the audit table
// claims the incident before publishing, so Secrets Manager's retries do not send more e-mails.
//
// A mark is `claimed` until Publish succeeds, then `sent`. A failed Publish deletes the mark so
// the next retry alerts; a claim left behind by a crash or timeout between the two goes stale
// after CLAIM_STALE_MINUTES and is taken over, so an alert is late at worst, never lost.

import { createHash, randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { logger } from '#commons/logger';
import { alertIncidentKey, formatAlert } from '#domain/alerts';
import { describeError } from '#domain/errors';
import { type Alert, type Alerter, type Clock, systemClock } from '#domain/ports';
import { AUDIT_TABLE, alertPk } from './audit-table.ts';

/** How long an incident stays claimed: longer than any rotation's retries or a sweep's repeats. */
export const ALERT_MARK_DAYS = 30;
/** Longer than a Lambda can run (15 minutes), so a live sender is never overtaken. */
export const CLAIM_STALE_MINUTES = 16;

export interface SnsAlerterOptions {
  sns: SNSClient;
  topicArn: string;
  dynamo: DynamoDBDocumentClient;
  tableName: string;
  region: string;
  stackName: string;
  clock?: Clock;
}

export class SnsAlerter implements Alerter {
  constructor(private readonly options: SnsAlerterOptions) {}

  async send(alert: Alert): Promise<'sent' | 'duplicate'> {
    const { sns, topicArn, dynamo, tableName, region, stackName } = this.options;
    const at = (this.options.clock ?? systemClock)();
    const key = {
      [AUDIT_TABLE.partitionKey]: alertPk(alert.secretArn),
      [AUDIT_TABLE.sortKey]: markSortKey(alertIncidentKey(alert)),
    };
    const markId = randomUUID();

    try {
      await dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...key,
            markId,
            state: 'claimed',
            alertEvent: alert.event,
            incident: alert.incident,
            markedAt: at.toISOString(),
            [AUDIT_TABLE.ttlAttribute]: Math.floor(at.getTime() / 1000) + ALERT_MARK_DAYS * 86_400,
          },
          // TTL deletes lazily (up to days late), so an expired mark counts as no mark.
          ConditionExpression:
            'attribute_not_exists(#pk) OR #expiresAt < :now OR (#state = :claimed AND markedAt < :staleBefore)',
          ExpressionAttributeNames: {
            '#pk': AUDIT_TABLE.partitionKey,
            '#expiresAt': AUDIT_TABLE.ttlAttribute,
            '#state': 'state',
          },
          ExpressionAttributeValues: {
            ':now': Math.floor(at.getTime() / 1000),
            ':claimed': 'claimed',
            ':staleBefore': new Date(at.getTime() - CLAIM_STALE_MINUTES * 60_000).toISOString(),
          },
        }),
      );
    } catch (error) {
      if ((error as Error)?.name === 'ConditionalCheckFailedException') return 'duplicate';
      throw new Error(
        `alert: could not record ${alert.event} for ${alert.secretArn} (incident ${alert.incident}) in table ${tableName}: ${describeError(error)}`,
        { cause: error },
      );
    }

    const { subject, message, attributes } = formatAlert(alert, {
      at,
      region,
      stackName,
      auditTableName: tableName,
    });
    try {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: subject,
          Message: message,
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([name, value]) => [
              name,
              { DataType: 'String', StringValue: value },
            ]),
          ),
        }),
      );
    } catch (error) {
      // Release the incident so the next retry alerts; only our own mark, never a newer one.
      let released = '';
      try {
        await dynamo.send(
          new DeleteCommand({
            TableName: tableName,
            Key: key,
            ConditionExpression: 'markId = :markId',
            ExpressionAttributeValues: { ':markId': markId },
          }),
        );
      } catch {
        released = `; the incident stays claimed until ${CLAIM_STALE_MINUTES} minutes have passed`;
      }
      throw new Error(
        `alert: could not publish ${alert.event} for ${alert.secretArn} to ${topicArn}: ${describeError(error)}${released}`,
        { cause: error },
      );
    }

    try {
      await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET #state = :sent',
          ConditionExpression: 'markId = :markId',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':sent': 'sent', ':markId': markId },
        }),
      );
    } catch (error) {
      // The e-mail is out; the worst case now is a second one once the claim goes stale.
      logger.warn('alert sent but its mark still says claimed', {
        secretArn: alert.secretArn,
        event: alert.event,
        error: describeError(error),
      });
    }
    return 'sent';
  }
}

/** Sort keys are limited to 1024 bytes; a longer incident is named by its hash. */
function markSortKey(key: string): string {
  if (Buffer.byteLength(key, 'utf8') <= 512) return key;
  const hash = createHash('sha256').update(key, 'utf8').digest('hex');
  return `${key.slice(0, key.indexOf('#') + 1)}sha256:${hash}`;
}
