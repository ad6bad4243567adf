// The sweep's decisions for one secret, as a pure function of its ListSecrets entry, the time and
// (for the few secrets that need them) its versions' creation dates. index.ts carries them out.
//
// The end state the plan keeps, while issuers work (SPEC "Lifespan enforcement"):
//   no live token (AWSCURRENT) older than lifespan + one sweep interval;
//   no previous token (AWSPREVIOUS) older than grace + one sweep interval after it stopped being live.
//
// Ages come from version creation dates, which ListSecrets does not carry. Fetching them
// (ListSecretVersionIds) for every secret at every sweep would cost one call per secret, so
// `needsVersionDates` picks the candidates from what the entry does carry:
//   - possibly overdue: the live token may be older than its lifespan (less an hour). Its version
//     was created no earlier than the secret (CreatedDate) and, when a rotation made it live, at
//     most ROTATION_ALLOWANCE before that rotation completed (LastRotatedDate).
//   - possibly past grace: an AWSPREVIOUS whose grace may have run out. It stopped being live at
//     max(AWSCURRENT's creation, LastRotatedDate), which is never before LastRotatedDate nor
//     CreatedDate, so before `grace` has passed since those there is nothing to check.
//   - a rotation in progress (AWSPENDING on a version that is not AWSCURRENT): to tell stuck
//     from under way.
// Assumption, stated because it is where the cheap bound could miss: a live version created
// long before it became live (a person moving AWSCURRENT back to an old version, or a rotation
// whose AWSPENDING waited days before finishing) looks younger than it is until its next
// rotation. The rollback case is a deliberate human act; the stuck case was reported as stuck.
import {
  HOUR_MS,
  type Policy,
  type PolicyLimits,
  type PolicyProblem,
  parsePolicy,
} from '../policy.ts';
import type { SecretDescription } from '../ports.ts';
import { type RotationSchedule, scheduleFor, scheduleMatches } from '../schedule.ts';
import { DELETE_AFTER_LABEL_PREFIX, STAGE, TAG } from '../vocabulary.ts';

/** A rotation's AWSPENDING older than this is stuck: the four steps run back to back in minutes. */
export const STUCK_AFTER_MS = HOUR_MS;
/** How long before LastRotatedDate a rotation's new version may have been created. */
export const ROTATION_ALLOWANCE_MS = HOUR_MS;

export interface PlanContext {
  now: Date;
  /** The suite's rotation function: secrets rotated by another function are never taken over. */
  rotationFunctionArn: string;
  sweepIntervalMs: number;
  /** The stack's limits on every policy (its maxLifespan); the defaults when not given. */
  limits?: PolicyLimits;
  /** Creation time of each version (ListSecretVersionIds); given when `needsVersionDates` says so. */
  versionDates?: Record<string, Date>;
}

/**
 * What the sweep does to one secret, in the order given. Attachment comes first so that a
 * rotation started afterwards runs with the suite's function.
 */
export type SweepAction =
  /** RotateSecret with our function and schedule, not rotating now (the age rules decide that). */
  | { type: 'attach'; schedule: RotationSchedule }
  /** RotateSecret with our function and the schedule the lifespan tag now implies. */
  | {
      type: 'update-schedule';
      schedule: RotationSchedule;
      found?: SecretDescription['rotationRules'];
    }
  /** CancelRotateSecret: the lifespan tag is gone but our function is still attached. */
  | { type: 'detach' }
  /**
   * `lifespan.overdue`: the live token is older than its lifespan. `rotateNow` is false when a
   * stuck rotation is in the way (RotateSecret would fail "A previous rotation isn't complete").
   */
  | {
      type: 'lifespan-overdue';
      versionId: string;
      ageMs: number;
      lifespanMs: number;
      rotateNow: boolean;
    }
  /**
   * Rotate before the lifespan runs out, where the schedule alone cannot keep the token within it
   * (the 4-hour floor): the token would be overdue by the next sweep. Expected, so not alerted.
   */
  | { type: 'rotate-early'; versionId: string; ageMs: number; lifespanMs: number }
  /** `rotation.stuck`: AWSPENDING on a version that is not AWSCURRENT for longer than STUCK_AFTER_MS. */
  | { type: 'rotation-stuck'; versionId: string; pendingForMs: number }
  /** `previous.revoked`: revoke AWSPREVIOUS at its issuer, then remove the label. */
  | { type: 'revoke-previous'; versionId: string; graceEndedAt: Date; kind: string }
  /**
   * `previous.deleted`: a token deactivated after grace (kinds with a two-stage revoke) whose
   * `token-rotation:delete-after:<time>` label has come due: revoke it for good, drop the label.
   */
  | { type: 'delete-deactivated'; versionId: string; label: string; dueAt: Date; kind: string }
  /** `policy.invalid`: nothing else is done to the secret. */
  | { type: 'policy-invalid'; problems: PolicyProblem[]; fingerprint: string }
  /** Rotation belongs to another function: kept, only the lifespan is enforced (RotateSecret, alerts). */
  | { type: 'foreign-rotation'; rotationLambdaArn: string }
  /** An emergency revoke is requested by tag: the revoke function owns the secret until it is done. */
  | { type: 'revoke-requested'; reason: string };

