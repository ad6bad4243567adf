// How an emergency revoke reports what went wrong, always audited and alerted as revoke.failed: a
// request refused before anything changed, a failure before any work began, a failure part-way
// (with what was and was not revoked), and a lock it could not release.

import { alertOf } from '../alerts/catalog.ts';
import type { StuckLock } from '../alerts/fields.ts';
import { describeVersions, stuckLockSteps } from '../alerts/wording.ts';
import { describeError, scrub } from '../errors.ts';
import type { Alert, AlertOutcome, QueuedRevoke } from '../ports.ts';
import { asStagesAfter, stagesAfterFailure } from '../stages.ts';
import type { RevokeWork } from './revoke-versions.ts';
import {
  type CheckedRequest,
  formKeys,
  REVOKE_STALE_MS,
  type RevokeDeps,
  RevokeFailedError,
  type RevokeRequest,
  RevokeRequestError,
} from './types.ts';

/** Sends an alert; a failure to send is logged and returned, never thrown. */
export async function safeAlert(deps: RevokeDeps, alert: Alert): Promise<AlertOutcome | 'failed'> {
  try {
    return await deps.alerter.send(alert);
  } catch (error) {
    deps.log?.warn('revoke: could not send the alert', {
      secretArn: alert.secretArn,
      event: alert.event,
      error: describeError(error),
    });
    return 'failed';
  }
}

/**
 * Refuses a request: audited and alerted (a revoke someone asked for did not happen), nothing
 * changed. Always throws the RevokeRequestError.
 */
export async function refuse(
  checked: Omit<CheckedRequest, 'issuer'>,
  deps: RevokeDeps,
  code: string,
  what: string[],
  changed = 'nothing was revoked or changed',
): Promise<never> {
  const { secret, request, reason } = checked;
  const message = `${what.join('; ')}; ${changed}`;
  await deps.audit.append(
    checked.entry({
      event: 'revoke.failed',
      outcome: 'failed',
      error: message,
      detail: { ...checked.detail, reason: reason || '(none)', refused: code },
    }),
  );
  await safeAlert(
    deps,
    alertOf('revoke.refused', {
      secret: { arn: secret.arn, name: secret.name },
      trigger: request.trigger,
      code,
      message,
      requestKey: request.requestKey ?? formKeys(checked.mode, reason, deps.clock())[0],
      stackName: checked.stackName,
    }),
  );
  throw new RevokeRequestError(secret.name, 'revoke', message, code);
}

/**
 * Audits and alerts a revoke that failed before any work began (no secret found, the lock not
 * claimed): nothing was revoked. Never throws: the caller throws `failure` afterwards.
 */
export async function reportUnstarted(
  deps: RevokeDeps,
  request: RevokeRequest,
  secret: { arn: string; name: string },
  failure: RevokeRequestError | RevokeFailedError,
  detail: Record<string, string>,
  /** See revokeFailedIncident (alerts/wording.ts). */
  incident: string,
): Promise<void> {
  try {
    await deps.audit.append({
      event: 'revoke.failed',
      outcome: 'failed',
      secretArn: secret.arn,
      secretName: secret.name,
      trigger: request.trigger,
      error: failure.message,
      detail,
    });
  } catch (auditError) {
    deps.log?.warn('revoke: could not audit the failure', {
      secretArn: secret.arn,
      error: describeError(auditError),
    });
  }
  const about = { secret, trigger: request.trigger };
  await safeAlert(
    deps,
    failure instanceof RevokeRequestError
      ? alertOf('revoke.secret-not-found', { ...about, message: failure.message, incident })
      : alertOf('revoke.failed-unstarted', {
          ...about,
          failedAt: detail.failedAt ?? 'start',
          message: failure.message,
          incident,
          stackName: deps.stackName ?? 'TokenRotation',
        }),
  );
}

/** A revoke lock that was not released: when it counts as stopped, and why it stuck. */
export function stuckLock(startedAt: Date, error: unknown): StuckLock {
  return {
    staleAt: new Date(startedAt.getTime() + REVOKE_STALE_MS).toISOString(),
    error: describeError(error),
  };
}

