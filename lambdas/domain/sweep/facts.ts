// What the plan knows about one secret: its policy read from the tags, where rotation stands, and
// (for the few secrets that needed them) its versions' ages. Every sweep action's condition
// (actions/) is a function of this state, so the conditions need no AWS call of their own.
import {
  HOUR_MS,
  type Policy,
  type PolicyLimits,
  type PolicyProblem,
  parsePolicy,
} from '../policy.ts';
import type { SecretDescription } from '../ports.ts';
import { type RotationSchedule, scheduleFor } from '../schedule.ts';
import { STAGE } from '../vocabulary.ts';

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
  /** A tag event changed the declared scopes (`token-rotation:scopes`): check the live token's. */
  scopesChanged?: boolean;
  /** Creation time of each version (ListSecretVersionIds); given when `needsVersionDates` says so. */
  versionDates?: Record<string, Date>;
}

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

export const ms = (date: Date | undefined) => date?.getTime();
export const latest = (...times: (number | undefined)[]) => {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
};

export interface Facts {
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

export function factsOf(
  secret: SecretDescription,
  ctx: Omit<PlanContext, 'versionDates'>,
  policy: Policy,
): Facts {
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
export function revokeRequested(policy: Policy): policy is Policy & { revokeReason: string } {
  return policy.revokeReason !== undefined && policy.revokeReason.trim() !== '';
}

/**
 * One secret as the plan sees it. Exactly one state applies, so each action's condition names the
 * state it acts in and the plan needs no precedence rules beyond the order of the actions' table.
 */
export type SecretState =
  /** The lifespan tag is gone (listed by a tag event or the detach pass). */
  | { state: 'opted-out'; secret: SecretDescription; ctx: PlanContext }
  /** The tags do not make a valid policy: nothing else is done to the secret. */
  | {
      state: 'invalid';
      secret: SecretDescription;
      problems: PolicyProblem[];
      fingerprint: string;
    }
  /** A revoke tag with a reason: the revoke function owns the secret until it is done. */
  | { state: 'revoke-requested'; secret: SecretDescription; reason: string }
  /** A valid policy the sweep enforces. */
  | Enforced;

export interface Enforced extends Facts {
  state: 'enforced';
  secret: SecretDescription;
  ctx: PlanContext;
  now: number;
  /** Creation times, where the version dates were looked up. */
  currentSince?: number;
  pendingSince?: number;
  /** A rotation in progress for longer than STUCK_AFTER_MS. */
  stuck: boolean;
}

/** The state of one secret; undefined for a deleted secret (the sweep does nothing to it). */
export function stateOf(secret: SecretDescription, ctx: PlanContext): SecretState | undefined {
  if (secret.deleted) return undefined;
  const parsed = parsePolicy(secret, ctx.limits);
  if (!parsed.ok) {
    return parsed.optedOut
      ? { state: 'opted-out', secret, ctx }
      : { state: 'invalid', secret, problems: parsed.problems, fingerprint: parsed.fingerprint };
  }
  const { policy } = parsed;
  if (revokeRequested(policy)) {
    return { state: 'revoke-requested', secret, reason: policy.revokeReason };
  }
  const f = factsOf(secret, ctx, policy);
  const now = ctx.now.getTime();
  const createdAt = (versionId: string | undefined) =>
    versionId === undefined ? undefined : ms(ctx.versionDates?.[versionId]);
  const pendingSince = createdAt(f.pending);
  const currentSince = createdAt(f.current);
  return {
    ...f,
    state: 'enforced',
    secret,
    ctx,
    now,
    ...(currentSince !== undefined ? { currentSince } : {}),
    ...(pendingSince !== undefined ? { pendingSince } : {}),
    // A rotation in progress is left to finish; past STUCK_AFTER_MS it is reported.
    stuck:
      f.pending !== undefined && pendingSince !== undefined && now - pendingSince > STUCK_AFTER_MS,
  };
}
