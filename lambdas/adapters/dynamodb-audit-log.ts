// The audit trail in DynamoDB (key design: ./audit-table.ts): appends to each secret's hash
// chain with one conditional write of the next seq and the chain's head item together (nothing is
// read first: a refused write names the head it lost to), answers the trail's three questions
// with Query, and verifies.

import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type ChainReport,
  GENESIS_HASH,
  hashRecord,
  INDEX_MISMATCH,
  type ReadRecord,
  verifyChain,
} from '#domain/audit-chain';
import { describeError } from '#domain/errors';
import type { AuditAlongside } from '#domain/isolation/ports';
import type { AuditEntry, AuditLog, AuditRecord, Clock } from '#domain/ports';
import { systemClock } from '#domain/ports';
import type { AuditEventType } from '#domain/vocabulary';
import { AUDIT_TABLE, HEAD_SK, SEQ_PREFIX, secretPk, seqSk } from './audit-table.ts';
import { isAwsError } from './aws-errors.ts';
import { alongsideItems } from './dynamodb-token-index.ts';

/** The audit write failed; the action it records must fail with it (Secrets Manager retries). */
export class AuditWriteError extends Error {
  override readonly name = 'AuditWriteError';
}

export interface DynamoAuditLogOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  /** Attempts when another writer takes the same place in the chain first. */
  maxAttempts?: number;
  /** Waits between attempts; tests pass a no-op. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Where each chain's last written head is kept between appends. Default: one store per
   * container, shared by every log in it, so the rotation's invocations and a sweep's many
   * appends usually cost one write each. Tests give each writer its own, as separate containers.
   */
  heads?: ChainHeads;
}

/** A chain's newest record, as far as one writer knows: where its next record links. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The heads one writer last wrote, by table and secret; the oldest are forgotten past `limit`. */
export class ChainHeads {
  private readonly heads = new Map<string, ChainHead>();

  constructor(private readonly limit = 10_000) {}

  get(key: string): ChainHead | undefined {
    return this.heads.get(key);
  }

  set(key: string, head: ChainHead): void {
    // Re-inserting keeps the Map's order by last write, so the first key is the least recent.
    this.heads.delete(key);
    this.heads.set(key, { seq: head.seq, hash: head.hash });
    if (this.heads.size > this.limit) this.heads.delete(this.heads.keys().next().value!);
  }

  delete(key: string): void {
    this.heads.delete(key);
  }
}

const containerHeads = new ChainHeads();

// Attributes of the item that are storage, not record: keys and the byTime partition.
const STORAGE_ATTRIBUTES = [
  AUDIT_TABLE.partitionKey,
  AUDIT_TABLE.sortKey,
  AUDIT_TABLE.byTimePartitionKey,
];

export class DynamoAuditLog implements AuditLog {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly heads: ChainHeads;

  constructor(options: DynamoAuditLogOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.heads = options.heads ?? containerHeads;
  }

  async append(entry: AuditEntry, alongside: AuditAlongside = {}): Promise<AuditRecord> {
    const pk = secretPk(entry.secretArn);
    const key = `${this.tableName}\n${pk}`;
    // The head this writer last wrote, else a guess that the chain is new. A wrong guess (or a
    // stale head) costs one cancelled write, whose answer names the chain's head: no read first.
    let head = this.heads.get(key);
    for (let attempt = 1; ; attempt++) {
      const unhashed = withoutUndefined({
        ...entry,
        seq: head ? head.seq + 1 : 1,
        at: this.clock().toISOString(),
        prevHash: head ? head.hash : GENESIS_HASH,
      }) as Omit<AuditRecord, 'hash'>;
      const record: AuditRecord = { ...unhashed, hash: hashRecord(unhashed) };
      try {
        await this.client.send(this.writeWithHead(pk, record, alongside));
        this.heads.set(key, record);
        return record;
      } catch (error) {
        const conflict = conflictOf(error);
        if (!conflict || attempt >= this.maxAttempts) {
          this.heads.delete(key);
          const why = conflict
            ? `another writer took the next place in the chain ${attempt} times in a row`
            : describeError(error);
          throw new AuditWriteError(
            `audit: could not record ${entry.event} for ${entry.secretArn} in table ${this.tableName}: ${why}`,
            { cause: error },
          );
        }
        // The SDK resends a write whose answer was lost; if that write landed, the head is it.
        if (conflict.head?.seq === record.seq && conflict.head.hash === record.hash) {
          this.heads.set(key, record);
          return record;
        }
        // Lost to a writer that held the same fresh head (or met it mid-write): back off with full
        // jitter, so writers that collided do not collide again in step. A remembered head was
        // merely stale.
        if (attempt > 1 || conflict.again) {
          await this.sleep(Math.random() * Math.min(1000, 20 * 2 ** attempt));
        }
        if (!conflict.again) head = conflict.head ?? (await this.newestOrFail(entry, pk));
      }
    }
  }