/**
 * The lock of a revoke could not be released: it stays `running` until REVOKE_STALE_MS after the
 * revoke started, refusing rotations of the secret until then, and a request queued behind it is
 * not run by this revoke. Audited here; returns what the revoke's alert says about it.
 */
export async function reportStuckLock(
  checked: CheckedRequest,
  deps: RevokeDeps,
  revokeId: string,
  startedAt: Date,
  error: unknown,
): Promise<StuckLock> {
  const stuck = stuckLock(startedAt, error);
  const message = `the revoke completed, but its lock was not released: ${stuck.error}. Rotations of this secret are refused until ${stuck.staleAt}, when the lock counts as stopped; a stronger request queued behind this revoke, if any, was not carried out by it: the next revoke of this secret takes the lock over and carries it out`;
  try {
    await deps.audit.append(
      checked.entry({
        event: 'revoke.failed',
        outcome: 'failed',
        error: message,
        detail: { ...checked.detail, revokeId, failedAt: 'release', revokeCompleted: 'true' },
      }),
    );
  } catch (auditError) {
    deps.log?.warn('revoke: could not audit the lock it could not release', {
      secretArn: checked.secret.arn,
      error: describeError(auditError),
    });
  }
  return stuck;
}

/**
 * A revoke that failed part-way: releases the lock, audits and alerts revoke.failed with what was
 * and was not revoked. Returns the error to throw and the request queued behind this revoke.
 */
export async function reportFailure(
  error: unknown,
  work: RevokeWork,
  checked: CheckedRequest,
  deps: RevokeDeps,
  key: string,
  startedAt: Date,
): Promise<{ failure: RevokeFailedError; queued: QueuedRevoke | undefined }> {
  const text = describeError(error, work.seen);
  // Released first, so the record and the alert say whether it was: a lock left running refuses
  // rotations until it goes stale, and a request queued behind it is not run by this revoke.
  let stuck: StuckLock | undefined;
  const queued = await deps.locks
    .finish(work.secret.arn, { revokeId: work.revokeId, requestKey: key }, 'failed', deps.clock())
    .catch((releaseError: unknown) => {
      stuck = stuckLock(startedAt, releaseError);
      return undefined;
    });
  // The labels as they are now, read back: what the alert and the record say about them, and
  // which tokens revoked by unstaging (`random`) lost their labels before the failure.
  const after = await stagesAfterFailure(deps.store, work.secret.arn, work.seen);
  if (after.read) await work.settleAfterFailure(after.versions);
  else {
    deps.log?.warn('revoke: could not read the labels after the failure', {
      secretArn: work.secret.arn,
      error: after.text,
    });
  }
  const notRevoked = work.notRevoked();
  const alert = alertOf('revoke.failed', {
    secret: { arn: work.secret.arn, name: work.secret.name },
    trigger: checked.request.trigger,
    stage: work.stage,
    error: text,
    requestKey: key,
    revoked: work.revoked,
    notRevoked,
    stackName: checked.stackName,
    ...(stuck ? { stuckLock: stuck } : {}),
    stagesAfter: asStagesAfter(after),
  });
  const stuckLines = stuckLockSteps(stuck, checked.stackName);
  const message = `${work.secret.name}: revoke: failed at ${work.stage}: ${text}. Revoked: ${describeVersions(work.revoked)}. Not revoked: ${describeVersions(notRevoked)}${stuckLines.length ? `. ${stuckLines.join(' ')}` : ''}`;
  try {
    await deps.audit.append(
      checked.entry({
        event: 'revoke.failed',
        outcome: 'failed',
        error: scrub(message, work.seen),
        versions: work.versionsByRole(),
        tokens: work.tokensByRole(),
        detail: {
          ...checked.detail,
          revokeId: work.revokeId,
          failedAt: work.stage,
          stagesAfter: after.text,
        },
      }),
    );
  } catch (auditError) {
    deps.log?.warn('revoke: could not audit the failure', {
      secretArn: work.secret.arn,
      error: describeError(auditError, work.seen),
    });
  }
  await safeAlert(deps, alert);
  return {
    failure: new RevokeFailedError(scrub(message, work.seen), work.revoked, notRevoked),
    queued,
  };
}
