// Attaching our rotation where it is missing, and updating its schedule where it no longer matches
// the lifespan tag. First among the rotation actions, so a rotation started afterwards runs with
// the suite's function.
import type { SecretDescription } from '../../ports.ts';
import { type RotationSchedule, scheduleMatches } from '../../schedule.ts';
import type { ActionContext, SweepActionDef } from '../context.ts';
import { lifespanOf } from '../context.ts';

/** RotateSecret with our function and schedule, not rotating now (the age rules decide that). */
export interface Attach {
  type: 'attach';
  schedule: RotationSchedule;
}

/** RotateSecret with our function and the schedule the lifespan tag now implies. */
export interface UpdateSchedule {
  type: 'update-schedule';
  schedule: RotationSchedule;
  found?: SecretDescription['rotationRules'];
}

async function attachRotation(
  c: ActionContext,
  secret: SecretDescription,
  action: Attach | UpdateSchedule,
): Promise<void> {
  const { schedule } = action;
  const lambdaArn = c.rotationFunctionArn;
  await c.audited(
    secret,
    {
      event: action.type === 'attach' ? 'rotation.attached' : 'rotation.updated',
      detail: {
        lifespan: lifespanOf(secret),
        schedule: schedule.scheduleExpression,
        window: schedule.duration,
        ...(action.type === 'update-schedule' && action.found?.scheduleExpression
          ? { previousSchedule: action.found.scheduleExpression }
          : {}),
      },
    },
    () =>
      c.deps.pace(() =>
        c.deps.catalog.rotate(secret.arn, {
          lambdaArn,
          scheduleExpression: schedule.scheduleExpression,
          duration: schedule.duration,
          immediately: false,
        }),
      ),
  );
  // Recorded after the attach, so a failed attach leaves no member; update records too,
  // which enrols secrets attached before the managed set existed.
  await c.deps.managed?.add({ arn: secret.arn, name: secret.name });
}

export const attach: SweepActionDef<Attach> = {
  plan: (s) =>
    s.state === 'enforced' && !s.foreign && (!s.ours || !s.secret.rotationEnabled)
      ? [{ type: 'attach', schedule: s.schedule }]
      : [],
  run: attachRotation,
};

export const updateSchedule: SweepActionDef<UpdateSchedule> = {
  plan: (s) => {
    if (s.state !== 'enforced' || s.foreign || !s.ours || !s.secret.rotationEnabled) return [];
    if (scheduleMatches(s.secret.rotationRules, s.policy.lifespanMs)) return [];
    const update: UpdateSchedule = { type: 'update-schedule', schedule: s.schedule };
    if (s.secret.rotationRules) update.found = s.secret.rotationRules;
    return [update];
  },
  run: attachRotation,
};
