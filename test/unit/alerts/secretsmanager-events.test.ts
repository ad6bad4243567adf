import { beforeEach, describe, expect, it, vi } from 'vitest';
import { alertIncidentKey } from '#domain/alerts/catalog';
import type { Alert, Alerter, AuditEntry, AuditLog, AuditRecord } from '#domain/ports';
import { createSecretsManagerEventsHandler, handler } from '#handlers/secretsmanager-events';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/stripe-key-AbCdEf';
const VERSION = '11111111-2222-3333-4444-555555555555';
const CANARY = 'acme_live_Q7vLx2KpZ9mW4rT8yB3nH6cJ1dF5gS0aXeU';

/** A Secrets Manager service event as EventBridge delivers it (CloudTrail's record). */
function serviceEvent(
  eventName: string,
  detail: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: '0',
    id: 'd82e0a2d-f36e-11fd-37cb-cba423a71196',
    'detail-type': 'AWS Service Event via CloudTrail',
    source: 'aws.secretsmanager',
    account: '123456789012',
    time: '2025-03-04T05:06:10Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: { accountId: '123456789012', invokedBy: 'secretsmanager.amazonaws.com' },
      eventTime: '2025-03-04T05:06:07Z',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      requestParameters: null,
      responseElements: null,
      additionalEventData: { SecretId: ARN },
      requestID: `Rotation-${ARN}`,
      eventID: 'e3b69cfe-b70e-4c94-baa9-9decc3c150b9',
      readOnly: false,
      eventType: 'AwsServiceEvent',
      managementEvent: true,
      recipientAccountId: '123456789012',
      eventCategory: 'Management',
      ...detail,
    },
  };
}

/** The audit log's contract in memory: appends in order, history newest first on request. */
class MemoryAuditLog implements AuditLog {
  records: AuditRecord[] = [];
  failWith?: Error;
  async append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.failWith) throw this.failWith;
    const record = {
      ...entry,
      seq: this.records.length + 1,
      at: new Date().toISOString(),
      prevHash: '',
      hash: '',
    };
    this.records.push(record);
    return record;
  }
  async history(secretArn: string, options: { newestFirst?: boolean; limit?: number } = {}) {
    const mine = this.records.filter((r) => r.secretArn === secretArn);
    const ordered = options.newestFirst ? mine.reverse() : mine;
    return ordered.slice(0, options.limit ?? ordered.length);
  }
  async between() {
    return this.records;
  }
  async ofType() {
    return this.records;
  }
}

/** An alerter that remembers incidents the way the SNS alerter's marks do. */
class MemoryAlerter implements Alerter {
  sent: Alert[] = [];
  claimed = new Set<string>();
  async send(alert: Alert): Promise<'sent' | 'duplicate'> {
    const key = `${alert.secretArn}|${alertIncidentKey(alert)}`;
    if (this.claimed.has(key)) return 'duplicate';
    this.claimed.add(key);
    this.sent.push(alert);
    return 'sent';
  }
}

let audit: MemoryAuditLog;
let alerter: MemoryAlerter;

beforeEach(() => {
  audit = new MemoryAuditLog();
  alerter = new MemoryAlerter();
});