  async history(
    secretArn: string,
    options: { newestFirst?: boolean; limit?: number } = {},
  ): Promise<AuditRecord[]> {
    return this.query(
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :seq)',
        ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey, '#sk': AUDIT_TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': secretPk(secretArn), ':seq': SEQ_PREFIX },
        ScanIndexForward: !options.newestFirst,
        ConsistentRead: true,
      },
      options.limit,
    );
  }

  async between(from: Date, to: Date): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    // byTime is partitioned by UTC day, so a range is one query per day, in order.
    for (const day of utcDays(from, to)) {
      records.push(
        ...(await this.query({
          IndexName: AUDIT_TABLE.byTimeIndex,
          KeyConditionExpression: '#day = :day AND #at BETWEEN :from AND :to',
          ExpressionAttributeNames: {
            '#day': AUDIT_TABLE.byTimePartitionKey,
            '#at': AUDIT_TABLE.indexSortKey,
          },
          ExpressionAttributeValues: {
            ':day': day,
            ':from': from.toISOString(),
            ':to': to.toISOString(),
          },
        })),
      );
    }
    return records;
  }

  async ofType(event: AuditEventType, from: Date, to: Date): Promise<AuditRecord[]> {
    return this.query({
      IndexName: AUDIT_TABLE.byEventIndex,
      KeyConditionExpression: '#event = :event AND #at BETWEEN :from AND :to',
      ExpressionAttributeNames: {
        '#event': AUDIT_TABLE.byEventPartitionKey,
        '#at': AUDIT_TABLE.indexSortKey,
      },
      ExpressionAttributeValues: {
        ':event': event,
        ':from': from.toISOString(),
        ':to': to.toISOString(),
      },
    });
  }

  /** Reads the secret's whole chain and checks it (see domain/audit-chain.ts for what that proves). */
  async verify(secretArn: string): Promise<ChainReport> {
    return verifyChain(secretArn, await this.history(secretArn));
  }

  /**
   * The record and the chain's head item (HEAD), in one transaction. The record takes its seq only
   * if no record holds it; HEAD only moves forward, so a writer that links to a head older than
   * HEAD (a stale head, or a chain whose newest records were deleted) is refused, and the
   * refusal answers with HEAD: the next attempt links past it, and a cut stays visible to verify.
   * HEAD is what verify-audit compares a chain with, to tell a chain cut short from one that never
   * had the records. Whoever may delete records may delete HEAD too; checkpoints outside the table
   * are what stop that.
   */
  private writeWithHead(pk: string, record: AuditRecord, also: AuditAlongside) {
    const item = (sortKey: string, attributes: Record<string, unknown>) => ({
      [AUDIT_TABLE.partitionKey]: pk,
      [AUDIT_TABLE.sortKey]: sortKey,
      ...attributes,
    });
    return new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: item(seqSk(record.seq), {
              [AUDIT_TABLE.byTimePartitionKey]: record.at.slice(0, 10),
              ...record,
            }),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey },
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: item(HEAD_SK, { seq: record.seq, hash: record.hash, at: record.at }),
            ConditionExpression: 'attribute_not_exists(#pk) OR #seq < :seq',
            ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey, '#seq': 'seq' },
            ExpressionAttributeValues: { ':seq': record.seq },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        ...alongsideItems(this.tableName, also, record.at),
      ],
    });
  }

  /** The head the HEAD item recorded (writeWithHead), if any. */
  async recordedHead(secretArn: string): Promise<ChainHead | undefined> {
    return this.mirrorOf(secretPk(secretArn));
  }

  private async mirrorOf(pk: string): Promise<ChainHead | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [AUDIT_TABLE.partitionKey]: pk, [AUDIT_TABLE.sortKey]: HEAD_SK },
        ConsistentRead: true,
      }),
    );
    const item = out.Item;
    return typeof item?.seq === 'number' && typeof item.hash === 'string'
      ? { seq: item.seq, hash: item.hash }
      : undefined;
  }

  /**
   * After a refused record whose HEAD moved on nothing (a chain older than HEAD items, or one whose
   * HEAD lags it): the chain's own newest record is where the next one links.
   */
  private async newestOrFail(entry: AuditEntry, pk: string): Promise<ChainHead | undefined> {
    try {
      return await this.head(pk);
    } catch (error) {
      throw new AuditWriteError(
        `audit: could not record ${entry.event} for ${entry.secretArn} in table ${this.tableName}: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  private async head(pk: string): Promise<ChainHead | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :seq)',
        ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey, '#sk': AUDIT_TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': pk, ':seq': SEQ_PREFIX },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    if (!item) return undefined;
    if (typeof item.seq !== 'number' || typeof item.hash !== 'string') {
      throw new AuditWriteError(
        `audit: the newest record of ${pk} in table ${this.tableName} has no valid seq and hash; run verify on this secret`,
      );
    }
    return { seq: item.seq, hash: item.hash };
  }

  private async query(
    input: Omit<QueryCommandInput, 'TableName'>,
    limit?: number,
  ): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.tableName,
          ...(limit ? { Limit: limit - records.length } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of out.Items ?? []) records.push(toRecord(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey && !(limit && records.length >= limit));
    return records;
  }
}

/**
 * The record in an item, minus its storage attributes. Those are outside the hash, so each is
 * checked against the hashed field it derives from; one that disagrees (an edited `day` hides the
 * record from between() and evidence) marks the record for verifyChain to report.
 */
function toRecord(item: Record<string, unknown>): AuditRecord {
  const record: Record<string, unknown> = { ...item };
  for (const name of STORAGE_ATTRIBUTES) delete record[name];
  const problems: string[] = [];
  const derived = (name: string, expected: string, from: string) => {
    const stored = item[name];
    if (stored !== expected) {
      problems.push(
        `its ${name} attribute is ${stored === undefined ? 'missing' : JSON.stringify(stored)} where its ${from} says ${JSON.stringify(expected)}`,
      );
    }
  };
  derived(
    AUDIT_TABLE.byTimePartitionKey,
    typeof record.at === 'string' ? record.at.slice(0, 10) : '(no time)',
    `time (at ${JSON.stringify(record.at ?? null)})`,
  );
  if (typeof record.secretArn === 'string') {
    derived(AUDIT_TABLE.partitionKey, secretPk(record.secretArn), 'secretArn');
  }
  if (typeof record.seq === 'number') derived(AUDIT_TABLE.sortKey, seqSk(record.seq), 'seq');
  const out = record as unknown as ReadRecord;
  if (problems.length > 0) {
    out[INDEX_MISMATCH] =
      `${problems.join('; ')} (the index attributes are outside the hash; such a record is hidden from time-range queries and evidence)`;
  }
  return out;
}

/**
 * A transaction refused for the chain (not for a fault): `head` is the HEAD item it answered with
 * when HEAD was ahead of the record; neither when only the record's place was taken. `again`: it
 * met another transaction on the same items, or throttling, so nothing was decided: the same
 * write is tried again after a pause.
 */
function conflictOf(error: unknown): { head?: ChainHead; again?: boolean } | undefined {
  if (!isAwsError(error, 'TransactionCanceledException')) return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string; Item?: unknown }[] })
    .CancellationReasons;
  const codes = (reasons ?? []).map((reason) => reason.Code ?? 'None');
  if (!codes.every((code) => RETRIED_REASONS.has(code)) || codes.every((c) => c === 'None')) {
    return undefined;
  }
  if (!codes.includes('ConditionalCheckFailed')) return { again: true };
  const item = (reasons?.[1]?.Item ?? {}) as Record<string, unknown>;
  // The SDK leaves a refusal's item as DynamoDB sent it: { seq: { N: '7' }, hash: { S: '…' } }.
  const plain = (value: unknown) =>
    value && typeof value === 'object' ? Object.values(value as object)[0] : value;
  const seq = Number(plain(item.seq));
  const hash = plain(item.hash);
  return Number.isInteger(seq) && typeof hash === 'string' ? { head: { seq, hash } } : {};
}

const RETRIED_REASONS = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

/** DynamoDB rejects undefined, and the hash must cover exactly what is stored. */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value))
    return value.filter((item) => item !== undefined).map(withoutUndefined) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => [key, withoutUndefined(member)]),
  ) as T;
}

function* utcDays(from: Date, to: Date): Generator<string> {
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  while (day.getTime() <= to.getTime()) {
    yield day.toISOString().slice(0, 10);
    day.setUTCDate(day.getUTCDate() + 1);
  }
}

/**
 * Creates the audit table exactly as the CDK construct deploys it (keys, both indexes with
 * every attribute projected, on-demand, TTL on expiresAt), for tests and for running the
 * integration suite against an AWS_ENDPOINT_URL. Waits until it is active.
 */
export async function createAuditTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, byTimePartitionKey, byEventPartitionKey, indexSortKey } =
    AUDIT_TABLE;
  const index = (name: string, hashKey: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: hashKey, KeyType: 'HASH' as const },
      { AttributeName: indexSortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        partitionKey,
        sortKey,
        byTimePartitionKey,
        byEventPartitionKey,
        indexSortKey,
      ].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        index(AUDIT_TABLE.byTimeIndex, byTimePartitionKey),
        index(AUDIT_TABLE.byEventIndex, byEventPartitionKey),
      ],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName: tableName });
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: AUDIT_TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // Some compatible endpoints (dynalite among them) have no TTL. Alert marks then stay until
    // deleted; the alerter treats an expired mark as absent, so behaviour does not change.
    if (!isUnsupported(error)) throw error;
  }
}

/** Deletes a table made by createAuditTable (a missing table is fine) and waits until it is gone. */
export async function deleteAuditTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFoundException')) return;
    throw error;
  }
  await waitUntilTableNotExists(
    { client, maxWaitTime: 120, minDelay: 1 },
    { TableName: tableName },
  );
}

function isUnsupported(error: unknown): boolean {
  const name = (error as Error)?.name ?? '';
  const message = (error as Error)?.message ?? '';
  return (
    /UnknownOperation|NotImplemented|InvalidAction|UnsupportedOperation/i.test(name) ||
    /not (yet )?(implemented|supported)|unknown operation/i.test(message)
  );
}
