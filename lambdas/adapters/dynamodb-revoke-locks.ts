// RevokeLockStore in the audit table: one suite-state item per secret (pk STATE#revoke, sk the
// secret's ARN, see audit-table.ts) claimed with a conditional write, so two revokes of one secret
// never run at once and a completed request is not run again. Completed request keys stay in a
// string set on the item (a few per emergency: the item stays small for thousands of revokes).

import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describeError } from '#domain/errors';
import type { QueuedRevoke, RevokeClaim, RevokeLock, RevokeLockStore } from '#domain/ports';
import { AUDIT_TABLE, statePk } from './audit-table.ts';
import { isAwsError } from './aws-errors.ts';

const key = (secretArn: string) => ({
  [AUDIT_TABLE.partitionKey]: statePk('revoke'),
  [AUDIT_TABLE.sortKey]: secretArn,
});

const isConditionFailed = (error: unknown) => isAwsError(error, 'ConditionalCheckFailedException');

function lockOf(item: Record<string, unknown>): RevokeLock {
  const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : '');
  const state = text('state');
  return {
    revokeId: text('revokeId') || '(unknown)',
    requestKey: text('requestKey'),
    mode: text('mode'),
    requester: text('requester'),
    startedAt: text('startedAt'),
    state: state === 'running' || state === 'failed' ? state : 'completed',
    ...(text('finishedAt') ? { finishedAt: text('finishedAt') } : {}),
    ...(item.queued && typeof item.queued === 'object'
      ? { queued: item.queued as QueuedRevoke }
      : {}),
  };
}

export class DynamoRevokeLockStore implements RevokeLockStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(
    secretArn: string,
    lock: Omit<RevokeLock, 'state' | 'finishedAt'>,
    options: { sameRequestKeys: string[]; staleBefore: Date },
  ): Promise<RevokeClaim> {
    const keyNames = options.sameRequestKeys.map((_, i) => `:key${i}`);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(secretArn),
          UpdateExpression:
            'SET #state = :running, revokeId = :revokeId, requestKey = :requestKey, #mode = :mode, requester = :requester, startedAt = :startedAt REMOVE finishedAt',
          ConditionExpression: `(attribute_not_exists(#state) OR #state <> :running OR startedAt < :staleBefore) AND ${keyNames
            .map((name) => `NOT contains(doneKeys, ${name})`)
            .join(' AND ')}`,
          ExpressionAttributeNames: { '#state': 'state', '#mode': 'mode' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':revokeId': lock.revokeId,
            ':requestKey': lock.requestKey,
            ':mode': lock.mode,
            ':requester': lock.requester,
            ':startedAt': lock.startedAt,
            ':staleBefore': options.staleBefore.toISOString(),
            ...Object.fromEntries(keyNames.map((name, i) => [name, options.sameRequestKeys[i]])),
          },
        }),
      );
      return { status: 'claimed' };
    } catch (error) {
      if (!isConditionFailed(error)) {
        throw new Error(
          `revoke: could not claim the revoke lock of ${secretArn} in table ${this.tableName}: ${describeError(error)}`,
          { cause: error },
        );
      }
    }
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key(secretArn), ConsistentRead: true }),
    );
    return { status: 'held', by: lockOf(out.Item ?? {}) };
  }

  // A Query rather than GetItem: the rotation function reads this too, and its grant is the
  // audit chain's (PutItem, Query), which needs nothing more for one more read.
  async read(secretArn: string): Promise<RevokeLock | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND #sk = :sk',
        ExpressionAttributeNames: {
          '#pk': AUDIT_TABLE.partitionKey,
          '#sk': AUDIT_TABLE.sortKey,
        },
        ExpressionAttributeValues: { ':pk': statePk('revoke'), ':sk': secretArn },
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    return item ? lockOf(item) : undefined;
  }

  async queue(
    secretArn: string,
    behind: string,
    request: QueuedRevoke,
  ): Promise<'queued' | 'not-running' | 'already-queued'> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(secretArn),
          UpdateExpression: 'SET queued = :request',
          ConditionExpression:
            '#state = :running AND revokeId = :behind AND attribute_not_exists(queued)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':behind': behind,
            ':request': request,
          },
        }),
      );
      return 'queued';
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key(secretArn), ConsistentRead: true }),
    );
    const item = out.Item ?? {};
    return item.state === 'running' && item.revokeId === behind && item.queued
      ? 'already-queued'
      : 'not-running';
  }

  async finish(
    secretArn: string,
    lock: Pick<RevokeLock, 'revokeId' | 'requestKey'>,
    state: 'completed' | 'failed',
    at: Date,
  ): Promise<QueuedRevoke | undefined> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(secretArn),
          // A completed request's key is remembered; a failed one may run again. A request queued
          // behind this one is taken off in the same write, so exactly one finisher runs it.
          UpdateExpression:
            state === 'completed'
              ? 'SET #state = :state, finishedAt = :at ADD doneKeys :keys REMOVE queued'
              : 'SET #state = :state, finishedAt = :at REMOVE queued',
          ConditionExpression: 'revokeId = :revokeId',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':state': state,
            ':at': at.toISOString(),
            ':revokeId': lock.revokeId,
            ...(state === 'completed' ? { ':keys': new Set([lock.requestKey]) } : {}),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return (out.Attributes?.queued as QueuedRevoke | undefined) ?? undefined;
    } catch (error) {
      // Someone took over a lock they thought stale: theirs now, leave it.
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }
}
