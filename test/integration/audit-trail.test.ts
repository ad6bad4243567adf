// The audit trail and the alerts on a real DynamoDB wire protocol: the embedded local AWS
// (dynalite), or whatever AWS_ENDPOINT_URL names, with a table and topic of the test's own.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, DeleteTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alertPk, secretPk, seqSk } from '#adapters/audit-table';
import {
  AuditWriteError,
  createAuditTable,
  DynamoAuditLog,
  deleteAuditTable,
} from '#adapters/dynamodb-audit-log';
import { SnsAlerter } from '#adapters/sns-alerter';
import { verifyChain } from '#domain/audit-chain';
import type { Alert, AuditEntry } from '#domain/ports';
import type { AuditEventType } from '#domain/vocabulary';
import { createSecretsManagerEventsHandler } from '#handlers/secretsmanager-events';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { EXTERNAL_ENDPOINT } from './support/endpoint.ts';

const external = EXTERNAL_ENDPOINT;
const run = randomUUID().slice(0, 8);
const tableName = `token-rotation-audit-test-${run}`;

let aws: LocalAws | undefined;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let sns: SNSClient;
let topicArn: string;
/** Every DynamoDB operation the code under test sends, by command name. */
const commands: string[] = [];

/** A clock each test sets; the audit log and alerter read it. */
let now = new Date('2025-03-01T10:00:00.000Z');
const clock = () => now;
const later = (ms: number) => {
  now = new Date(now.getTime() + ms);
};
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const arnOf = (name: string) =>
  `arn:aws:secretsmanager:us-east-1:123456789012:secret:${run}/${name}-AbCdEf`;

const entry = (
  secretArn: string,
  event: AuditEventType,
  extra: Partial<AuditEntry> = {},
): AuditEntry => ({
  event,
  outcome: event === 'rotation.failed' ? 'failed' : 'succeeded',
  secretArn,
  secretName: secretArn.split(':secret:')[1]?.slice(0, -7) ?? secretArn,
  trigger: { source: 'schedule' },
  ...extra,
});

const auditLog = () => new DynamoAuditLog({ client: doc, tableName, clock });

beforeAll(async () => {
  let config = {};
  if (!external) {
    aws = await startLocalAws();
    config = aws.clientConfig;
  }
  raw = new DynamoDBClient(config);
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
  doc = DynamoDBDocumentClient.from(raw);
  sns = new SNSClient(config);
  await createAuditTable(raw, tableName);
  topicArn = (await sns.send(new CreateTopicCommand({ Name: `token-rotation-alerts-test-${run}` })))
    .TopicArn as string;
});

afterAll(async () => {
  await deleteAuditTable(raw, tableName);
  if (topicArn) await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
  await aws?.stop();
});

beforeEach(() => {
  commands.length = 0;
});