describe('Secrets Manager rotation events', () => {
  it('audits a RotationFailed and alerts it, naming the secret from its ARN', async () => {
    // Prepare
    const handle = createSecretsManagerEventsHandler({ audit, alerter });

    // Act
    const result = await handle(
      serviceEvent('RotationFailed', {
        errorMessage:
          'Error when executing lambda arn:aws:lambda:us-east-1:123456789012:function:rotate during createSecret step',
      }),
    );

    // Assess
    expect(result).toMatchObject({
      status: 'recorded',
      event: 'secretsmanager.rotation.failed',
      alert: 'sent',
    });
    expect(audit.records).toHaveLength(1);
    expect(audit.records[0]).toMatchObject({
      event: 'secretsmanager.rotation.failed',
      outcome: 'reported',
      secretArn: ARN,
      secretName: 'prod/payments/stripe-key',
      trigger: { source: 'secretsmanager' },
      detail: {
        eventId: 'e3b69cfe-b70e-4c94-baa9-9decc3c150b9',
        reportedAt: '2025-03-04T05:06:07.000Z',
      },
    });
    expect(audit.records[0]?.error).toContain('during createSecret step');
    expect(alerter.sent).toEqual([
      expect.objectContaining({
        event: 'secretsmanager.rotation.failed',
        severity: 'high',
        secretName: 'prod/payments/stripe-key',
        incident: 'hour:2025-03-04T05',
      }),
    ]);
  });

  it('audits and alerts a RotationAbandoned as its own event', async () => {
    // Prepare
    const handle = createSecretsManagerEventsHandler({ audit, alerter });

    // Act
    const result = await handle(serviceEvent('RotationAbandoned'));

    // Assess
    expect(result).toMatchObject({
      status: 'recorded',
      event: 'secretsmanager.rotation.abandoned',
    });
    expect(audit.records[0]?.event).toBe('secretsmanager.rotation.abandoned');
    expect(alerter.sent[0]?.summary).toContain('abandoned');
  });

  it('is one incident with our own rotation.failed when the event names the version', async () => {
    // Prepare
    await alerter.send({
      event: 'rotation.failed',
      severity: 'high',
      secretArn: ARN,
      secretName: 'prod/payments/stripe-key',
      incident: VERSION,
      summary: 'Rotation failed at testSecret',
      nextSteps: [],
    });
    const handle = createSecretsManagerEventsHandler({ audit, alerter });

    // Act
    const result = await handle(
      serviceEvent('RotationFailed', {
        additionalEventData: { SecretId: ARN, VersionId: VERSION },
      }),
    );

    // Assess
    expect(result).toMatchObject({ status: 'recorded', incident: VERSION, alert: 'duplicate' });
    expect(alerter.sent).toHaveLength(1);
    expect(audit.records[0]?.versions).toEqual({ pending: VERSION });
  });

  it("finds the failed rotation's version from the secret's leftover AWSPENDING when the event does not name it", async () => {
    // Prepare
    const pendingVersion = vi.fn(async () => VERSION);
    const handle = createSecretsManagerEventsHandler({ audit, alerter, pendingVersion });

    // Act
    const result = await handle(serviceEvent('RotationFailed'));

    // Assess
    expect(pendingVersion).toHaveBeenCalledWith(ARN);
    expect(result).toMatchObject({ incident: VERSION });
    expect(alerter.sent[0]?.versionId).toBe(VERSION);
  });

  it('alerts once per secret and hour when the version cannot be looked up', async () => {
    // Prepare
    const warn = vi.fn();
    const handle = createSecretsManagerEventsHandler({
      audit,
      alerter,
      warn,
      pendingVersion: async () => {
        throw new Error('AccessDeniedException: not authorized to perform DescribeSecret');
      },
    });

    // Act
    const first = await handle(serviceEvent('RotationFailed'));
    const second = await handle(
      serviceEvent('RotationFailed', {
        eventID: 'another-event',
        eventTime: '2025-03-04T05:40:00Z',
      }),
    );
    const nextHour = await handle(
      serviceEvent('RotationFailed', {
        eventID: 'a-third-event',
        eventTime: '2025-03-04T06:01:00Z',
      }),
    );

    // Assess
    expect([first, second, nextHour].map((r) => 'alert' in r && r.alert)).toEqual([
      'sent',
      'duplicate',
      'sent',
    ]);
    expect(audit.records).toHaveLength(3);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('pending version'),
      expect.objectContaining({ secretArn: ARN }),
    );
  });

  it('records an event delivered twice once, and alerts it once', async () => {
    // Prepare
    const handle = createSecretsManagerEventsHandler({ audit, alerter });
    await handle(serviceEvent('RotationFailed'));

    // Act
    const again = await handle(serviceEvent('RotationFailed'));

    // Assess
    expect(again).toMatchObject({ status: 'already-recorded', alert: 'duplicate' });
    expect(audit.records).toHaveLength(1);
    expect(alerter.sent).toHaveLength(1);
  });

  it('fails, without alerting, when the audit cannot be written, so EventBridge delivers again', async () => {
    // Prepare
    audit.failWith = new Error('audit table unavailable');
    const handle = createSecretsManagerEventsHandler({ audit, alerter });

    // Act
    const result = handle(serviceEvent('RotationFailed'));

    // Assess
    await expect(result).rejects.toThrow('audit table unavailable');
    expect(alerter.sent).toHaveLength(0);
  });

  it('keeps a token quoted in the error message out of the audit record and the alert', async () => {
    // Prepare
    const handle = createSecretsManagerEventsHandler({ audit, alerter });

    // Act
    await handle(
      serviceEvent('RotationFailed', {
        errorMessage: `testSecret failed: token ${CANARY} was rejected`,
      }),
    );

    // Assess
    expect(JSON.stringify(audit.records)).not.toContain(CANARY);
    expect(JSON.stringify(alerter.sent)).not.toContain(CANARY);
    expect(audit.records[0]?.error).toContain('[redacted]');
  });

  it.each([
    ['not an object', 'RotationFailed'],
    ['another source', { ...serviceEvent('RotationFailed'), source: 'aws.health' }],
    [
      'an API call, not a service event',
      { ...serviceEvent('RotationFailed'), 'detail-type': 'AWS API Call via CloudTrail' },
    ],
    ['another event name', serviceEvent('RotationSucceeded')],
    ['no detail', { ...serviceEvent('RotationFailed'), detail: null }],
    ['no SecretId', serviceEvent('RotationFailed', { additionalEventData: {} })],
    [
      'a SecretId that is not a secret ARN',
      serviceEvent('RotationFailed', { additionalEventData: { SecretId: 'SECRET#x\nforged' } }),
    ],
    ['another event source', serviceEvent('RotationFailed', { eventSource: 'kms.amazonaws.com' })],
  ])('ignores an event with %s: nothing recorded, nothing thrown', async (_case, event) => {
    // Prepare
    const handle = createSecretsManagerEventsHandler({ audit, alerter });

    // Act
    const result = await handle(event);

    // Assess
    expect(result.status).toBe('ignored');
    expect('why' in result && result.why).toMatch(/^expected|not an object|no detail/);
    expect(audit.records).toHaveLength(0);
    expect(alerter.sent).toHaveLength(0);
  });

  it('ignores an event it does not understand without reading its configuration', async () => {
    // Act: the deployed handler, with no AUDIT_TABLE_NAME or ALERT_TOPIC_ARN set here
    const result = await handler({
      source: 'aws.secretsmanager',
      'detail-type': 'Scheduled Event',
    });

    // Assess
    expect(result).toMatchObject({ status: 'ignored' });
  });
});
