import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoSweepCursorStore } from '#adapters/dynamodb-sweep-cursor';

const ddb = mockClient(DynamoDBDocumentClient);
// The class's send is patched for every instance: unpatch it for the next file in this worker.
afterAll(() => {
  ddb.restore();
});

beforeEach(() => {
  ddb.reset();
});

describe('the sweep cursor in DynamoDB', () => {
  const store = () =>
    new DynamoSweepCursorStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      'audit',
    );
  const KEY = { pk: 'STATE#sweep', sk: 'cursor' };

  it('saves, reads back and clears the cursor under the suite-state key', async () => {
    ddb.on(PutCommand).resolves({}).on(DeleteCommand).resolves({});
    ddb.on(GetCommand).resolves({
      Item: { ...KEY, nextToken: 'tok', position: 30, startedAt: '2030-03-10T12:00:00.000Z' },
    });
    await store().put({ nextToken: 'tok', position: 30, startedAt: '2030-03-10T12:00:00.000Z' });
    const cursor = await store().get();
    await store().clear();
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'audit',
      Item: { ...KEY, nextToken: 'tok', position: 30, startedAt: '2030-03-10T12:00:00.000Z' },
    });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'audit',
      Key: KEY,
      ConsistentRead: true,
    });
    expect(cursor).toEqual({
      nextToken: 'tok',
      position: 30,
      startedAt: '2030-03-10T12:00:00.000Z',
    });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { TableName: 'audit', Key: KEY });
  });

  it('saves a cursor on the first page without a NextToken attribute', async () => {
    ddb.on(PutCommand).resolves({});
    await store().put({ position: 5, startedAt: '2030-03-10T12:00:00.000Z' });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toEqual({
      ...KEY,
      position: 5,
      startedAt: '2030-03-10T12:00:00.000Z',
    });
  });

  it('saves and reads back the ARNs done on the page, and ignores a damaged list', async () => {
    const done = ['arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf'];
    const saved = {
      nextToken: 'tok',
      position: 1,
      doneOnPage: done,
      startedAt: '2030-03-10T12:00:00.000Z',
    };
    ddb.on(PutCommand).resolves({});
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { ...KEY, ...saved } })
      .resolvesOnce({ Item: { ...KEY, ...saved, doneOnPage: [42] } });
    await store().put(saved);
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toEqual({ ...KEY, ...saved });
    expect(await store().get()).toEqual(saved);
    const { doneOnPage: _, ...withoutList } = saved;
    expect(await store().get()).toEqual(withoutList);
  });

  it('reads no cursor when there is none or the item is damaged', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({})
      .resolvesOnce({ Item: { ...KEY, position: 'x' } });
    expect(await store().get()).toBeUndefined();
    expect(await store().get()).toBeUndefined();
  });
});
