// Rotating before the lifespan runs out, where the schedule alone cannot keep the token within it
// (the 4-hour floor, schedule.ts): the token would be overdue by the next sweep. Expected, so
// audited as a rotation request and not alerted.
import { hours, lifespanOf, rotateNow, type SweepActionDef } from '../context.ts';
import { liveAge } from './lifespan-overdue.ts';

/**
 * Rotate before the lifespan runs out, where the schedule alone cannot keep the token within it
 * (the 4-hour floor): the token would be overdue by the next sweep. Expected, so not alerted.
 */
export interface RotateEarly {
  type: 'rotate-early';
  versionId: string;
  ageMs: number;
  lifespanMs: number;
}

export const rotateEarly: SweepActionDef<RotateEarly> = {
  plan: (s) => {
    if (s.state !== 'enforced' || s.pending !== undefined) return [];
    const live = liveAge(s);
    if (live === undefined || live.ageMs > s.policy.lifespanMs || live.ageMs <= s.rotateAtMs) {
      return [];
    }
    return [{ type: 'rotate-early', ...live, lifespanMs: s.policy.lifespanMs }];
  },
  run: async (c, secret, action) => {
    await rotateNow(
      c,
      secret,
      {
        event: 'rotation.requested',
        versions: { current: action.versionId },
        detail: {
          reason: 'lifespan-floor',
          ageHours: hours(action.ageMs),
          lifespan: lifespanOf(secret),
        },
      },
      () =>
        c.deps.pace(() => c.deps.catalog.rotate(secret.arn, { immediately: true }), 'RotateSecret'),
    );
  },
};
