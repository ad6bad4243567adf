// Previous tokens' last uses in the audit table (audit-table.ts: pk USE#<secret ARN>, sk the
// version ID), written by consumers' verifiers and read by the sweep before it revokes a `random`
// previous token. An item holds a time and a consumer's name, never a token or a digest of one.
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TokenUse, TokenUses } from '#domain/ports';
import { AUDIT_TABLE, usePk } from './audit-table.ts';
import { isAwsError } from './aws-errors.ts';

/** Items expire with the versions they describe: a version lives at most a lifespan (30 days). */
const KEEP_MS = 60 * 86_400_000;

export class DynamoTokenUses implements TokenUses {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(secretArn: string, versionId: string, use: TokenUse): Promise<void> {
    const at = use.at.toISOString();
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [AUDIT_TABLE.partitionKey]: usePk(secretArn), [AUDIT_TABLE.sortKey]: versionId },
          UpdateExpression: 'SET lastUsedAt = :at, usedBy = :by, #ttl = :ttl',
          // The latest use wins when two consumers record out of order.
          ConditionExpression: 'attribute_not_exists(lastUsedAt) OR lastUsedAt < :at',
          ExpressionAttributeNames: { '#ttl': AUDIT_TABLE.ttlAttribute },
          ExpressionAttributeValues: {
            ':at': at,
            ':by': use.by.slice(0, 200),
            ':ttl': Math.floor((use.at.getTime() + KEEP_MS) / 1000),
          },
        }),
      );
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return;
      throw error;
    }
  }

  async lastUse(secretArn: string, versionId: string): Promise<TokenUse | undefined> {
    const { Item } = await this.dynamo.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [AUDIT_TABLE.partitionKey]: usePk(secretArn), [AUDIT_TABLE.sortKey]: versionId },
        ConsistentRead: true,
      }),
    );
    if (typeof Item?.lastUsedAt !== 'string') return undefined;
    const at = new Date(Item.lastUsedAt);
    if (Number.isNaN(at.getTime())) return undefined;
    return { at, by: typeof Item.usedBy === 'string' ? Item.usedBy : 'unknown' };
  }
}
