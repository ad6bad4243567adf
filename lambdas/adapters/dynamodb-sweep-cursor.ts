// SweepCursorStore in the audit table: one suite-state item (pk STATE#sweep, see audit-table.ts)
// holding where an interrupted sweep stopped. Only the sweep writes it (one sweep at a time).

import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { SweepCursor, SweepCursorStore } from '#domain/ports';
import { AUDIT_TABLE, statePk } from './audit-table.ts';

const KEY = { [AUDIT_TABLE.partitionKey]: statePk('sweep'), [AUDIT_TABLE.sortKey]: 'cursor' };

export class DynamoSweepCursorStore implements SweepCursorStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(): Promise<SweepCursor | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }),
    );
    const item = out.Item;
    // A damaged item must not stop every sweep: ignore it and start from the top.
    if (!item || typeof item.position !== 'number' || typeof item.startedAt !== 'string')
      return undefined;
    const cursor: SweepCursor = { position: item.position, startedAt: item.startedAt };
    if (typeof item.nextToken === 'string') cursor.nextToken = item.nextToken;
    if (item.phase === 'managed') cursor.phase = 'managed';
    if (typeof item.managedAfter === 'string') cursor.managedAfter = item.managedAfter;
    if (typeof item.backlog === 'number') cursor.backlog = item.backlog;
    if (Array.isArray(item.doneOnPage) && item.doneOnPage.every((a) => typeof a === 'string')) {
      cursor.doneOnPage = item.doneOnPage;
    }
    return cursor;
  }

  async put(cursor: SweepCursor): Promise<void> {
    const item: Record<string, unknown> = {
      ...KEY,
      position: cursor.position,
      startedAt: cursor.startedAt,
    };
    if (cursor.nextToken !== undefined) item.nextToken = cursor.nextToken;
    if (cursor.phase !== undefined) item.phase = cursor.phase;
    if (cursor.managedAfter !== undefined) item.managedAfter = cursor.managedAfter;
    if (cursor.backlog !== undefined) item.backlog = cursor.backlog;
    if (cursor.doneOnPage !== undefined) item.doneOnPage = cursor.doneOnPage;
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async clear(): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: KEY }));
  }
}