describe('audit trail on DynamoDB', () => {
  it("answers one secret's history, a time range and an event type with Query, never Scan", async () => {
    // Prepare: three secrets over three days, a failure on day 2
    now = new Date('2025-03-01T10:00:00.000Z');
    const log = auditLog();
    const [a, b, c] = [arnOf('history/a'), arnOf('history/b'), arnOf('history/c')];
    await log.append(entry(a as string, 'step.started'));
    await log.append(entry(b as string, 'step.started'));
    later(DAY);
    await log.append(entry(a as string, 'step.succeeded'));
    later(HOUR);
    await log.append(entry(c as string, 'rotation.failed', { error: 'issuer refused' }));
    later(DAY);
    await log.append(entry(a as string, 'rotation.failed', { error: 'issuer timed out' }));
    later(1000);
    await log.append(entry(b as string, 'step.succeeded'));
    commands.length = 0;

    // Act
    const history = await log.history(a as string);
    const newest = await log.history(a as string, { newestFirst: true, limit: 2 });
    const range = await log.between(
      new Date('2025-03-02T00:00:00.000Z'),
      new Date('2025-03-03T12:00:00.000Z'),
    );
    const failures = await log.ofType(
      'rotation.failed',
      new Date('2025-03-01T00:00:00.000Z'),
      new Date('2025-03-03T23:59:59.999Z'),
    );

    // Assess
    expect(history.map((r) => [r.seq, r.event])).toEqual([
      [1, 'step.started'],
      [2, 'step.succeeded'],
      [3, 'rotation.failed'],
    ]);
    expect(history.every((r) => r.secretArn === a)).toBe(true);
    expect(newest.map((r) => r.seq)).toEqual([3, 2]);
    expect(range.map((r) => [r.secretArn, r.event])).toEqual([
      [a, 'step.succeeded'],
      [c, 'rotation.failed'],
      [a, 'rotation.failed'],
      [b, 'step.succeeded'],
    ]);
    expect(range.map((r) => r.at)).toEqual([...range.map((r) => r.at)].sort());
    expect(
      failures.filter((r) => r.secretArn.includes(`${run}/history/`)).map((r) => r.secretArn),
    ).toEqual([c, a]);
    expect(commands).toContain('QueryCommand');
    expect(commands).not.toContain('ScanCommand');
  });

  it('stores records with the keys and index attributes of the table design', async () => {
    // Prepare
    now = new Date('2025-04-01T23:59:59.000Z');
    const arn = arnOf('layout');

    // Act
    const record = await auditLog().append(
      entry(arn, 'step.started', { versions: { pending: 'v-1' } }),
    );
    const [stored] = await auditLog().history(arn);

    // Assess
    expect(record).toMatchObject({ seq: 1, at: '2025-04-01T23:59:59.000Z' });
    expect(stored).toEqual(record);
    const { Item: item } = await doc.send(
      new GetCommand({ TableName: tableName, Key: { pk: secretPk(arn), sk: seqSk(1) } }),
    );
    expect(item).toMatchObject({
      day: '2025-04-01',
      event: 'step.started',
      at: record.at,
      hash: record.hash,
    });
  });

  it('verify catches a deleted record and an edited record', async () => {
    // Prepare
    now = new Date('2025-05-01T10:00:00.000Z');
    const log = auditLog();
    const arn = arnOf('tampered');
    for (let i = 0; i < 6; i++) {
      await log.append(entry(arn, i === 4 ? 'rotation.failed' : 'step.succeeded'));
      later(60_000);
    }
    const before = await log.verify(arn);

    // Act: someone with table access removes record 3 and rewrites the failure as a success
    await doc.send(
      new DeleteCommand({ TableName: tableName, Key: { pk: secretPk(arn), sk: seqSk(3) } }),
    );
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: secretPk(arn), sk: seqSk(5) },
        UpdateExpression: 'SET outcome = :ok',
        ExpressionAttributeValues: { ':ok': 'succeeded' },
      }),
    );
    const after = await log.verify(arn);

    // Assess
    expect(before).toMatchObject({ ok: true, total: 6, verified: 6 });
    expect(after.ok).toBe(false);
    expect(after.total).toBe(5);
    expect(after.breaks).toEqual([
      expect.objectContaining({ kind: 'deleted', seq: 4, missing: { from: 3, to: 3 } }),
      expect.objectContaining({ kind: 'edited', seq: 5 }),
    ]);
  });

  it('verify catches a record whose day or event index attribute was edited to hide it', async () => {
    // Prepare
    now = new Date('2025-06-01T10:00:00.000Z');
    const log = auditLog();
    const arn = arnOf('misindexed');
    for (let i = 0; i < 4; i++) {
      await log.append(entry(arn, i === 1 ? 'rotation.failed' : 'step.succeeded'));
      later(60_000);
    }
    const edit = (seq: number, expression: string, values?: Record<string, unknown>) =>
      doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: secretPk(arn), sk: seqSk(seq) },
          UpdateExpression: expression,
          ExpressionAttributeNames: expression.includes('#day') ? { '#day': 'day' } : undefined,
          ...(values && { ExpressionAttributeValues: values }),
        }),
      );
    const day = {
      from: new Date('2025-06-01T00:00:00.000Z'),
      to: new Date('2025-06-01T23:59:59.999Z'),
    };
    const visible = async () =>
      (await log.between(day.from, day.to)).filter((r) => r.secretArn === arn).map((r) => r.seq);
    const before = { report: await log.verify(arn), visible: await visible() };

    // Act: someone with table access moves the failure to another day, drops record 3's day,
    // and files record 4 under another event type
    await edit(2, 'SET #day = :day', { ':day': '1999-01-01' });
    await edit(3, 'REMOVE #day');
    await edit(4, 'SET event = :event', { ':event': 'step.started' });
    const after = { report: await log.verify(arn), visible: await visible() };
    const cliView = verifyChain(arn, await log.history(arn));

    // Assess
    expect(before.report).toMatchObject({ ok: true, total: 4, verified: 4 });
    expect(before.visible).toEqual([1, 2, 3, 4]);
    expect(after.visible).toEqual([1, 4]);
    expect(after.report.ok).toBe(false);
    expect(after.report.breaks).toEqual([
      expect.objectContaining({
        kind: 'edited',
        seq: 2,
        message: expect.stringMatching(
          /its day attribute is "1999-01-01" where its time .* says "2025-06-01"/,
        ),
      }),
      expect.objectContaining({
        kind: 'edited',
        seq: 3,
        message: expect.stringContaining('its day attribute is missing'),
      }),
      expect.objectContaining({ kind: 'edited', seq: 4 }),
    ]);
    expect(cliView.breaks.map((b) => [b.kind, b.seq])).toEqual([
      ['edited', 2],
      ['edited', 3],
      ['edited', 4],
    ]);
  });

  it('keeps one valid chain when several writers append to the same secret at once', async () => {
    // Prepare: separate log instances, as separate Lambda containers would be
    now = new Date('2025-06-01T10:00:00.000Z');
    const arn = arnOf('concurrent');
    const writers = Array.from({ length: 8 }, () => auditLog());

    // Act
    const records = await Promise.all(
      writers.map((log, i) => log.append(entry(arn, 'step.started', { detail: { writer: i } }))),
    );
    const report = await auditLog().verify(arn);

    // Assess
    expect(records.map((r) => r.seq).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(report).toMatchObject({ ok: true, total: 8, verified: 8 });
    const history = await auditLog().history(arn);
    expect(new Set(history.map((r) => r.detail?.writer)).size).toBe(8);
  });

  it('fails to append when the write cannot be made, so the step it records fails too', async () => {
    // Prepare
    const log = new DynamoAuditLog({ client: doc, tableName: `${tableName}-missing`, clock });

    // Act
    const append = log.append(entry(arnOf('unwritable'), 'step.started'));

    // Assess
    await expect(append).rejects.toBeInstanceOf(AuditWriteError);
    await expect(append).rejects.toThrow(/could not record step\.started for .*unwritable/);
  });
});

