// Every hash chain in the audit table and the heads recorded beside them (the HEAD items), in one
// keys-only Scan: a secret deleted long ago is in no index but the table itself. The CLI's
// verify-audit and evidence list chains with it, and each checkpoint of the anchored audit
// trail reads the heads it anchors from it.
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
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
 * Every chain's head, for a checkpoint on demand: the HEAD item where there is one, otherwise the
 * chain's newest record (a chain whose HEAD item is gone is anchored where it really ends). One
 * Scan of the whole table: for the CLI, not for every scheduled checkpoint.
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
    const missing = arns.filter((arn) => !heads.has(arn));
    return [...found, ...(await newestRecords(client, tableName, missing))];
  };

/**
 * The heads each scheduled checkpoint records: those of the chains the previous checkpoint anchored
 * and of every secret the suite manages (`members`), read item by item (BatchGetItem of the HEAD
 * items, 100 a call), so a checkpoint costs one read per chain and never a Scan of the whole
 * trail, which grows every month. A chain of a secret never managed is anchored by the next
 * checkpoint written on demand (dynamoChainHeads).
 */
export const knownChainHeads =
  (
    client: DynamoDBDocumentClient,
    tableName: string,
    members: () => Promise<string[]>,
  ): ChainHeadSource =>
  async (previous) => {
    const arns = [
      ...new Set([...(previous?.heads ?? []).map((h) => h.secretArn), ...(await members())]),
    ];
    const found: CheckpointHead[] = [];
    const withoutHead: string[] = [];
    for (let i = 0; i < arns.length; i += 100) {
      const batch = arns.slice(i, i + 100);
      const heads = await batchHeads(client, tableName, batch);
      for (const secretArn of batch) {
        const head = heads.get(secretArn);
        if (head) found.push({ secretArn, ...head });
        else withoutHead.push(secretArn);
      }
    }
    return [...found, ...(await newestRecords(client, tableName, withoutHead))];
  };

/** The HEAD items of `arns` (at most 100), strongly consistent, unprocessed keys retried. */
async function batchHeads(
  client: DynamoDBDocumentClient,
  tableName: string,
  arns: string[],
): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  let keys: Record<string, unknown>[] = arns.map((arn) => ({
    [AUDIT_TABLE.partitionKey]: secretPk(arn),
    [AUDIT_TABLE.sortKey]: HEAD_SK,
  }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt >= 8) throw new Error(`BatchGetItem left ${keys.length} HEAD items unread`);
    const out = await client.send(
      new BatchGetCommand({
        RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } },
      }),
    );
    for (const item of out.Responses?.[tableName] ?? []) {
      const pk = item[AUDIT_TABLE.partitionKey];
      const head = headOf(item);
      if (typeof pk === 'string' && head) heads.set(pk.slice(SECRET_PREFIX.length), head);
    }
    keys = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
  }
  return heads;
}

/** The newest record of each chain in `arns` that has one: where a chain without HEAD ends. */
async function newestRecords(
  client: DynamoDBDocumentClient,
  tableName: string,
  arns: string[],
): Promise<CheckpointHead[]> {
  const found: CheckpointHead[] = [];
  for (const secretArn of arns) {
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
}
