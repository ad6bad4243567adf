// ManagedSet in the audit table: one suite-state item per secret our rotation is attached to
// (pk STATE#managed, sk = the secret's ARN; see audit-table.ts). The sweep walks it with Query,
// page by page in ARN order, to find secrets whose lifespan tag was removed behind its back.
//
// One partition: at 100,000 members that is ~15 MB, read as ~15 Query pages per sweep, and
// written only when rotation is attached or detached (paced far under a partition's 1,000 writes/s).

import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ManagedSecret, ManagedSet } from '#domain/ports';
import { AUDIT_TABLE, statePk } from './audit-table.ts';

export const MANAGED_PK = statePk('managed');

export class DynamoManagedSet implements ManagedSet {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Members per page; DynamoDB's 1 MB page limit applies as well. */
    private readonly pageSize = 1000,
  ) {}

  async add(secret: ManagedSecret): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [AUDIT_TABLE.partitionKey]: MANAGED_PK,
          [AUDIT_TABLE.sortKey]: secret.arn,
          name: secret.name,
        },
      }),
    );
  }

  async remove(secretArn: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { [AUDIT_TABLE.partitionKey]: MANAGED_PK, [AUDIT_TABLE.sortKey]: secretArn },
      }),
    );
  }

  async page(after?: string): Promise<{ members: ManagedSecret[]; last?: string }> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': MANAGED_PK },
        Limit: this.pageSize,
        ConsistentRead: true,
        ...(after !== undefined
          ? {
              ExclusiveStartKey: {
                [AUDIT_TABLE.partitionKey]: MANAGED_PK,
                [AUDIT_TABLE.sortKey]: after,
              },
            }
          : {}),
      }),
    );
    const members = (out.Items ?? []).map((item) => {
      const arn = String(item[AUDIT_TABLE.sortKey]);
      return { arn, name: typeof item.name === 'string' ? item.name : arn };
    });
    const page: { members: ManagedSecret[]; last?: string } = { members };
    // More pages only when DynamoDB says so; the last member is where the next page starts.
    if (out.LastEvaluatedKey && members.length > 0) page.last = members.at(-1)!.arn;
    return page;
  }
}
