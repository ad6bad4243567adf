import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SnsAlerter } from '#adapters/sns-alerter';
import type { Alert } from '#domain/ports';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/stripe-key-AbCdEf';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:TokenRotation-Alerts';
const NOW = new Date('2025-03-04T05:06:07.000Z');

const sns = mockClient(SNSClient);
const ddb = mockClient(DynamoDBDocumentClient);
// The class's send is patched for every instance: unpatch it for the next file in this worker.
afterAll(() => {
  sns.restore();
  ddb.restore();
});

/** Alert marks as DynamoDB would hold them: a put on an existing key fails its condition. */
let marks: Map<string, Record<string, unknown>>;
const markKey = (key: Record<string, unknown> | undefined) => `${key?.pk}|${key?.sk}`;

function alerter() {
  return new SnsAlerter({
    sns: new SNSClient({ region: 'us-east-1' }),
    topicArn: TOPIC,
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    tableName: 'TokenRotation-AuditTrail',
    region: 'us-east-1',
    stackName: 'TokenRotation',
    clock: () => NOW,
    sleep: async () => {},
  });
}

const alert = (overrides: Partial<Alert> = {}): Alert => ({
  event: 'rotation.failed',
  severity: 'high',
  secretArn: ARN,
  secretName: 'prod/payments/stripe-key',
  incident: '11111111-2222-3333-4444-555555555555',
  summary: 'Rotation of prod/payments/stripe-key failed at testSecret',
  reason: 'HTTP 401 from the issuer',
  versionId: '11111111-2222-3333-4444-555555555555',
  nextSteps: ['Check the issuer.'],
  ...overrides,
});

beforeEach(() => {
  sns.reset();
  ddb.reset();
  marks = new Map();
  ddb.on(PutCommand).callsFake(async (input) => {
    const key = markKey(input.Item);
    if (marks.has(key)) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
      });
    }
    marks.set(key, input.Item);
    return {};
  });
  ddb.on(UpdateCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('SnsAlerter', () => {
  it('publishes the first alert of an incident, with subject, body and filterable attributes', async () => {
    // Act
    const result = await alerter().send(alert());

    // Assess
    expect(result).toBe('sent');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.TopicArn).toBe(TOPIC);
    expect(input?.Subject).toBe('[HIGH] rotation.failed: prod/payments/stripe-key');
    expect(input?.Message).toContain('Why: HTTP 401 from the issuer');
    expect(input?.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'high' },
      event: { DataType: 'String', StringValue: 'rotation.failed' },
      secret: { DataType: 'String', StringValue: 'prod/payments/stripe-key' },
    });
  });

  it('records the alert as pending in the outbox before publishing, then marks it sent for 30 days', async () => {
    // Act
    await alerter().send(alert());

    // Assess
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.Item).toMatchObject({
      pk: `ALERT#${ARN}`,
      sk: 'rotation.failed#11111111-2222-3333-4444-555555555555',
      state: 'pending',
      event: 'alert.undelivered',
      subject: '[HIGH] rotation.failed: prod/payments/stripe-key',
    });
    expect(put?.Item?.message).toContain('Why: HTTP 401 from the issuer');
    expect(put?.ConditionExpression).toContain('attribute_not_exists(#pk)');
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':sent': 'sent',
      ':expiresAt': NOW.getTime() / 1000 + 30 * 86_400,
    });
    expect(update?.UpdateExpression).toContain('REMOVE #event');
  });

  it('sends nothing for a second alert of the same incident, as Secrets Manager retries', async () => {
    // Prepare
    await alerter().send(alert());

    // Act
    const again = await alerter().send(alert({ reason: 'a different retry, same rotation' }));

    // Assess
    expect(again).toBe('duplicate');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it("sends nothing for Secrets Manager's RotationFailed of a rotation we already alerted", async () => {
    // Prepare
    await alerter().send(alert());

    // Act
    const theirs = await alerter().send(alert({ event: 'secretsmanager.rotation.failed' }));

    // Assess
    expect(theirs).toBe('duplicate');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('sends again for a new incident of the same secret', async () => {
    // Prepare
    await alerter().send(alert());

    // Act
    const next = await alerter().send(alert({ incident: '99999999-2222-3333-4444-555555555555' }));

    // Assess
    expect(next).toBe('sent');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it('keeps the alert pending when publishing keeps failing, and a retry of the incident does not swallow it', async () => {
    // Prepare
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' }));

    // Act
    const first = await alerter().send(alert());
    const again = await alerter().send(alert());

    // Assess: three tries, then the lease handed back to the sweep; the item is still pending.
    expect(first).toBe('queued');
    expect(again).toBe('duplicate');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(3);
    expect(
      marks.get(`ALERT#${ARN}|rotation.failed#11111111-2222-3333-4444-555555555555`),
    ).toMatchObject({
      state: 'pending',
    });
    const release = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(release?.ConditionExpression).toBe('leaseId = :lease AND #state = :pending');
    expect(release?.ExpressionAttributeValues?.[':error']).toContain('Topic does not exist');
  });

  it('publishes directly when the audit table cannot be written, and counts the gap', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(
      Object.assign(new Error('Requested resource not found'), {
        name: 'ResourceNotFoundException',
      }),
    );
    const sender = alerter();

    // Act
    const result = await sender.send(alert());

    // Assess
    expect(result).toBe('sent');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(sender.unrecorded).toBe(1);
  });

  it('fails only when the alert can be neither recorded nor published', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(new Error('table unavailable'));
    sns.on(PublishCommand).rejects(new Error('topic unavailable'));

    // Act
    const failed = alerter().send(alert());

    // Assess
    await expect(failed).rejects.toThrow(
      /could not record rotation\.failed .*table unavailable.* nor publish it .*topic unavailable/,
    );
  });

  it('still reports sent when only the final mark update fails: the e-mail is out', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(new Error('throttled'));

    // Act
    const result = await alerter().send(alert());

    // Assess
    expect(result).toBe('sent');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });
});
