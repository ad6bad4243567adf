// Every hash chain in the audit table and the heads recorded beside them (the HEAD items), in one
// keys-only Scan: a secret deleted long ago is in no index but the table itself. The CLI's
// verify-audit and evidence list chains with it, and each checkpoint of the anchored audit
// trail reads the heads it anchors from it.
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ChainHeadSource, CheckpointHead } from '#domain/audit-anchor';
import { AUDIT_TABLE, HEAD_SK, SEQ_PREFIX, secretPk } from './audit-table.ts';

const SECRET_PREFIX = secretPk('');

/** A chain's newest record as something outside the chain recorded it. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** Every secret with audit records (in the order first seen), and the heads recorded beside them. */
export async function listChains(
  client: DynamoDBDocumentClient,
  tableName: string,
  onPage?: (page: number, found: number) => void,
): Promise<{ arns: string[]; heads: Map<string, ChainHead> }> {
  const arns = new Set<string>();
  const heads = new Map<string, ChainHead>();
  let startKey: Record<string, unknown> | undefined;
  let page = 0;
  do {
    const out = await client.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#pk, #sk, seq, #hash',
        FilterExpression: 'begins_with(#pk, :prefix)',
        ExpressionAttributeNames: {
          '#pk': AUDIT_TABLE.partitionKey,
          '#sk': AUDIT_TABLE.sortKey,
          '#hash': 'hash',
        },
        ExpressionAttributeValues: { ':prefix': SECRET_PREFIX },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of out.Items ?? []) {
      const pk = item[AUDIT_TABLE.partitionKey];
      if (typeof pk !== 'string') continue;
      const arn = pk.slice(SECRET_PREFIX.length);
      const head = headOf(item);
      if (item[AUDIT_TABLE.sortKey] === HEAD_SK) {
        if (head) heads.set(arn, head);
      } else arns.add(arn);
    }
    startKey = out.LastEvaluatedKey;
    page += 1;
    onPage?.(page, arns.size);
  } while (startKey);
  return { arns: [...arns], heads };
}

const headOf = (item: Record<string, unknown> | undefined): ChainHead | undefined =>
  typeof item?.seq === 'number' && typeof item.hash === 'string'
    ? { seq: item.seq, hash: item.hash }
    : undefined;

/**
 * Every chain's head, for a checkpoint: the HEAD item where there is one, otherwise the chain's
 * newest record (a chain whose HEAD item is gone is anchored where it really ends).
 */
export const dynamoChainHeads =
  (client: DynamoDBDocumentClient, tableName: string): ChainHeadSource =>
  async () => {
    const { arns, heads } = await listChains(client, tableName);
    const found: CheckpointHead[] = [...heads].map(([secretArn, head]) => ({
      secretArn,
      seq: head.seq,
      hash: head.hash,
    }));
    for (const secretArn of arns.filter((arn) => !heads.has(arn))) {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :seq)',
          ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey, '#sk': AUDIT_TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': secretPk(secretArn), ':seq': SEQ_PREFIX },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const head = headOf(out.Items?.[0]);
      if (head) found.push({ secretArn, ...head });
    }
    return found;
  };
