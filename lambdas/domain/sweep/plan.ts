// The sweep's decisions for one secret, as a pure function of its ListSecrets entry, the time and
// (for the few secrets that need them) its versions' creation dates. Each action's condition sits
// with its work in actions/; index.ts carries the plan out.
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
import { parsePolicy } from '../policy.ts';
import type { SecretDescription } from '../ports.ts';
import { SWEEP_ACTIONS, type SweepAction } from './actions/index.ts';
import {
  factsOf,
  latest,
  ms,
  type PlanContext,
  ROTATION_ALLOWANCE_MS,
  revokeRequested,
  stateOf,
} from './facts.ts';

export type { SweepAction } from './actions/index.ts';
export {
  type PlanContext,
  ROTATION_ALLOWANCE_MS,
  STUCK_AFTER_MS,
  sameFunction,
} from './facts.ts';

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

/** The sweep's actions for one secret: every action's condition, in the table's order. Pure. */
export function planSecret(secret: SecretDescription, ctx: PlanContext): SweepAction[] {
  const state = stateOf(secret, ctx);
  if (state === undefined) return [];
  const actions: SweepAction[] = [];
  for (const def of Object.values(SWEEP_ACTIONS)) {
    actions.push(...(def.plan(state) as SweepAction[]));
  }
  return actions;
}