/** The function part of a Lambda ARN, without a version or alias qualifier. */
const functionOf = (arn: string) => arn.split(':').slice(0, 7).join(':');
export const sameFunction = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && functionOf(a) === functionOf(b);

function versionWith(secret: SecretDescription, stage: string): string | undefined {
  for (const [versionId, stages] of Object.entries(secret.versions)) {
    if (stages.includes(stage)) return versionId;
  }
  return undefined;
}

/** AWSPENDING on a version other than AWSCURRENT: a rotation started and not finished. */
function pendingRotation(secret: SecretDescription): string | undefined {
  for (const [versionId, stages] of Object.entries(secret.versions)) {
    if (stages.includes(STAGE.pending) && !stages.includes(STAGE.current)) return versionId;
  }
  return undefined;
}

const ms = (date: Date | undefined) => date?.getTime();
const latest = (...times: (number | undefined)[]) => {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
};

interface Facts {
  policy: Policy;
  schedule: RotationSchedule;
  ours: boolean;
  foreign: boolean;
  current?: string;
  previous?: string;
  pending?: string;
  /** Age at which the sweep rotates: the lifespan, or one interval before it at the 4-hour floor. */
  rotateAtMs: number;
}

function factsOf(secret: SecretDescription, ctx: PlanContext, policy: Policy): Facts {
  const schedule = scheduleFor(policy.lifespanMs);
  const ours = sameFunction(secret.rotationLambdaArn, ctx.rotationFunctionArn);
  const foreign =
    secret.rotationLambdaArn !== undefined && secret.rotationLambdaArn !== '' && !ours;
  const early = !foreign && !schedule.withinLifespan;
  return {
    policy,
    schedule,
    ours,
    foreign,
    current: versionWith(secret, STAGE.current),
    previous: versionWith(secret, STAGE.previous),
    pending: pendingRotation(secret),
    rotateAtMs: early ? Math.max(0, policy.lifespanMs - ctx.sweepIntervalMs) : policy.lifespanMs,
  };
}

/** A revoke tag with a reason: the revoke function's to act on (an empty one it refuses). */
function revokeRequested(policy: Policy): policy is Policy & { revokeReason: string } {
  return policy.revokeReason !== undefined && policy.revokeReason.trim() !== '';
}

/**
 * Whether `planSecret` needs this secret's version creation dates to decide exactly: true only for
 * the few candidates (possibly overdue, previous possibly past grace, rotation in progress).
 */
export function needsVersionDates(
  secret: SecretDescription,
  ctx: Omit<PlanContext, 'versionDates'>,
): boolean {
  if (secret.deleted) return false;
  const parsed = parsePolicy(secret, ctx.limits);
  if (!parsed.ok) return false;
  // A revoke request replaces every other action; an empty one (refused) does not.
  if (revokeRequested(parsed.policy)) return false;
  const f = factsOf(secret, ctx, parsed.policy);
  const now = ctx.now.getTime();
  if (f.pending !== undefined) return true;
  // The live version is no older than the secret, nor older than its rotation less the allowance,
  // so its age is at most now - currentNotBefore; below the rotation age there is nothing to do.
  const rotated = ms(secret.lastRotatedDate);
  const currentNotBefore = latest(
    ms(secret.createdDate),
    rotated === undefined ? undefined : rotated - ROTATION_ALLOWANCE_MS,
  );
  if (f.current !== undefined) {
    if (currentNotBefore === undefined || now - currentNotBefore > f.rotateAtMs) return true;
  }
  if (f.previous !== undefined && !f.foreign) {
    const liveUntilNotBefore = latest(ms(secret.createdDate), ms(secret.lastRotatedDate));
    if (liveUntilNotBefore === undefined || now - liveUntilNotBefore >= f.policy.graceMs)
      return true;
  }
  return false;
}

