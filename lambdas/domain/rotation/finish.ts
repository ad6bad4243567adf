// finishSecret: move AWSCURRENT to the new token, unless an emergency revoke got in the way. A
// previous token still live at its issuer is kept tracked for its revoke after grace.

import { logger } from '#commons/logger';
import { describeError } from '#domain/errors';
import { DEFAULT_GRACE_MS, MAX_LIFESPAN_MS, parsePolicy } from '#domain/policy';
import type { SecretDescription } from '#domain/ports';
import { latest, ms } from '#domain/sweep/facts';
import { revokeAfterLabel, revokeAfterTime } from '#domain/sweep/labels';
import { STAGE } from '#domain/vocabulary';
import { revokeInTheWay, revokeRefusal } from './revoke-guard.ts';
import type { RotationDeps, RotationRequest, StepState, Work } from './types.ts';
import { versionWith } from './values.ts';

// Only AWSCURRENT moves (Secrets Manager moves AWSPREVIOUS and drops AWSPENDING itself);
// the previous token keeps working through grace, then the sweep revokes it.
export const finishSecret: Work = async (secret, _issuer, request, deps, state) => {
  const { store } = deps;
  const revoke = await revokeInTheWay(secret, deps, state);
  if (revoke) throw revokeRefusal(secret, request, revoke, 'AWSCURRENT was left as it is');
  const from = versionWith(secret, STAGE.current);
  if (from) await keepPreviousTracked(secret, from, request, deps, state);
  state.movingStage = true;
  await store.moveStage(secret.arn, STAGE.current, request.token, from);
  state.versions = from ? { current: request.token, previous: from } : { current: request.token };
};

/**
 * Moving AWSCURRENT makes Secrets Manager move AWSPREVIOUS onto the outgoing live version, which
 * takes it off the version that held it. That version's token is still live at its issuer while
 * it holds AWSPREVIOUS (the sweep takes the label off once it revoked it), and without a label
 * nothing would ever revoke it: it gets the revoke-after label for the end of its grace first
 * (sweep/labels.ts), so it is never unaccounted for. Its grace ends where the sweep's would have:
 * `grace` after the outgoing live version became live (its creation, or the last rotation's end,
 * whichever is later). A grace already over gives a label due now: the next sweep revokes it.
 */
async function keepPreviousTracked(
  secret: SecretDescription,
  outgoing: string,
  request: RotationRequest,
  deps: RotationDeps,
  state: StepState,
): Promise<void> {
  const previous = versionWith(secret, STAGE.previous);
  if (previous === undefined || previous === outgoing || previous === request.token) return;
  // Already labelled by an earlier attempt of this step: one label is enough.
  if (secret.versions[previous]?.some((stage) => revokeAfterTime(stage) !== undefined)) return;
  const liveSince = await outgoingLiveSince(secret, outgoing, deps, state);
  // One label is on one version only: a time another pushed-off version holds goes a second later.
  const taken = new Set(
    Object.entries(secret.versions).flatMap(([id, stages]) => (id === previous ? [] : stages)),
  );
  let graceEndsAt = liveSince + graceOf(secret);
  while (taken.has(revokeAfterLabel(new Date(graceEndsAt)))) graceEndsAt += 1000;
  const label = revokeAfterLabel(new Date(graceEndsAt));
  await deps.store.moveStage(secret.arn, label, previous);
  state.detail.previousVersion = previous;
  state.detail.revokeAfter = label;
}

/**
 * When the outgoing live version became live, as the sweep reckons it. Where its creation date
 * cannot be read (a role without secretsmanager:ListSecretVersionIds, say), now: a grace that
 * ends late rather than a token revoked while consumers may still hold it, said so in the audit.
 */
async function outgoingLiveSince(
  secret: SecretDescription,
  outgoing: string,
  deps: RotationDeps,
  state: StepState,
): Promise<number> {
  try {
    const created = await deps.store.versionCreated(secret.arn, outgoing);
    const since = latest(ms(created), ms(secret.lastRotatedDate));
    if (since !== undefined) return since;
  } catch (error) {
    const why = describeError(error, state.seen);
    logger.warn('could not read when the live version was created; its grace counts from now', {
      secretArn: secret.arn,
      versionId: outgoing,
      error: why,
    });
    state.detail.revokeAfterFrom = `this step's time: the version's creation date could not be read (${why})`;
  }
  return deps.clock().getTime();
}

/** The secret's grace; the default where its tags cannot be read (the sweep alerts those). */
function graceOf(secret: SecretDescription): number {
  // The widest limits: the stack's own cap on lifespans is the sweep's to enforce, not this step's.
  const parsed = parsePolicy(secret, { maxLifespanMs: MAX_LIFESPAN_MS });
  return parsed.ok ? parsed.policy.graceMs : DEFAULT_GRACE_MS;
}
