// Sends alerts by SNS through a durable outbox in the audit table, once per incident per secret.
//
// Every alert is written to its incident's item (ALERT#<secret>, <event>#<incident>) before it is
// published: the item holds the formatted e-mail and is `pending` until SNS accepted it, then
// `sent` (which is also the de-duplication mark: Secrets Manager's retries find it and send
// nothing). A pending item also carries the byEvent index's keys (event = OUTBOX_EVENT), a sparse
// index entry the sweep queries to deliver what is still undelivered and `status` counts; `sent`
// removes them.
//
// Who publishes a pending item holds its lease (leaseId, leaseUntil). The sender holds it from the
// write; when SNS keeps failing it gives the lease back at once, so the next sweep delivers; a
// sender that died holding it loses it after LEASE_MINUTES. Every DynamoDB call here is retried
// with backoff and is safe to repeat (its condition names our own mark or lease), so a call whose
// answer was lost after it landed does not turn into a duplicate or a lost alert.
//
// A second alert of an incident whose item exists is a duplicate whether that item is sent or
// still pending: pending means recorded and on its way, never dropped. When the audit table cannot
// be written at all, the alert is published directly and the gap is logged and counted
// (AlertsUnrecorded): an outage of the table never silences an alert.
//
// Publish has no idempotency key (SNS standard topics, the only kind e-mail subscribes to), so a
// Publish whose answer is lost after SNS accepted it is published again: at least once, never lost.

