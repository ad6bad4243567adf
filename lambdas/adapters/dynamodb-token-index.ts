// The token index in the audit table (audit-table.ts: pk FP#<keyed fingerprint>, sk <secret
// ARN>#<version ID>), and the sweep's memory of what it indexed (STATE#token-index, one item per
// secret). An item holds the IndexedToken fields and nothing else: never the token, never `day`
// or `event` (so never in the byTime or byEvent indexes).
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AuditAlongside, IndexedVersions, TokenIndex } from '#domain/isolation/ports';
import type { IndexedToken } from '#domain/keyed-fingerprint';
import type { Pace } from '#domain/pacer';
import {
  AUDIT_TABLE,
  fingerprintPk,
  fingerprintSk,
  statePk,
  TOKEN_INDEX_STATE,
} from './audit-table.ts';
import { isAwsError } from './aws-errors.ts';

const PK = AUDIT_TABLE.partitionKey;
const SK = AUDIT_TABLE.sortKey;

export class DynamoTokenIndex implements TokenIndex {
  /** `pace` spaces the reads of a partition (the scanner's lookups); none by default. */
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly pace: Pace = (call) => call(),
  ) {}

  /** Every item of one partition, page by page (a Query, never a Scan). */
  private async *partition(pk: string, consistentRead: boolean) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.pace(() =>
        this.dynamo.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':pk': pk },
            ...(consistentRead && { ConsistentRead: true }),
            ...(start && { ExclusiveStartKey: start }),
          }),
        ),
      );
      yield* (page.Items ?? []) as Record<string, unknown>[];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async record(
    seen: Omit<IndexedToken, 'firstSeen' | 'lastSeen' | 'revokedAt'>,
    at: Date,
  ): Promise<void> {
    await this.dynamo.send(new UpdateCommand(recordUpdate(this.tableName, seen, at)));
  }

  async holders(fingerprint: string): Promise<IndexedToken[]> {
    const tokens: IndexedToken[] = [];
    for await (const item of this.partition(fingerprintPk(fingerprint), true)) {
      const token = indexedToken(item);
      if (token) tokens.push(token);
    }
    return tokens;
  }

  async markRevoked(
    fingerprint: string,
    secretArn: string,
    versionId: string,
    at: Date,
  ): Promise<boolean> {
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: fingerprintPk(fingerprint), [SK]: fingerprintSk(secretArn, versionId) },
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }

  async indexedVersions(secretArn: string): Promise<IndexedVersions | undefined> {
    const { Item } = await this.dynamo.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: statePk(TOKEN_INDEX_STATE), [SK]: secretArn },
      }),
    );
    return versionsOf(Item?.versions);
  }

  async *allIndexedVersions(): AsyncIterable<[string, IndexedVersions]> {
    for await (const item of this.partition(statePk(TOKEN_INDEX_STATE), false)) {
      const versions = versionsOf(item.versions);
      if (versions) yield [String(item[SK]), versions];
    }
  }

  async rememberVersions(secretArn: string, versions: IndexedVersions): Promise<void> {
    await this.dynamo.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { [PK]: statePk(TOKEN_INDEX_STATE), [SK]: secretArn, versions },
      }),
    );
  }
}

function versionsOf(versions: unknown): IndexedVersions | undefined {
  if (!versions || typeof versions !== 'object') return undefined;
  const out: IndexedVersions = {};
  for (const [id, entry] of Object.entries(versions as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object') continue;
    const { fingerprint, stages, environment } = entry as Record<string, unknown>;
    out[id] = {
      ...(typeof fingerprint === 'string' && { fingerprint }),
      ...(typeof environment === 'string' && { environment }),
      stages: Array.isArray(stages) ? stages.filter((s): s is string => typeof s === 'string') : [],
    };
  }
  return out;
}

/** An item read back as the IndexedToken it must be; anything else (a foreign item) is skipped. */
export function indexedToken(item: Record<string, unknown>): IndexedToken | undefined {
  const { fingerprint, secretArn, secretName, versionId, stages, environment } = item;
  const { firstSeen, lastSeen, revokedAt } = item;
  if (
    typeof fingerprint !== 'string' ||
    typeof secretArn !== 'string' ||
    typeof versionId !== 'string' ||
    typeof firstSeen !== 'string' ||
    typeof lastSeen !== 'string'
  ) {
    return undefined;
  }
  const list = stages instanceof Set ? [...stages] : Array.isArray(stages) ? stages : [];
  return {
    fingerprint,
    secretArn,
    secretName: typeof secretName === 'string' ? secretName : secretArn,
    versionId,
    stages: list.filter((s): s is string => typeof s === 'string'),
    ...(typeof environment === 'string' && { environment }),
    firstSeen,
    lastSeen,
    ...(typeof revokedAt === 'string' && { revokedAt }),
  };
}

/**
 * The UpdateItem that records `seen` (TokenIndex.record): the first time keeps `firstSeen`, later
 * ones update the rest; never `revokedAt`. Also written inside the audit's transaction, when a
 * rotation indexes the token it minted (#adapters/dynamodb-audit-log).
 */
export function recordUpdate(
  tableName: string,
  seen: Omit<IndexedToken, 'firstSeen' | 'lastSeen' | 'revokedAt'>,
  at: Date,
) {
  const values: Record<string, unknown> = {
    ':fp': seen.fingerprint,
    ':arn': seen.secretArn,
    ':name': seen.secretName,
    ':version': seen.versionId,
    ':stages': [...seen.stages],
    ':now': at.toISOString(),
  };
  let update =
    'SET fingerprint = :fp, secretArn = :arn, secretName = :name, versionId = :version, stages = :stages, lastSeen = :now, firstSeen = if_not_exists(firstSeen, :now)';
  if (seen.environment !== undefined) {
    update += ', environment = :env';
    values[':env'] = seen.environment;
  } else {
    update += ' REMOVE environment';
  }
  return {
    TableName: tableName,
    Key: {
      [PK]: fingerprintPk(seen.fingerprint),
      [SK]: fingerprintSk(seen.secretArn, seen.versionId),
    },
    UpdateExpression: update,
    ExpressionAttributeValues: values,
  };
}

/**
 * What an audit write carries besides its record (AuditLog.append's `alongside`): the token index
 * item of a token just seen, at the record's time. Unconditional, so it never cancels the record;
 * a record written again writes it again.
 */
export function alongsideItems(tableName: string, alongside: AuditAlongside, at: string) {
  const seen = alongside.tokenSeen;
  return seen ? [{ Update: recordUpdate(tableName, seen, new Date(at)) }] : [];
}
