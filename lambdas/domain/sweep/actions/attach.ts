// Attaching our rotation where it is missing, and updating its schedule where it no longer matches
// the lifespan tag. First among the rotation actions, so a rotation started afterwards runs with
// the suite's function.
import type { SecretDescription } from '../../ports.ts';
import { type RotationSchedule, scheduleMatches } from '../../schedule.ts';
import type { ActionContext, SweepActionDef } from '../context.ts';
import { isRotationInProgress, lifespanOf, rotateNow } from '../context.ts';
import type { Enforced } from '../facts.ts';
import { lifespanOverdue } from './lifespan-overdue.ts';
import { rotateEarly } from './rotate-early.ts';

// Attaching without rotating still runs the function's testSecret, and Secrets Manager refuses
// it while a rotation is under way: then, as for a rotation, the secret waits for the next sweep.
const audited: typeof rotateNow = (c, secret, e, call) =>
  c.audited(secret, e, call, isRotationInProgress);

/**
 * RotateSecret with our function and schedule; rotating at once in the same call where the token
 * is due (`rotateNow`: why), so a due secret gets one rotation, not an attach and then a rotate.
 */
export interface Attach {
  type: 'attach';
  schedule: RotationSchedule;
  rotateNow?: RotateReason;
}

/** RotateSecret with our function and the schedule the lifespan tag now implies (and `rotateNow`). */
export interface UpdateSchedule {
  type: 'update-schedule';
  schedule: RotationSchedule;
  found?: SecretDescription['rotationRules'];
  rotateNow?: RotateReason;
}

type RotateReason = 'lifespan.overdue' | 'lifespan-floor';

/** Why the token is to be rotated now, when lifespan-overdue or rotate-early says so. */
function dueNow(s: Enforced): RotateReason | undefined {
  if (lifespanOverdue.plan(s).some((a) => a.rotateNow)) return 'lifespan.overdue';
  if (rotateEarly.plan(s).length > 0) return 'lifespan-floor';
  return undefined;
}

function withDue<A extends Attach | UpdateSchedule>(action: A, s: Enforced): A {
  const reason = dueNow(s);
  if (reason !== undefined) action.rotateNow = reason;
  return action;
}

async function attachRotation(
  c: ActionContext,
  secret: SecretDescription,
  action: Attach | UpdateSchedule,
): Promise<void> {
  const { schedule } = action;
  const lambdaArn = c.rotationFunctionArn;
  const immediately = action.rotateNow !== undefined;
  // Rotating now, the call is the pass's one rotation (the overdue or early rule does not rotate
  // again); a rotation already under way leaves the secret to the next sweep.
  const attached = await (immediately ? rotateNow : audited)(
    c,
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
        ...(immediately && { rotating: action.rotateNow }),
      },
    },
    () =>
      c.deps.pace(
        () =>
          c.deps.catalog.rotate(secret.arn, {
            lambdaArn,
            scheduleExpression: schedule.scheduleExpression,
            duration: schedule.duration,
            immediately,
          }),
        'RotateSecret',
      ),
  );
  if (!attached) return;
  // Recorded after the attach, so a failed attach leaves no member; update records too,
  // which enrols secrets attached before the managed set existed.
  await c.deps.managed?.add({ arn: secret.arn, name: secret.name });
}

/**
 * A rotation under way (AWSPENDING on a version that is not AWSCURRENT) makes Secrets Manager
 * refuse any RotateSecret: the secret is left to finish and looked at next sweep (a stuck one
 * is reported by rotation-stuck, which says what to do).
 */
const rotationUnderWay = (s: Enforced) => s.pending !== undefined;

export const attach: SweepActionDef<Attach> = {
  plan: (s) =>
    s.state === 'enforced' &&
    !s.foreign &&
    !rotationUnderWay(s) &&
    (!s.ours || !s.secret.rotationEnabled)
      ? [withDue({ type: 'attach', schedule: s.schedule }, s)]
      : [],
  run: attachRotation,
};

export const updateSchedule: SweepActionDef<UpdateSchedule> = {
  plan: (s) => {
    if (s.state !== 'enforced' || s.foreign || !s.ours || !s.secret.rotationEnabled) return [];
    if (rotationUnderWay(s)) return [];
    if (scheduleMatches(s.secret.rotationRules, s.policy.lifespanMs)) return [];
    const update: UpdateSchedule = { type: 'update-schedule', schedule: s.schedule };
    if (s.secret.rotationRules) update.found = s.secret.rotationRules;
    return [withDue(update, s)];
  },
  run: attachRotation,
};
