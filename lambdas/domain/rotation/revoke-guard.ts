// An emergency revoke wins over a rotation: the revoke lock's reads around a step's change, the
// refusal a step throws when a revoke got in the way, and revoking again what it brought to life.

import { describeError, RotationError } from '#domain/errors';
import type { Issuer, RevokeLock, SecretDescription } from '#domain/ports';
import { REVOKE_STALE_MS } from '#domain/revoke/index';
import type { RotationDeps, RotationRequest, StepState } from './types.ts';
import { issuerContext } from './values.ts';

/**
 * An emergency revoke wins over a rotation. finishSecret moves AWSCURRENT from the version it read
 * in DescribeSecret, so Secrets Manager refuses the move once a revoke has moved AWSCURRENT since;
 * what remains is a revoke that started around that read, or that left the secret quarantined.
 * So the revoke's lock is read before DescribeSecret and again just before the step changes what
 * a revoke may already have dealt with (createSecret: after putting its value, which re-attaches
 * AWSPENDING; finishSecret: before moving AWSCURRENT). setSecret, only for a kind that activates,
 * reads it before reading the new token (by AWSPENDING, which a finished revoke took off), just
 * before activating, and after.
 * A revoke running at either read, a different revoke at each (one started and finished in
 * between), or a quarantine stops the step. A revoke that starts after the second read finds this
 * version and revokes it like any other (setSecret reads a third time, after activating, because
 * activating would bring back a token such a revoke revoked). Returns what was found, or undefined
 * when no revoke stands in the way.
 */
function revokeSince(
  before: RevokeLock | undefined,
  now: RevokeLock | undefined,
  at: Date,
): { found: string; reason: string } | undefined {
  // A revoke running longer than REVOKE_STALE_MS stopped without finishing (its function timed
  // out, or it could not release the lock): it no longer stands in the way, or one stuck lock
  // would refuse every rotation of the secret for good. The next revoke takes its lock over.
  const staleBefore = at.getTime() - REVOKE_STALE_MS;
  const stale = (lock: RevokeLock | undefined) =>
    lock?.state === 'running' && Date.parse(lock.startedAt) < staleBefore;
  const running = [before, now].find((lock) => lock?.state === 'running' && !stale(lock));
  if (running) {
    return {
      found: `revoke ${running.revokeId} (${running.mode}) running since ${running.startedAt}`,
      reason: 'revoke-in-progress',
    };
  }
  if (now && before?.revokeId !== now.revokeId) {
    return {
      found: `revoke ${now.revokeId} (${now.mode}) ${now.state} at ${now.finishedAt ?? now.startedAt}`,
      reason: 'revoke-in-progress',
    };
  }
  // The stronger request queued behind a revoke that stopped was never carried out: rotating now
  // would mint fresh tokens of a secret someone asked to quarantine.
  if (now?.queued && stale(now)) {
    const { queued } = now;
    return {
      found: `a ${queued.mode} request (${queued.trigger.source}${queued.trigger.principal ? ` by ${queued.trigger.principal}` : ''}, queued at ${queued.queuedAt}) behind revoke ${now.revokeId} (${now.mode}), which stopped without finishing (running since ${now.startedAt}); that ${queued.mode} was never carried out`,
      reason: 'revoke-stalled',
    };
  }
  if (now?.mode === 'quarantine') {
    return {
      found: `the secret quarantined by revoke ${now.revokeId} (${stale(now) ? 'stopped without finishing, running since' : `${now.state} at`} ${now.finishedAt ?? now.startedAt}); only a person restores it, with a revoke in mode reissue`,
      reason: 'quarantined',
    };
  }
  return undefined;
}

/** The second read of the revoke lock (see `revokeSince`): what stands in the way, if anything. */
export async function revokeInTheWay(
  secret: SecretDescription,
  deps: RotationDeps,
  state: StepState,
): Promise<{ found: string; reason: string } | undefined> {
  if (!deps.revokes) return undefined;
  const now = await deps.revokes.read(secret.arn);
  return revokeSince(state.revokeBefore ? state.revokeBefore.lock : now, now, deps.clock());
}

export function revokeRefusal(
  secret: SecretDescription,
  request: RotationRequest,
  what: { found: string; reason: string },
  outcome: string,
): RotationError {
  return new RotationError(
    secret.name,
    request.step,
    `expected no emergency revoke of this secret since this rotation step began, found ${what.found}; ${outcome}`,
    what.reason,
  );
}

/**
 * Revokes a token this step brought to life after a revoke got in the way. Where the issuer
 * refuses, the step fails naming the token (by its name, never its value) as still live, so a
 * person knows what to revoke by hand.
 */
export async function revokeAgain(
  secret: SecretDescription,
  issuer: Issuer,
  request: RotationRequest,
  state: StepState,
  value: string,
  what: { found: string; reason: string },
  left: string,
): Promise<void> {
  try {
    await issuer.revoke({ ...issuerContext(secret, request), value });
  } catch (error) {
    throw new RotationError(
      secret.name,
      request.step,
      `expected no emergency revoke of this secret since this rotation step began, found ${what.found}; the new token (${state.tokens.pending}) was NOT revoked and is still live at the issuer (${describeError(error, state.seen)}); ${left}`,
      'token-not-revoked',
    );
  }
}
