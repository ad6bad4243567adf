// How the CLI names what an audit record says happened, in `status` and `audit`.
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '#domain/ports';
import { outcomeOf } from '../../cli/records.ts';

const record = (over: Partial<AuditRecord>): AuditRecord => ({
  event: 'step.succeeded',
  outcome: 'succeeded',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:demo/api-key-AbCdEf',
  secretName: 'demo/api-key',
  trigger: { source: 'secretsmanager' },
  seq: 1,
  at: '2026-01-01T00:00:00.000Z',
  prevHash: '0',
  hash: '1',
  ...over,
});

describe('the outcome column', () => {
  it('says rotated once finishSecret succeeded, and rotating during the other steps', () => {
    expect(outcomeOf(record({ step: 'finishSecret' }))).toBe('rotated');
    expect(outcomeOf(record({ step: 'createSecret', event: 'step.started' }))).toBe(
      'rotating (createSecret)',
    );
  });

  it("does not call Secrets Manager's configuration test (at attach) a rotation in progress", () => {
    // Act
    const outcome = outcomeOf(
      record({ step: 'testSecret', outcome: 'skipped', detail: { configurationTest: true } }),
    );

    // Assess
    expect(outcome).toBe('configuration tested');
  });

  it('names any other record by its event', () => {
    expect(outcomeOf(record({ event: 'lifespan.overdue', outcome: 'reported' }))).toBe(
      'lifespan.overdue',
    );
  });
});
