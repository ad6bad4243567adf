// Appending to a secret's chain without reading its head first: writers that each remember the
// head they last wrote (as separate Lambda containers do) race for the same place in one chain
// on a real DynamoDB wire protocol (the embedded local AWS's dynalite, or AWS_ENDPOINT_URL).
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_TABLE, HEAD_SK, secretPk, seqSk } from '#adapters/audit-table';
import {
  ChainHeads,
  createAuditTable,
  DynamoAuditLog,
  deleteAuditTable,
} from '#adapters/dynamodb-audit-log';
import type { AuditEntry } from '#domain/ports';
import { type LocalAws, startLocalAws } from '#local-aws/index';

const run = randomUUID().slice(0, 8);
const tableName = `token-rotation-audit-append-test-${run}`;
let aws: LocalAws | undefined;
let config = {};
let raw: DynamoDBClient;

beforeAll(async () => {
  if (!process.env.AWS_ENDPOINT_URL) {
    aws = await startLocalAws();
    config = aws.clientConfig;
  }
  raw = new DynamoDBClient(config);
  await createAuditTable(raw, tableName);
}, 180_000);

afterAll(async () => {
  await deleteAuditTable(raw, tableName);
  await aws?.stop();
}, 180_000);

const arnOf = (name: string) =>
  `arn:aws:secretsmanager:us-east-1:123456789012:secret:${run}/${name}-AbCdEf`;

const entry = (secretArn: string, detail: Record<string, string>): AuditEntry => ({
  event: 'step.succeeded',
  outcome: 'succeeded',
  secretArn,
  secretName: secretArn.split(':secret:')[1]!.slice(0, -7),
  step: 'createSecret',
  detail,
  trigger: { source: 'secretsmanager' },
});

/** Opens the gate once `parties` requests wait at it, so they reach DynamoDB together. */
function gate(parties: number) {
  let waiting = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return async () => {
    waiting += 1;
    if (waiting === parties) open();
    await opened;
  };
}

/**
 * One writer as one container: its own client (whose DynamoDB operations are noted in `sent`)
 * and its own remembered heads. `hold`, while set, delays each write until it resolves.
 */
function writer() {
  const client = new DynamoDBClient(config);
  const sent: string[] = [];
  /** The seq each write moved the chain's head item to (written with each record). */
  const mirrored: number[] = [];
  const state: { hold?: () => Promise<void> } = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName).replace(/Command$/, '');
      sent.push(operation);
      if (operation === 'TransactWriteItems') {
        const writes = (
          args.input as { TransactItems?: { Put?: { Item?: Record<string, unknown> } }[] }
        ).TransactItems;
        // The item as the document client gave it, or already marshalled to DynamoDB's types.
        const plain = (value: unknown) =>
          typeof value === 'object' && value !== null ? Object.values(value)[0] : value;
        const head = writes?.find((w) => plain(w.Put?.Item?.[AUDIT_TABLE.sortKey]) === HEAD_SK);
        if (head) mirrored.push(Number(plain(head.Put?.Item?.seq)));
        if (state.hold) await state.hold();
      }
      return next(args);
    },
    { step: 'initialize', name: 'noteAndHoldWrites' },
  );
  const log = new DynamoAuditLog({
    client: DynamoDBDocumentClient.from(client),
    tableName,
    heads: new ChainHeads(),
    sleep: async () => {},
  });
  return { log, sent, mirrored, state, client };
}

