// How an append reads a refused write (the transaction of a record and its chain's HEAD item):
// a refusal that names the head, one that met another transaction mid-write (nothing decided),
// and a fault, which is the append's failure.
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuditWriteError, ChainHeads, DynamoAuditLog } from '#adapters/dynamodb-audit-log';
import type { AuditEntry } from '#domain/ports';

const document = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(document);
const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:payments/api-key-AbCdEf';
const entry: AuditEntry = {
  event: 'step.succeeded',
  outcome: 'succeeded',
  secretArn: arn,
  secretName: 'payments/api-key',
  step: 'createSecret',
  trigger: { source: 'secretsmanager' },
};
const refused = (
  ...reasons: { Code: string; Item?: Record<string, { N: string } | { S: string }> }[]
) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: reasons,
  });
const log = () =>
  new DynamoAuditLog({
    client: document,
    tableName: 'audit',
    heads: new ChainHeads(),
    sleep: async () => {},
    clock: () => new Date('2030-01-01T00:00:00Z'),
  });
const seqsWritten = () =>
  dynamo
    .commandCalls(TransactWriteCommand)
    .map((call) => call.args[0].input.TransactItems?.[0]?.Put?.Item?.seq as number);

beforeEach(() => dynamo.reset());

describe('an append whose write is refused', () => {
  it('links to the head the refusal names, reading nothing', async () => {
    // Prepare: a chain this writer has not seen, whose HEAD is record 7
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(
        refused(
          { Code: 'ConditionalCheckFailed' },
          { Code: 'ConditionalCheckFailed', Item: { seq: { N: '7' }, hash: { S: 'h7' } } },
        ),
      )
      .resolves({});

    // Act
    const record = await log().append(entry);

    // Assess
    expect(record).toMatchObject({ seq: 8, prevHash: 'h7' });
    expect(seqsWritten()).toEqual([1, 8]);
    expect(dynamo.calls()).toHaveLength(2);
  });

  it('writes the same record again when it met another transaction mid-write', async () => {
    // Prepare
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(refused({ Code: 'None' }, { Code: 'TransactionConflict' }))
      .resolves({});

    // Act
    const record = await log().append(entry);

    // Assess
    expect(record.seq).toBe(1);
    expect(seqsWritten()).toEqual([1, 1]);
  });

  it('fails with the table and the event named when the write fails for another reason', async () => {
    // Prepare
    dynamo.on(TransactWriteCommand).rejects(refused({ Code: 'ValidationError' }, { Code: 'None' }));

    // Act
    const append = log().append(entry);

    // Assess
    await expect(append).rejects.toThrow(AuditWriteError);
    await expect(append).rejects.toThrow(/could not record step\.succeeded .* in table audit/);
    expect(dynamo.calls()).toHaveLength(1);
  });
});
