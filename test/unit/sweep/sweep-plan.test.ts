import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '#domain/policy';
import type { SecretDescription } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import {
  needsVersionDates,
  type PlanContext,
  planSecret,
  STUCK_AFTER_MS,
  sameFunction,
} from '#domain/sweep/plan';
import { TAG } from '#domain/vocabulary';

const OURS = 'arn:aws:lambda:eu-west-1:111122223333:function:token-rotation-Rotate';
const THEIRS =
  'arn:aws:lambda:eu-west-1:111122223333:function:SecretsManagerRDSPostgreSQLRotationSingleUser';
const NOW = new Date('2030-03-10T12:00:00Z');
const INTERVAL = 15 * MINUTE_MS;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const WEEK = scheduleFor(7 * DAY_MS);

/** A 7d secret rotated by us on schedule, AWSCURRENT `cur` (1 day old), no AWSPREVIOUS. */
function secret(over: Partial<SecretDescription> = {}): SecretDescription {
  return {
    arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-AbCdEf',
    name: 'api',
    rotationEnabled: true,
    rotationLambdaArn: OURS,
    rotationRules: { scheduleExpression: WEEK.scheduleExpression, duration: WEEK.duration },
    lastRotatedDate: ago(DAY_MS),
    createdDate: ago(100 * DAY_MS),
    versions: { cur: ['AWSCURRENT'] },
    tags: { [TAG.lifespan]: '7d' },
    ...over,
  };
}
const ctx = (versionDates?: Record<string, Date>): PlanContext => ({
  now: NOW,
  rotationFunctionArn: OURS,
  sweepIntervalMs: INTERVAL,
  ...(versionDates ? { versionDates } : {}),
});