describe('alerts on DynamoDB marks', () => {
  const alerter = () =>
    new SnsAlerter({
      sns,
      topicArn,
      dynamo: doc,
      tableName,
      region: 'us-east-1',
      stackName: 'TokenRotation',
      clock,
    });
  const alert = (secretArn: string, overrides: Partial<Alert> = {}): Alert => ({
    event: 'rotation.failed',
    severity: 'high',
    secretArn,
    secretName: 'payments/stripe-key',
    incident: '11111111-2222-3333-4444-555555555555',
    summary: 'Rotation failed at testSecret',
    reason: 'HTTP 401',
    versionId: '11111111-2222-3333-4444-555555555555',
    nextSteps: ['Check the issuer.'],
    ...overrides,
  });
  const published = (secretArn: string) =>
    aws?.sns.messagesTo(topicArn).filter((m) => m.message.includes(secretArn));

  it('sends one e-mail per incident across retries', async () => {
    // Prepare
    now = new Date('2025-07-01T10:00:00.000Z');
    const arn = arnOf('alerts/retries');

    // Act
    const results = [];
    for (let attempt = 0; attempt < 3; attempt++) results.push(await alerter().send(alert(arn)));

    // Assess
    expect(results).toEqual(['sent', 'duplicate', 'duplicate']);
    if (aws) {
      expect(published(arn)).toHaveLength(1);
      expect(published(arn)?.[0]?.attributes.event).toEqual({
        DataType: 'String',
        StringValue: 'rotation.failed',
      });
    }
  });

  it('alerts the incident again once its mark has expired, even before TTL removes it', async () => {
    // Prepare
    now = new Date('2025-07-01T10:00:00.000Z');
    const arn = arnOf('alerts/expired');
    await alerter().send(alert(arn));

    // Act
    later(31 * DAY);
    const again = await alerter().send(alert(arn));

    // Assess
    expect(again).toBe('sent');
  });

  it('takes over a claim left by a sender that died before publishing, but not a fresh one', async () => {
    // Prepare
    now = new Date('2025-07-01T10:00:00.000Z');
    const [stale, fresh] = [arnOf('alerts/stale'), arnOf('alerts/fresh')];
    const claim = (secretArn: string, minutesAgo: number) =>
      doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: alertPk(secretArn),
            sk: 'rotation.failed#11111111-2222-3333-4444-555555555555',
            markId: 'died-mid-send',
            state: 'claimed',
            markedAt: new Date(now.getTime() - minutesAgo * 60_000).toISOString(),
            expiresAt: Math.floor(now.getTime() / 1000) + 30 * 86_400,
          },
        }),
      );
    await claim(stale, 20);
    await claim(fresh, 5);

    // Act
    const takenOver = await alerter().send(alert(stale));
    const stillClaimed = await alerter().send(alert(fresh));

    // Assess
    expect(takenOver).toBe('sent');
    expect(stillClaimed).toBe('duplicate');
  });

  it('sends one e-mail when our rotation fails and Secrets Manager then reports it too', async () => {
    // Prepare
    now = new Date('2025-08-01T10:00:00.000Z');
    const arn = arnOf('alerts/both');
    const version = '22222222-3333-4444-5555-666666666666';
    await alerter().send(alert(arn, { incident: version, versionId: version }));
    const handle = createSecretsManagerEventsHandler({
      audit: auditLog(),
      alerter: alerter(),
      pendingVersion: async () => version,
    });

    // Act
    later(2 * HOUR);
    const result = await handle({
      source: 'aws.secretsmanager',
      'detail-type': 'AWS Service Event via CloudTrail',
      detail: {
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'RotationFailed',
        eventTime: now.toISOString(),
        eventID: randomUUID(),
        additionalEventData: { SecretId: arn },
      },
    });

    // Assess
    expect(result).toMatchObject({ status: 'recorded', incident: version, alert: 'duplicate' });
    const [record] = await auditLog().history(arn);
    expect(record).toMatchObject({
      event: 'secretsmanager.rotation.failed',
      versions: { pending: version },
    });
    if (aws) expect(published(arn)).toHaveLength(1);
  });
});
