import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';

let aws: LocalAws;
let dynamo: DynamoDBClient;
const TableName = 'transactions';

beforeAll(async () => {
  aws = await startLocalAws();
  dynamo = new DynamoDBClient({ ...aws.clientConfig, maxAttempts: 1 });
  await dynamo.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
});
afterAll(async () => {
  dynamo.destroy();
  await aws.stop();
});

const put = (id: string, n: number, condition?: string) => ({
  Put: {
    TableName,
    Item: { id: { S: id }, n: { N: String(n) } },
    ...(condition && { ConditionExpression: condition }),
    ...(condition?.includes(':n') && { ExpressionAttributeValues: { ':n': { N: String(n) } } }),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  },
});
const read = async (id: string) =>
  (await dynamo.send(new GetItemCommand({ TableName, Key: { id: { S: id } } }))).Item?.n?.N;
const refusal = async (input: TransactWriteItemsCommandInput) => {
  try {
    await dynamo.send(new TransactWriteItemsCommand(input));
  } catch (error) {
    if (error instanceof TransactionCanceledException) return error;
    throw error;
  }
  throw new Error('expected the transaction to be cancelled');
};

describe('DynamoDB TransactWriteItems', () => {
  it('writes every item when every condition holds', async () => {
    // Act
    await dynamo.send(
      new TransactWriteItemsCommand({
        TransactItems: [put('a', 1, 'attribute_not_exists(id)'), put('b', 1)],
      }),
    );

    // Assess
    expect([await read('a'), await read('b')]).toEqual(['1', '1']);
  });

  it('undoes the items already written when a later condition fails, and names the item it found', async () => {
    // Prepare: c is new, b holds 1
    // Act: c would be written first, then b's condition (n < 1) fails
    const error = await refusal({
      TransactItems: [put('c', 1, 'attribute_not_exists(id)'), put('b', 1, 'n < :n')],
    });

    // Assess
    expect(error.CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    expect(error.CancellationReasons?.[1]?.Item).toEqual({ id: { S: 'b' }, n: { N: '1' } });
    expect(await read('c')).toBeUndefined();
    expect(await read('b')).toBe('1');
  });

  it('puts back an item that was overwritten before the failing condition', async () => {
    // Act: a (holding 1) is overwritten with 2, then a's twin condition on b fails
    const error = await refusal({
      TransactItems: [put('a', 2), put('b', 1, 'attribute_not_exists(id)')],
    });

    // Assess
    expect(error.CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    expect(await read('a')).toBe('1');
  });

  it('answers a repeated ClientRequestToken as the first time, writing nothing again', async () => {
    // Prepare
    const input = {
      ClientRequestToken: 'once',
      TransactItems: [put('d', 1, 'attribute_not_exists(id)')],
    };
    await dynamo.send(new TransactWriteItemsCommand(input));

    // Act: the same request again (as the SDK resends one whose answer was lost)
    await dynamo.send(new TransactWriteItemsCommand(input));

    // Assess
    expect(await read('d')).toBe('1');
  });
});