/** The sweep's actions for one secret (see SweepAction). Pure: same input, same plan. */
export function planSecret(secret: SecretDescription, ctx: PlanContext): SweepAction[] {
  if (secret.deleted) return [];
  const parsed = parsePolicy(secret, ctx.limits);
  if (!parsed.ok) {
    if (parsed.optedOut) {
      // Listed by a tag event or a detach pass: rotation of ours without the tag is detached.
      return secret.rotationEnabled &&
        sameFunction(secret.rotationLambdaArn, ctx.rotationFunctionArn)
        ? [{ type: 'detach' }]
        : [];
    }
    return [{ type: 'policy-invalid', problems: parsed.problems, fingerprint: parsed.fingerprint }];
  }
  const { policy } = parsed;
  if (revokeRequested(policy)) return [{ type: 'revoke-requested', reason: policy.revokeReason }];

  const f = factsOf(secret, ctx, policy);
  const actions: SweepAction[] = [];
  if (policy.revokeReason !== undefined) {
    // An empty revoke tag: the revoke refuses a request without a reason, so handing it over
    // would repeat at every sweep. Report it once, and keep enforcing the lifespan meanwhile.
    actions.push({
      type: 'policy-invalid',
      fingerprint: `${policy.fingerprint}:empty-revoke`,
      problems: [
        {
          tag: TAG.revoke,
          found: '',
          allowed: 'the reason for the emergency revoke, as text',
          message: `${TAG.revoke} is empty: expected the reason for the emergency revoke (any text); nothing was revoked`,
        },
      ],
    });
  }
  if (f.foreign) {
    actions.push({ type: 'foreign-rotation', rotationLambdaArn: secret.rotationLambdaArn! });
  } else if (!f.ours || !secret.rotationEnabled) {
    actions.push({ type: 'attach', schedule: f.schedule });
  } else if (!scheduleMatches(secret.rotationRules, policy.lifespanMs)) {
    const update: SweepAction = { type: 'update-schedule', schedule: f.schedule };
    if (secret.rotationRules) update.found = secret.rotationRules;
    actions.push(update);
  }

  const now = ctx.now.getTime();
  const dates = ctx.versionDates;
  const createdAt = (versionId: string | undefined) =>
    versionId === undefined ? undefined : ms(dates?.[versionId]);

  // A rotation in progress is left to finish; past STUCK_AFTER_MS it is reported.
  let stuck = false;
  const pendingSince = createdAt(f.pending);
  if (
    f.pending !== undefined &&
    pendingSince !== undefined &&
    now - pendingSince > STUCK_AFTER_MS
  ) {
    stuck = true;
    actions.push({
      type: 'rotation-stuck',
      versionId: f.pending,
      pendingForMs: now - pendingSince,
    });
  }

  const currentSince = createdAt(f.current);
  if (f.current !== undefined && currentSince !== undefined) {
    const ageMs = now - currentSince;
    const base = { versionId: f.current, ageMs, lifespanMs: policy.lifespanMs };
    if (ageMs > policy.lifespanMs) {
      // Under way and not stuck: the rotation will retire this token within minutes.
      if (f.pending === undefined)
        actions.push({ type: 'lifespan-overdue', ...base, rotateNow: true });
      else if (stuck) actions.push({ type: 'lifespan-overdue', ...base, rotateNow: false });
    } else if (ageMs > f.rotateAtMs && f.pending === undefined) {
      actions.push({ type: 'rotate-early', ...base });
    }
  }

  // Another function's rotation owns its previous versions (an RDS alternating-users secret, say).
  if (
    !f.foreign &&
    f.previous !== undefined &&
    f.previous !== f.current &&
    currentSince !== undefined
  ) {
    const liveUntil = latest(currentSince, ms(secret.lastRotatedDate))!;
    const graceEndsAt = liveUntil + policy.graceMs;
    if (now >= graceEndsAt) {
      actions.push({
        type: 'revoke-previous',
        versionId: f.previous,
        graceEndedAt: new Date(graceEndsAt),
        kind: policy.kind,
      });
    }
  }
  actions.push(...deletionsDue(secret, policy.kind, now));
  return actions;
}

/** The delete-after label for a token deactivated now, to be deleted `afterMs` later. */
export function deleteAfterLabel(now: Date, afterMs: number): string {
  return `${DELETE_AFTER_LABEL_PREFIX}${new Date(now.getTime() + afterMs).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

/**
 * Deactivated tokens whose delete-after label is due. A version that is live again (a person
 * moved AWSCURRENT, AWSPENDING or AWSPREVIOUS back onto it) is never deleted.
 */
function deletionsDue(secret: SecretDescription, kind: string, now: number): SweepAction[] {
  const due: SweepAction[] = [];
  for (const [versionId, stages] of Object.entries(secret.versions)) {
    const live = [STAGE.current, STAGE.pending, STAGE.previous] as string[];
    if (stages.some((stage) => live.includes(stage))) continue;
    for (const label of stages) {
      if (!label.startsWith(DELETE_AFTER_LABEL_PREFIX)) continue;
      const dueAt = new Date(label.slice(DELETE_AFTER_LABEL_PREFIX.length));
      // An unreadable time is deleted now rather than never: the token is already deactivated.
      const at = Number.isNaN(dueAt.getTime()) ? new Date(0) : dueAt;
      if (at.getTime() > now) continue;
      due.push({ type: 'delete-deactivated', versionId, label, dueAt: at, kind });
    }
  }
  return due;
}
