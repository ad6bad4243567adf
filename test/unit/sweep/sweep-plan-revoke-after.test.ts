// The plan's revoke-after rule: a version that lost AWSPREVIOUS within its grace carries a
// token-rotation:revoke-after:<grace end> label, and the plan revokes it once that time has passed
// (or only unlabels it when the version is live again).
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '#domain/policy';
import type { SecretDescription } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import { revokeAfterLabel, revokeAfterTime } from '#domain/sweep/labels';
import { planSecret } from '#domain/sweep/plan';
import { REVOKE_AFTER_LABEL_PREFIX, TAG } from '#domain/vocabulary';

const OURS = 'arn:aws:lambda:us-east-1:123456789012:function:TokenRotation-rotation';
const NOW = new Date('2025-03-08T12:00:00Z');
const WEEK = scheduleFor(7 * DAY_MS);

function secret(versions: Record<string, string[]>): SecretDescription {
  return {
    arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf',
    name: 'api',
    rotationEnabled: true,
    rotationLambdaArn: OURS,
    rotationRules: { scheduleExpression: WEEK.scheduleExpression, duration: WEEK.duration },
    lastRotatedDate: new Date(NOW.getTime() - HOUR_MS),
    createdDate: new Date(NOW.getTime() - 100 * DAY_MS),
    versions,
    tags: { [TAG.lifespan]: '7d' },
  };
}

const plan = (versions: Record<string, string[]>) =>
  planSecret(secret(versions), {
    now: NOW,
    rotationFunctionArn: OURS,
    sweepIntervalMs: 15 * 60_000,
  });

describe('sweep plan: revoking tokens pushed off AWSPREVIOUS within their grace', () => {
  it('writes the revoke-after label as the grace end in whole seconds, and reads it back', () => {
    // Act
    const label = revokeAfterLabel(new Date('2025-03-08T10:00:00.456Z'));

    // Assess
    expect(label).toBe('token-rotation:revoke-after:2025-03-08T10:00:00Z');
    expect(revokeAfterTime(label)).toEqual(new Date('2025-03-08T10:00:00Z'));
    expect(revokeAfterTime('token-rotation:delete-after:2025-03-08T10:00:00Z')).toBeUndefined();
  });

  it('revokes a labelled version once its grace has ended, and not before', () => {
    // Prepare
    const due = revokeAfterLabel(new Date(NOW.getTime() - 1000));
    const later = revokeAfterLabel(new Date(NOW.getTime() + HOUR_MS));
    const versions = { cur: ['AWSCURRENT'], prev: ['AWSPREVIOUS'], old: [due], older: [later] };

    // Act + Assess
    expect(plan(versions)).toEqual([
      {
        type: 'revoke-after',
        versionId: 'old',
        label: due,
        graceEndedAt: new Date(NOW.getTime() - 1000),
        kind: 'random',
      },
    ]);
  });

  it('only unlabels a due version that is live again, naming the stage it holds', () => {
    // Prepare
    const due = revokeAfterLabel(new Date(NOW.getTime() - HOUR_MS));

    // Act
    const actions = plan({ cur: ['AWSCURRENT', due] });

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({ type: 'revoke-after', versionId: 'cur', liveAs: 'AWSCURRENT' }),
    ]);
  });

  it('revokes a label with an unreadable time now rather than never', () => {
    // Act
    const actions = plan({ cur: ['AWSCURRENT'], old: [`${REVOKE_AFTER_LABEL_PREFIX}soon`] });

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({
        type: 'revoke-after',
        versionId: 'old',
        graceEndedAt: new Date(0),
      }),
    ]);
  });
});