describe('appending to one chain from several writers', () => {
  it('costs one write per record and no read, the chain head item moving with each record', async () => {
    // Prepare
    const arn = arnOf('one-writer');
    const { log, sent, mirrored } = writer();

    // Act
    for (let i = 0; i < 4; i++) await log.append(entry(arn, { record: String(i) }));

    // Assess
    // A new chain: nothing read, one write (the record and the head item together) per record.
    expect(sent).toEqual(Array(4).fill('TransactWriteItems'));
    // the head item moves forward with each (what verify-audit compares a chain with)
    expect(mirrored).toEqual([1, 2, 3, 4]);
    expect(await log.verify(arn)).toMatchObject({ ok: true, total: 4 });
  });

  it('costs a writer that never saw an existing chain one refused write and no read', async () => {
    // Prepare: a chain of three records, and a writer (a cold container) that has not seen it
    const arn = arnOf('cold-writer');
    const setup = writer();
    for (let n = 0; n < 3; n++) await setup.log.append(entry(arn, { n: `${n}` }));
    const cold = writer();

    // Act
    const first = await cold.log.append(entry(arn, { n: 'cold' }));
    const second = await cold.log.append(entry(arn, { n: 'warm' }));

    // Assess: the refused write answered with the head it lost to, so nothing was read
    expect([first.seq, second.seq]).toEqual([4, 5]);
    expect(cold.sent).toEqual(Array(3).fill('TransactWriteItems'));
    expect(await cold.log.verify(arn)).toMatchObject({ ok: true, total: 5 });
  });

  it('keeps one unbroken chain with every record when two writers with stale heads race for the same place', async () => {
    // Prepare: a chain of three records, and two writers (two containers) that have not seen it
    const arn = arnOf('race');
    const setup = writer();
    for (let n = 0; n < 3; n++) await setup.log.append(entry(arn, { writer: 'setup', n: `${n}` }));
    const a = writer();
    const b = writer();
    const together = gate(2);
    a.state.hold = together;
    b.state.hold = together;

    // Act 1: both read the head, then write for seq 4 at the same moment
    const [firstA, firstB] = await Promise.all([
      a.log.append(entry(arn, { writer: 'a', n: 'first' })),
      b.log.append(entry(arn, { writer: 'b', n: 'first' })),
    ]);
    a.state.hold = undefined;
    b.state.hold = undefined;

    // Assess 1: one won seq 4, the other lost it and, told the head by the refusal, took seq 5
    expect([firstA.seq, firstB.seq].sort()).toEqual([4, 5]);
    const [winner, loser] = firstA.seq === 4 ? [a, b] : [b, a];
    // Each guessed a new chain and was refused with its head (seq 3); the loser was refused twice.
    expect(winner.sent).toEqual(Array(2).fill('TransactWriteItems'));
    expect(loser.sent).toEqual(Array(3).fill('TransactWriteItems'));

    // Act 2: the winner's remembered head (seq 4) is now stale; both append five more at once
    winner.sent.length = 0;
    const appendAll = async (w: ReturnType<typeof writer>, name: string) => {
      const written = [];
      for (let n = 0; n < 5; n++) {
        written.push(await w.log.append(entry(arn, { writer: name, n: `${n}` })));
      }
      return written;
    };
    const [byA, byB] = await Promise.all([appendAll(a, 'a'), appendAll(b, 'b')]);

    // Assess 2: every record is in the chain once, in one unbroken sequence
    // The winner's first write of them links to its stale head and is refused, nothing read.
    expect(winner.sent.slice(0, 2)).toEqual(Array(2).fill('TransactWriteItems'));
    expect(winner.sent).not.toContain('GetItem');
    expect(winner.sent).not.toContain('Query');
    const report = await writer().log.verify(arn);
    expect(report).toMatchObject({ ok: true, total: 15, verified: 15, breaks: [] });
    const history = await writer().log.history(arn);
    expect(history.map((r) => r.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    const written = history.map((r) => `${r.detail?.writer}:${r.detail?.n}`);
    for (const name of ['a', 'b']) {
      for (const n of ['first', '0', '1', '2', '3', '4']) expect(written).toContain(`${name}:${n}`);
    }
    expect(new Set(written).size).toBe(15);
    // What each append said it wrote is what the chain holds.
    for (const record of [firstA, firstB, ...byA, ...byB]) {
      expect(history.find((r) => r.seq === record.seq)?.hash).toBe(record.hash);
    }
  });

  it('links a new record past deleted newest records, so the cut stays visible after more appends', async () => {
    // Prepare: a chain of three records, whose newest is then deleted by someone with table access
    const arn = arnOf('cut');
    const setup = writer();
    for (let n = 0; n < 3; n++) await setup.log.append(entry(arn, { writer: 'setup', n: `${n}` }));
    await DynamoDBDocumentClient.from(raw).send(
      new DeleteCommand({
        TableName: tableName,
        Key: { [AUDIT_TABLE.partitionKey]: secretPk(arn), [AUDIT_TABLE.sortKey]: seqSk(3) },
      }),
    );

    // Act: a writer that never saw the chain (a cold container) appends three more
    const cold = writer();
    const appended = [];
    for (let n = 0; n < 3; n++) appended.push(await cold.log.append(entry(arn, { n: `${n}` })));

    // Assess: it linked to the recorded head (3), not the surviving newest (2), so record 3 is
    // still missing once the chain has moved well past it
    expect(appended.map((r) => r.seq)).toEqual([4, 5, 6]);
    const report = await cold.log.verify(arn);
    expect(report.ok).toBe(false);
    expect(JSON.stringify(report.breaks)).toContain('3');
  });

  it('writes a record once when the answer to its write is lost and the SDK sends it again', async () => {
    // Prepare: the first write reaches DynamoDB, then its answer is lost as a timeout would.
    const arn = arnOf('lost-answer');
    const { log, client } = writer();
    let lost = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'TransactWriteItemsCommand' && !lost) {
          lost = true;
          throw Object.assign(new Error('the connection closed before the answer'), {
            name: 'TimeoutError',
            $metadata: {},
          });
        }
        return out;
      },
      // Below the retry middleware, so the SDK retries the write as it would a real timeout.
      { step: 'deserialize', name: 'loseFirstWriteAnswer' },
    );

    // Act
    const record = await log.append(entry(arn, { attempt: 'once' }));

    // Assess
    expect(lost).toBe(true);
    const history = await writer().log.history(arn);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ seq: 1, hash: record.hash });
    expect(await writer().log.verify(arn)).toMatchObject({ ok: true, total: 1 });
  });
});
