// Appending to a secret's chain without reading its head first: writers that each remember the
// head they last wrote (as separate Lambda containers do) race for the same place in one chain
// on a real DynamoDB wire protocol (the embedded local AWS's dynalite, or AWS_ENDPOINT_URL).
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
 * and its own remembered heads. `hold`, while set, delays each PutItem until it resolves.
 */
function writer() {
  const client = new DynamoDBClient(config);
  const sent: string[] = [];
  const state: { hold?: () => Promise<void> } = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName).replace(/Command$/, '');
      sent.push(operation);
      if (operation === 'PutItem' && state.hold) await state.hold();
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
  return { log, sent, state, client };
}

describe('appending to one chain from several writers', () => {
  it('costs one PutItem per record once a writer knows the head, and one read when it does not', async () => {
    // Prepare
    const arn = arnOf('one-writer');
    const { log, sent } = writer();

    // Act
    for (let i = 0; i < 4; i++) await log.append(entry(arn, { record: String(i) }));

    // Assess
    expect(sent).toEqual(['Query', 'PutItem', 'PutItem', 'PutItem', 'PutItem']);
    expect(await log.verify(arn)).toMatchObject({ ok: true, total: 4 });
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

    // Assess 1: one won seq 4, the other lost it, read the head again and took seq 5
    expect([firstA.seq, firstB.seq].sort()).toEqual([4, 5]);
    const [winner, loser] = firstA.seq === 4 ? [a, b] : [b, a];
    expect(winner.sent).toEqual(['Query', 'PutItem']);
    expect(loser.sent).toEqual(['Query', 'PutItem', 'Query', 'PutItem']);

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
    expect(winner.sent.slice(0, 2)).toEqual(['PutItem', 'Query']);
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

  it('writes a record once when the answer to its write is lost and the SDK sends it again', async () => {
    // Prepare: the first PutItem reaches DynamoDB, then its answer is lost as a timeout would.
    const arn = arnOf('lost-answer');
    const { log, client } = writer();
    let lost = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'PutItemCommand' && !lost) {
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