describe('the sweep plan for one secret', () => {
  it('does nothing to a secret within its lifespan, rotated by us on the right schedule', () => {
    const s = secret();
    expect(needsVersionDates(s, ctx())).toBe(false);
    expect(planSecret(s, ctx())).toEqual([]);
    // With exact dates too: still nothing.
    expect(planSecret(s, ctx({ cur: ago(DAY_MS) }))).toEqual([]);
  });

  it('attaches our function with the lifespan’s schedule where rotation is missing', () => {
    const s = secret({
      rotationEnabled: false,
      rotationLambdaArn: undefined,
      rotationRules: undefined,
    });
    expect(planSecret(s, ctx())).toEqual([{ type: 'attach', schedule: WEEK }]);
  });

  it('re-attaches where our function is set but rotation was turned off', () => {
    const s = secret({ rotationEnabled: false });
    expect(planSecret(s, ctx())).toEqual([{ type: 'attach', schedule: WEEK }]);
  });

  it('updates the schedule when the lifespan tag changed', () => {
    const s = secret({ tags: { [TAG.lifespan]: '30d' } });
    expect(planSecret(s, ctx())).toEqual([
      { type: 'update-schedule', schedule: scheduleFor(30 * DAY_MS), found: s.rotationRules },
    ]);
  });

  it('treats a qualified ARN of our function as ours', () => {
    const s = secret({ rotationLambdaArn: `${OURS}:live` });
    expect(planSecret(s, ctx())).toEqual([]);
    expect(sameFunction(OURS, `${OURS}:live`)).toBe(true);
    expect(sameFunction(OURS, THEIRS)).toBe(false);
    expect(sameFunction(undefined, OURS)).toBe(false);
  });

  it('detaches our rotation from a secret whose lifespan tag is gone', () => {
    const s = secret({ tags: { other: 'x' } });
    expect(planSecret(s, ctx())).toEqual([{ type: 'detach' }]);
  });

  it('leaves a secret without the tag alone when the rotation is not ours or is off', () => {
    expect(planSecret(secret({ tags: {}, rotationLambdaArn: THEIRS }), ctx())).toEqual([]);
    expect(planSecret(secret({ tags: {}, rotationEnabled: false }), ctx())).toEqual([]);
  });

  it('changes nothing on a secret with an invalid policy, and says so with its fingerprint', () => {
    const s = secret({ tags: { [TAG.lifespan]: 'banana' }, rotationEnabled: false });
    const actions = planSecret(s, ctx({ cur: ago(30 * DAY_MS) }));
    expect(actions).toHaveLength(1);
    const [action] = actions;
    expect(action?.type).toBe('policy-invalid');
    if (action?.type !== 'policy-invalid') return;
    expect(action.problems.map((p) => p.tag)).toEqual([TAG.lifespan]);
    expect(action.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(needsVersionDates(s, ctx())).toBe(false);
  });

  it('rotates at once a secret whose live token is older than its lifespan', () => {
    const s = secret({ lastRotatedDate: ago(8 * DAY_MS) });
    expect(needsVersionDates(s, ctx())).toBe(true);
    expect(planSecret(s, ctx({ cur: ago(8 * DAY_MS) }))).toEqual([
      {
        type: 'lifespan-overdue',
        versionId: 'cur',
        ageMs: 8 * DAY_MS,
        lifespanMs: 7 * DAY_MS,
        rotateNow: true,
      },
    ]);
  });

  it('does not call a token overdue at exactly its lifespan', () => {
    const s = secret({ lastRotatedDate: ago(7 * DAY_MS) });
    expect(planSecret(s, ctx({ cur: ago(7 * DAY_MS) }))).toEqual([]);
  });

  it('attaches first, then rotates, a never-attached secret that is already overdue', () => {
    const s = secret({
      rotationEnabled: false,
      rotationLambdaArn: undefined,
      rotationRules: undefined,
      lastRotatedDate: undefined,
    });
    const actions = planSecret(s, ctx({ cur: ago(100 * DAY_MS) }));
    expect(actions.map((a) => a.type)).toEqual(['attach', 'lifespan-overdue']);
  });

  it('asks for version dates only when the listing says the token may be overdue', () => {
    // Rotated 6d22h ago: even with the hour a rotation may take, the token is under 7d.
    expect(
      needsVersionDates(secret({ lastRotatedDate: ago(6 * DAY_MS + 22 * HOUR_MS) }), ctx()),
    ).toBe(false);
    expect(
      needsVersionDates(
        secret({ lastRotatedDate: ago(6 * DAY_MS + 23 * HOUR_MS + MINUTE_MS) }),
        ctx(),
      ),
    ).toBe(true);
    // Never rotated: the secret's creation bounds the token's age.
    expect(
      needsVersionDates(
        secret({ lastRotatedDate: undefined, createdDate: ago(6 * DAY_MS) }),
        ctx(),
      ),
    ).toBe(false);
    expect(
      needsVersionDates(
        secret({ lastRotatedDate: undefined, createdDate: ago(8 * DAY_MS) }),
        ctx(),
      ),
    ).toBe(true);
    // Nothing to go by: ask.
    expect(
      needsVersionDates(secret({ lastRotatedDate: undefined, createdDate: undefined }), ctx()),
    ).toBe(true);
  });

  it('catches a token made live long before the last rotation once its dates are known', () => {
    // A rotation whose AWSPENDING waited 8 days before it finished: LastRotatedDate is recent, the token is not.
    const s = secret({ lastRotatedDate: ago(HOUR_MS) });
    expect(planSecret(s, ctx({ cur: ago(8 * DAY_MS) }))[0]).toMatchObject({
      type: 'lifespan-overdue',
      rotateNow: true,
    });
  });

  it('leaves a rotation in progress alone, even when the token it replaces is overdue', () => {
    const s = secret({
      versions: { cur: ['AWSCURRENT'], next: ['AWSPENDING'] },
      lastRotatedDate: ago(8 * DAY_MS),
    });
    expect(needsVersionDates(s, ctx())).toBe(true);
    expect(
      planSecret(s, ctx({ cur: ago(7 * DAY_MS + MINUTE_MS), next: ago(2 * MINUTE_MS) })),
    ).toEqual([]);
  });

  it('reports a rotation stuck for over an hour, and an overdue token it blocks without rotating', () => {
    const s = secret({
      versions: { cur: ['AWSCURRENT'], next: ['AWSPENDING'] },
      lastRotatedDate: ago(8 * DAY_MS),
    });
    const actions = planSecret(s, ctx({ cur: ago(8 * DAY_MS), next: ago(3 * HOUR_MS) }));
    expect(actions).toEqual([
      { type: 'rotation-stuck', versionId: 'next', pendingForMs: 3 * HOUR_MS },
      {
        type: 'lifespan-overdue',
        versionId: 'cur',
        ageMs: 8 * DAY_MS,
        lifespanMs: 7 * DAY_MS,
        rotateNow: false,
      },
    ]);
  });

  it('does not report a rotation pending for exactly the stuck threshold', () => {
    const s = secret({ versions: { cur: ['AWSCURRENT'], next: ['AWSPENDING'] } });
    expect(planSecret(s, ctx({ cur: ago(DAY_MS), next: ago(STUCK_AFTER_MS) }))).toEqual([]);
    expect(planSecret(s, ctx({ cur: ago(DAY_MS), next: ago(STUCK_AFTER_MS + 1) }))).toEqual([
      { type: 'rotation-stuck', versionId: 'next', pendingForMs: STUCK_AFTER_MS + 1 },
    ]);
  });

  it('treats AWSPENDING on the AWSCURRENT version as a finished rotation', () => {
    const s = secret({ versions: { cur: ['AWSCURRENT', 'AWSPENDING'] } });
    expect(needsVersionDates(s, ctx())).toBe(false);
    expect(planSecret(s, ctx({ cur: ago(3 * DAY_MS) }))).toEqual([]);
    // …and an overdue token on it is rotated, not waited for.
    expect(planSecret(s, ctx({ cur: ago(8 * DAY_MS) }))[0]).toMatchObject({
      type: 'lifespan-overdue',
      rotateNow: true,
    });
  });

  it('revokes the previous token once its grace has run out since it stopped being live', () => {
    const s = secret({
      versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
      lastRotatedDate: ago(2 * HOUR_MS),
    });
    expect(needsVersionDates(s, ctx())).toBe(true);
    expect(planSecret(s, ctx({ cur: ago(2 * HOUR_MS + MINUTE_MS), old: ago(7 * DAY_MS) }))).toEqual(
      [
        {
          type: 'revoke-previous',
          versionId: 'old',
          graceEndedAt: NOW,
          kind: 'random',
          // One more grace period (2h) if the issuer saw the token used since it was replaced.
          switchOver: { replacedAt: ago(2 * HOUR_MS), extendMs: 2 * HOUR_MS },
        },
      ],
    );
  });

  it.each([
    [0, 0],
    [2, 4 * HOUR_MS],
  ])(
    'extends a still-used previous token by the stack graceExtensions (%i grace periods) at most',
    (graceExtensions, extendMs) => {
      const s = secret({
        versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
        lastRotatedDate: ago(2 * HOUR_MS),
      });
      const limits = { maxLifespanMs: 30 * DAY_MS, graceExtensions };
      const dates = { cur: ago(2 * HOUR_MS + MINUTE_MS), old: ago(7 * DAY_MS) };
      expect(planSecret(s, { ...ctx(dates), limits })[0]).toMatchObject({
        type: 'revoke-previous',
        switchOver: { extendMs },
      });
    },
  );

  it('keeps the previous token through its grace, counted from when the rotation finished', () => {
    // The rotation's version was made 3h ago but the rotation finished 1h59m ago: 1 minute of grace left.
    const s = secret({
      versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
      lastRotatedDate: ago(2 * HOUR_MS - MINUTE_MS),
    });
    expect(needsVersionDates(s, ctx())).toBe(false);
    expect(planSecret(s, ctx({ cur: ago(3 * HOUR_MS), old: ago(7 * DAY_MS) }))).toEqual([]);
  });

  it('uses the grace tag, and a grace of 0m revokes at the first sweep after the rotation', () => {
    const versions = { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] };
    const long = secret({
      versions,
      tags: { [TAG.lifespan]: '7d', [TAG.grace]: '3d' },
      lastRotatedDate: ago(2 * DAY_MS),
    });
    expect(planSecret(long, ctx({ cur: ago(2 * DAY_MS), old: ago(9 * DAY_MS) }))).toEqual([]);
    const none = secret({
      versions,
      tags: { [TAG.lifespan]: '7d', [TAG.grace]: '0m', [TAG.kind]: 'lambda:issuer' },
      lastRotatedDate: ago(MINUTE_MS),
    });
    expect(needsVersionDates(none, ctx())).toBe(true);
    expect(planSecret(none, ctx({ cur: ago(MINUTE_MS), old: ago(DAY_MS) }))).toEqual([
      {
        type: 'revoke-previous',
        versionId: 'old',
        graceEndedAt: ago(MINUTE_MS),
        kind: 'lambda:issuer',
        switchOver: expect.objectContaining({ extendMs: expect.any(Number) }),
      },
    ]);
  });

  it('never takes over another function’s rotation, but enforces the lifespan with RotateSecret', () => {
    const s = secret({
      rotationLambdaArn: THEIRS,
      rotationRules: { automaticallyAfterDays: 30 },
      versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
      lastRotatedDate: ago(20 * DAY_MS),
    });
    const actions = planSecret(s, ctx({ cur: ago(20 * DAY_MS), old: ago(50 * DAY_MS) }));
    // No attach/update, no revoke of the previous version (their function owns it): only the lifespan.
    expect(actions).toEqual([
      { type: 'foreign-rotation', rotationLambdaArn: THEIRS },
      {
        type: 'lifespan-overdue',
        versionId: 'cur',
        ageMs: 20 * DAY_MS,
        lifespanMs: 7 * DAY_MS,
        rotateNow: true,
      },
    ]);
  });

  it('does not ask for version dates for another function’s previous version', () => {
    const s = secret({
      rotationLambdaArn: THEIRS,
      versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
    });
    expect(needsVersionDates(s, ctx())).toBe(false);
  });

  it('rotates a 4h secret early, one sweep before its lifespan, since no schedule can keep it under 4h', () => {
    const four = scheduleFor(4 * HOUR_MS);
    const s = secret({
      tags: { [TAG.lifespan]: '4h' },
      rotationRules: { scheduleExpression: four.scheduleExpression, duration: four.duration },
      lastRotatedDate: ago(3 * HOUR_MS + 50 * MINUTE_MS),
    });
    expect(needsVersionDates(s, ctx())).toBe(true);
    expect(planSecret(s, ctx({ cur: ago(3 * HOUR_MS + 50 * MINUTE_MS) }))).toEqual([
      {
        type: 'rotate-early',
        versionId: 'cur',
        ageMs: 3 * HOUR_MS + 50 * MINUTE_MS,
        lifespanMs: 4 * HOUR_MS,
      },
    ]);
    expect(planSecret(s, ctx({ cur: ago(3 * HOUR_MS + 44 * MINUTE_MS) }))).toEqual([]);
  });

  it('does not rotate early where the schedule already keeps the token within its lifespan', () => {
    const five = scheduleFor(5 * HOUR_MS);
    const s = secret({
      tags: { [TAG.lifespan]: '5h' },
      rotationRules: { scheduleExpression: five.scheduleExpression, duration: five.duration },
      lastRotatedDate: ago(4 * HOUR_MS + 55 * MINUTE_MS),
    });
    expect(planSecret(s, ctx({ cur: ago(4 * HOUR_MS + 55 * MINUTE_MS) }))).toEqual([]);
  });

  it('leaves a secret with an emergency revoke requested to the revoke function', () => {
    const s = secret({
      tags: { [TAG.lifespan]: '7d', [TAG.revoke]: 'leaked' },
      lastRotatedDate: ago(9 * DAY_MS),
    });
    expect(needsVersionDates(s, ctx())).toBe(false);
    expect(planSecret(s, ctx({ cur: ago(9 * DAY_MS) }))).toEqual([
      { type: 'revoke-requested', reason: 'leaked' },
    ]);
  });

  it('does nothing to a deleted secret', () => {
    const s = secret({ deleted: true, rotationEnabled: false });
    expect(needsVersionDates(s, ctx())).toBe(false);
    expect(planSecret(s, ctx())).toEqual([]);
  });

  it('acts on no date it was not given', () => {
    // Candidate, but dates missing (a failed lookup): no guessing, no action on ages.
    const s = secret({
      versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'], next: ['AWSPENDING'] },
      lastRotatedDate: ago(30 * DAY_MS),
    });
    expect(planSecret(s, ctx())).toEqual([]);
  });
});