import { createHash, randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { logger } from '#commons/logger';
import { type MetricsSink, MetricUnit } from '#commons/metrics';
import { alertIncidentKey } from '#domain/alerts/catalog';
import { type FormattedAlert, formatAlert } from '#domain/alerts/format';
import { describeError } from '#domain/errors';
import {
  type Alert,
  type Alerter,
  type AlertOutcome,
  type Clock,
  type PendingDelivery,
  systemClock,
} from '#domain/ports';
import { AUDIT_TABLE, alertPk, OUTBOX_EVENT } from './audit-table.ts';
import { isAwsError } from './aws-errors.ts';

/** How long a delivered incident stays marked: longer than any rotation's retries or a sweep's repeats. */
export const ALERT_MARK_DAYS = 30;
/** A legacy `claimed` mark older than this is taken over (longer than a Lambda can run). */
export const CLAIM_STALE_MINUTES = 16;
/** How long a publisher holds a pending alert: longer than a Lambda can run, so none is overtaken. */
export const LEASE_MINUTES = 16;
/** Tries per call (the SDK's own retries come on top), and the waits between them. */
const ATTEMPTS = 3;
const BACKOFF_MS = [200, 1000];

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const conditionFailed = (error: unknown) => isAwsError(error, 'ConditionalCheckFailedException');

export interface SnsAlerterOptions {
  sns: SNSClient;
  topicArn: string;
  dynamo: DynamoDBDocumentClient;
  tableName: string;
  region: string;
  stackName: string;
  clock?: Clock;
  /** Waits between tries; injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Where AlertsUnrecorded is counted (an alert published without its outbox record). */
  metrics?: MetricsSink;
}

type Key = Record<string, string>;

/** A pending alert as the outbox holds it. */
interface OutboxItem {
  pk: string;
  sk: string;
  subject: string;
  message: string;
  attributes: Record<string, string>;
  alertEvent: string;
  secretArn: string;
  leaseUntil?: string;
}

export class SnsAlerter implements Alerter {
  /** Alerts published without their outbox record in this container (also logged and counted). */
  unrecorded = 0;

  constructor(private readonly options: SnsAlerterOptions) {}

  private now(): Date {
    return (this.options.clock ?? systemClock)();
  }

  /** Runs `call` up to ATTEMPTS times with backoff; a failed condition is an answer, not retried. */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    const sleep = this.options.sleep ?? sleepFor;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (conditionFailed(error) || attempt >= ATTEMPTS) throw error;
        await sleep(BACKOFF_MS[attempt - 1] ?? BACKOFF_MS.at(-1)!);
      }
    }
  }

  async send(alert: Alert): Promise<AlertOutcome> {
    const { tableName } = this.options;
    const at = this.now();
    const key: Key = {
      [AUDIT_TABLE.partitionKey]: alertPk(alert.secretArn),
      [AUDIT_TABLE.sortKey]: markSortKey(alertIncidentKey(alert)),
    };
    const lease = randomUUID();
    const formatted = formatAlert(alert, {
      at,
      region: this.options.region,
      stackName: this.options.stackName,
      auditTableName: tableName,
    });

    try {
      await this.retrying(() => this.record(key, lease, alert, formatted, at));
    } catch (error) {
      if (conditionFailed(error)) return 'duplicate';
      return this.publishUnrecorded(alert, key, lease, formatted, error);
    }

    const failed = await this.publishLeased(
      key,
      lease,
      formatted,
      alert.secretArn,
      alert.event,
      (releaseError) => {
        logger.warn('alert: could not hand a pending alert back to the sweep', {
          secretArn: alert.secretArn,
          event: alert.event,
          error: describeError(releaseError),
          takenOverAfterMinutes: LEASE_MINUTES,
        });
      },
    );
    if (failed === undefined) return 'sent';
    logger.warn('alert: publish failed; the alert is pending and the sweep delivers it', {
      secretArn: alert.secretArn,
      event: alert.event,
      error: failed,
    });
    return 'queued';
  }

  /**
   * Publishes an alert whose outbox item this caller holds the lease of, and marks it sent; when
   * publishing fails, hands the item back (releases the lease) and returns the error's text.
   */
  private async publishLeased(
    key: Key,
    lease: string,
    formatted: FormattedAlert,
    secretArn: string,
    event: string,
    onReleaseFailed: (error: unknown) => void,
  ): Promise<string | undefined> {
    try {
      await this.retrying(() => this.publish(formatted));
    } catch (error) {
      const text = describeError(error);
      await this.release(key, lease, text).catch(onReleaseFailed);
      return text;
    }
    await this.markSent(key, lease, secretArn, event);
    return undefined;
  }

  /** The outbox write: a new pending item, unless this incident already has one (duplicate). */
  private record(key: Key, lease: string, alert: Alert, formatted: FormattedAlert, at: Date) {
    return this.options.dynamo.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          ...key,
          markId: lease,
          state: 'pending',
          alertEvent: alert.event,
          incident: alert.incident,
          secretArn: alert.secretArn,
          markedAt: at.toISOString(),
          subject: formatted.subject,
          message: formatted.message,
          attributes: formatted.attributes,
          attempts: 0,
          leaseId: lease,
          leaseUntil: new Date(at.getTime() + LEASE_MINUTES * 60_000).toISOString(),
          [AUDIT_TABLE.byEventPartitionKey]: OUTBOX_EVENT,
          [AUDIT_TABLE.indexSortKey]: at.toISOString(),
        },
        // TTL deletes lazily (up to days late), so an expired mark counts as no mark; a legacy
        // `claimed` mark left by a crash is taken over; our own mark is this write retried.
        ConditionExpression:
          'attribute_not_exists(#pk) OR #expiresAt < :now OR (#state = :claimed AND markedAt < :staleBefore) OR markId = :markId',
        ExpressionAttributeNames: {
          '#pk': AUDIT_TABLE.partitionKey,
          '#expiresAt': AUDIT_TABLE.ttlAttribute,
          '#state': 'state',
        },
        ExpressionAttributeValues: {
          ':now': Math.floor(at.getTime() / 1000),
          ':claimed': 'claimed',
          ':staleBefore': new Date(at.getTime() - CLAIM_STALE_MINUTES * 60_000).toISOString(),
          ':markId': lease,
        },
      }),
    );
  }

  private publish(formatted: FormattedAlert) {
    return this.options.sns.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: formatted.subject,
        Message: formatted.message,
        MessageAttributes: Object.fromEntries(
          Object.entries(formatted.attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
  }

  /**
   * The audit table could not be written: publish directly, so the alert still goes out, and
   * log and count the gap. Throws only when the alert could be neither recorded nor published.
   */
  private async publishUnrecorded(
    alert: Alert,
    key: Key,
    lease: string,
    formatted: FormattedAlert,
    recordError: unknown,
  ): Promise<AlertOutcome> {
    const why = describeError(recordError);
    try {
      await this.retrying(() => this.publish(formatted));
    } catch (error) {
      throw new Error(
        `alert: could not record ${alert.event} for ${alert.secretArn} (incident ${alert.incident}) in table ${this.options.tableName} (${why}) nor publish it to ${this.options.topicArn}: ${describeError(error)}`,
        { cause: error },
      );
    }
    this.unrecorded++;
    logger.error('alert: published without its outbox record (the audit table is unavailable)', {
      secretArn: alert.secretArn,
      event: alert.event,
      incident: alert.incident,
      error: why,
      alertsUnrecorded: this.unrecorded,
    });
    this.options.metrics?.addMetric('AlertsUnrecorded', MetricUnit.Count, 1);
    this.options.metrics?.publishStoredMetrics();
    // Where the write landed after all (its answer was lost), mark it sent so no sweep repeats it.
    await this.options.dynamo.send(this.markSentCommand(key, lease)).catch(() => undefined);
    return 'sent';
  }

  private markSentCommand(key: Key, lease: string) {
    const at = this.now();
    return new UpdateCommand({
      TableName: this.options.tableName,
      Key: key,
      UpdateExpression:
        'SET #state = :sent, sentAt = :at, #expiresAt = :expiresAt REMOVE #event, #indexAt',
      ConditionExpression: 'leaseId = :lease',
      ExpressionAttributeNames: {
        '#state': 'state',
        '#expiresAt': AUDIT_TABLE.ttlAttribute,
        '#event': AUDIT_TABLE.byEventPartitionKey,
        '#indexAt': AUDIT_TABLE.indexSortKey,
      },
      ExpressionAttributeValues: {
        ':sent': 'sent',
        ':at': at.toISOString(),
        ':expiresAt': Math.floor(at.getTime() / 1000) + ALERT_MARK_DAYS * 86_400,
        ':lease': lease,
      },
    });
  }

  /** After SNS accepted it: the item says sent and leaves the pending index. */
  private async markSent(key: Key, lease: string, secretArn: string, event: string) {
    try {
      await this.retrying(() => this.options.dynamo.send(this.markSentCommand(key, lease)));
    } catch (error) {
      // The e-mail is out; once the lease runs out the sweep sends it a second time.
      logger.warn('alert: sent, but its outbox item still says pending', {
        secretArn,
        event,
        error: describeError(error),
      });
    }
  }

  /** Gives a pending alert back to the sweep after a failed publish. */
  private release(key: Key, lease: string, error: string) {
    const now = this.now().toISOString();
    return this.retrying(() =>
      this.options.dynamo.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: key,
          UpdateExpression:
            'SET leaseUntil = :now, lastError = :error, lastAttemptAt = :now ADD attempts :one',
          ConditionExpression: 'leaseId = :lease AND #state = :pending',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':now': now,
            ':error': error.slice(0, 500),
            ':one': 1,
            ':lease': lease,
            ':pending': 'pending',
          },
        }),
      ),
    );
  }

  /**
   * Publishes pending alerts whose lease is free (the sweep calls this): at most `limit`, oldest
   * first. Each is leased before it is published, so two sweeps never both send it.
   */
  async deliverPending(options: {
    limit: number;
    outOfTime?: () => boolean;
  }): Promise<PendingDelivery> {
    const result: PendingDelivery = { found: 0, delivered: 0, failed: 0 };
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.retrying(() =>
        this.options.dynamo.send(
          new QueryCommand({
            TableName: this.options.tableName,
            IndexName: AUDIT_TABLE.byEventIndex,
            KeyConditionExpression: '#event = :outbox',
            ExpressionAttributeNames: { '#event': AUDIT_TABLE.byEventPartitionKey },
            ExpressionAttributeValues: { ':outbox': OUTBOX_EVENT },
            Limit: Math.min(100, options.limit),
            ...(start && { ExclusiveStartKey: start }),
          }),
        ),
      );
      start = page.LastEvaluatedKey;
      for (const item of (page.Items ?? []) as OutboxItem[]) {
        if (result.found >= options.limit || options.outOfTime?.()) return result;
        result.found++;
        const outcome = await this.redeliver(item);
        if (outcome === 'delivered') result.delivered++;
        if (outcome === 'failed') result.failed++;
      }
    } while (start && result.found < options.limit);
    return result;
  }

  private async redeliver(item: OutboxItem): Promise<'delivered' | 'failed' | 'skipped'> {
    const now = this.now();
    if (item.leaseUntil && Date.parse(item.leaseUntil) > now.getTime()) return 'skipped';
    const key: Key = { [AUDIT_TABLE.partitionKey]: item.pk, [AUDIT_TABLE.sortKey]: item.sk };
    const lease = randomUUID();
    try {
      await this.retrying(() =>
        this.options.dynamo.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: key,
            UpdateExpression: 'SET leaseId = :lease, leaseUntil = :until',
            ConditionExpression:
              '#state = :pending AND (leaseId = :lease OR attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':lease': lease,
              ':until': new Date(now.getTime() + LEASE_MINUTES * 60_000).toISOString(),
              ':now': now.toISOString(),
              ':pending': 'pending',
            },
          }),
        ),
      );
    } catch (error) {
      if (conditionFailed(error)) return 'skipped';
      logger.warn('alert: could not take a pending alert; the next sweep tries again', {
        secretArn: item.secretArn,
        event: item.alertEvent,
        error: describeError(error),
      });
      return 'failed';
    }
    const failed = await this.publishLeased(
      key,
      lease,
      {
        subject: item.subject,
        message: item.message,
        attributes: item.attributes,
      } as FormattedAlert,
      item.secretArn,
      item.alertEvent,
      () => undefined,
    );
    if (failed === undefined) return 'delivered';
    logger.warn('alert: a pending alert could not be published; the next sweep tries again', {
      secretArn: item.secretArn,
      event: item.alertEvent,
      error: failed,
    });
    return 'failed';
  }
}

/** How many alerts the outbox holds undelivered (`status` shows it). */
export async function countUndeliveredAlerts(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: AUDIT_TABLE.byEventIndex,
        KeyConditionExpression: '#event = :outbox',
        ExpressionAttributeNames: { '#event': AUDIT_TABLE.byEventPartitionKey },
        ExpressionAttributeValues: { ':outbox': OUTBOX_EVENT },
        Select: 'COUNT',
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/** Sort keys are limited to 1024 bytes; a longer incident is named by its hash. */
function markSortKey(key: string): string {
  if (Buffer.byteLength(key, 'utf8') <= 512) return key;
  const hash = createHash('sha256').update(key, 'utf8').digest('hex');
  return `${key.slice(0, key.indexOf('#') + 1)}sha256:${hash}`;
}
