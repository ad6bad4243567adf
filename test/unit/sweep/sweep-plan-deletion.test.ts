// The sweep's second revoke stage for two-stage kinds (iam-access-key): a deactivated token's
// version carries a token-rotation:delete-after:<time> label, and the plan deletes it when due.
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '#domain/policy';
import type { SecretDescription } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import { deleteAfterLabel } from '#domain/sweep/labels';
import { planSecret } from '#domain/sweep/plan';
import { TAG } from '#domain/vocabulary';

const OURS = 'arn:aws:lambda:us-east-1:123456789012:function:TokenRotation-rotation';
const NOW = new Date('2025-03-10T12:00:00Z');
const WEEK = scheduleFor(7 * DAY_MS);

function secret(versions: Record<string, string[]>): SecretDescription {
  return {
    arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/aws-key-AbCdEf',
    name: 'ci/aws-key',
    rotationEnabled: true,
    rotationLambdaArn: OURS,
    rotationRules: { scheduleExpression: WEEK.scheduleExpression, duration: WEEK.duration },
    lastRotatedDate: new Date(NOW.getTime() - DAY_MS),
    createdDate: new Date(NOW.getTime() - 100 * DAY_MS),
    versions,
    tags: { [TAG.lifespan]: '7d', [TAG.kind]: 'iam-access-key' },
  };
}

const plan = (versions: Record<string, string[]>) =>
  planSecret(secret(versions), {
    now: NOW,
    rotationFunctionArn: OURS,
    sweepIntervalMs: 15 * 60_000,
    versionDates: { cur: new Date(NOW.getTime() - DAY_MS) },
  });

describe('sweep plan: deleting deactivated tokens', () => {
  it('writes the delete-after label as the due time in whole seconds', () => {
    // Act
    const label = deleteAfterLabel(new Date('2025-03-10T12:00:00.123Z'), 7 * DAY_MS);

    // Assess
    expect(label).toBe('token-rotation:delete-after:2025-03-17T12:00:00Z');
  });

  it('deletes a deactivated token whose label has come due', () => {
    // Act
    const actions = plan({
      cur: ['AWSCURRENT'],
      old: ['token-rotation:delete-after:2025-03-10T11:59:00Z'],
    });

    // Assess
    expect(actions).toEqual([
      {
        type: 'delete-deactivated',
        versionId: 'old',
        label: 'token-rotation:delete-after:2025-03-10T11:59:00Z',
        dueAt: new Date('2025-03-10T11:59:00Z'),
        kind: 'iam-access-key',
      },
    ]);
  });

  it('leaves a deactivated token alone until its label is due', () => {
    // Act
    const actions = plan({
      cur: ['AWSCURRENT'],
      old: ['token-rotation:delete-after:2025-03-10T12:01:00Z'],
    });

    // Assess
    expect(actions).toEqual([]);
  });

  it('never deletes a version that is live again, whatever its label says', () => {
    // Act
    const actions = plan({
      cur: ['AWSCURRENT', 'token-rotation:delete-after:2025-03-01T00:00:00Z'],
      pend: ['AWSPENDING', 'token-rotation:delete-after:2025-03-01T00:00:01Z'],
    });

    // Assess
    expect(actions.filter((a) => a.type === 'delete-deactivated')).toEqual([]);
  });

  it('deletes at once a label whose time cannot be read: the token is already deactivated', () => {
    // Act
    const actions = plan({ cur: ['AWSCURRENT'], old: ['token-rotation:delete-after:soon'] });

    // Assess
    expect(actions).toMatchObject([{ type: 'delete-deactivated', versionId: 'old' }]);
  });
});
