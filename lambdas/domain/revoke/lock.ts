// The lock: one revoke of a secret at a time, and each request once. A request is the same as one
// that completed when its key is: an event's ID (tag event, Health event), or, for forms (runbook,
// direct invoke), the mode and reason within REPEAT_WINDOW_MS (10 to 20 minutes: the time bucket
// and the one before it). A deliberate second revoke soon after the first gives another reason.
// A request stronger than the revoke running is queued on its lock and carried out after it.

import { randomUUID } from 'node:crypto';
import { revokeFailedIncident } from '../alerts/wording.ts';
import { describeError } from '../errors.ts';
import type { RevokeClaim, RevokeLock } from '../ports.ts';
import { reportUnstarted } from './failure.ts';
import {
  type CheckedRequest,
  formKeys,
  MODE_STRENGTH,
  REVOKE_STALE_MS,
  type RevokeDeps,
  RevokeFailedError,
  type RevokeMode,
  type RevokeOutcome,
} from './types.ts';

/** Claims of the lock when the revoke it found running finishes before the request is queued. */
const MAX_CLAIM_ATTEMPTS = 3;

/** The lock, claimed: this revoke's ID, its request key and when it started. */
export interface Claimed {
  status: 'claimed';
  revokeId: string;
  key: string;
  startedAt: Date;
}

/** The revoke that holds the lock (running, or completed with this request's key). */
type Held = RevokeLock;

/**
 * Claims the lock for this request, or says why it does nothing: a repeat of, or weaker than, the
 * revoke that ran or runs (`duplicate`), or queued behind a weaker one (`queued`). Throws a
 * RevokeFailedError (audited and alerted) when the lock cannot be claimed or the request queued.
 */
export async function claimLock(
  checked: CheckedRequest,
  deps: RevokeDeps,
): Promise<Claimed | Extract<RevokeOutcome, { status: 'duplicate' | 'queued' }>> {
  const { secret, request, mode, reason } = checked;
  const now = deps.clock();
  const revokeId = randomUUID();
  const [key, previousKey] = request.requestKey
    ? [request.requestKey, request.requestKey]
    : formKeys(mode, reason, now);
  const requester = `${request.trigger.source}${request.trigger.principal ? ` by ${request.trigger.principal}` : ''}`;
  for (let attempt = 1; ; attempt++) {
    let claim: RevokeClaim;
    try {
      claim = await deps.locks.claim(
        secret.arn,
        { revokeId, requestKey: key, mode, requester, startedAt: now.toISOString() },
        {
          sameRequestKeys: [key, previousKey],
          staleBefore: new Date(now.getTime() - REVOKE_STALE_MS),
        },
      );
    } catch (error) {
      // The claim may have gone through with its answer lost: release it if it is ours, so that
      // running the request again is not taken for a revoke still running.
      await deps.locks
        .finish(secret.arn, { revokeId, requestKey: key }, 'failed', deps.clock())
        .catch(() => undefined);
      throw await unstarted(
        checked,
        deps,
        `${secret.name}: revoke: failed at lock: ${describeError(error)}. Nothing was revoked or changed`,
        { revokeId, failedAt: 'lock' },
        key,
      );
    }
    if (claim.status === 'claimed') return { status: 'claimed', revokeId, key, startedAt: now };
    const by = claim.by;
    const stronger =
      by.state === 'running' && MODE_STRENGTH[mode] > (MODE_STRENGTH[by.mode as RevokeMode] ?? 0);
    if (!stronger) return joinRunning(checked, deps, by);
    const queued = await queueBehind(checked, deps, by, { revokeId, key, now });
    if (queued === 'not-running' && attempt < MAX_CLAIM_ATTEMPTS) continue;
    return queuedOutcome(checked, deps, by, queued);
  }
}

/** Audits and alerts a failure before any work began; returns the error to throw. */
async function unstarted(
  checked: CheckedRequest,
  deps: RevokeDeps,
  message: string,
  detail: Record<string, string>,
  key: string,
): Promise<RevokeFailedError> {
  const { secret, request } = checked;
  const failure = new RevokeFailedError(message, [], []);
  await reportUnstarted(
    deps,
    request,
    { arn: secret.arn, name: secret.name },
    failure,
    { ...checked.detail, ...detail },
    revokeFailedIncident(key, [], []),
  );
  return failure;
}

/** A repeat of a revoke that ran, or a request as weak as the one running: it does nothing. */
async function joinRunning(
  checked: CheckedRequest,
  deps: RevokeDeps,
  by: Held,
): Promise<Extract<RevokeOutcome, { status: 'duplicate' }>> {
  const { secret, mode } = checked;
  const message =
    by.state !== 'running'
      ? `this request is a repeat of revoke ${by.revokeId} (${by.mode}, ${by.requester}), completed at ${by.finishedAt ?? by.startedAt}; nothing was done again. To revoke again now, give another reason`
      : by.mode === mode
        ? `a revoke of this secret (${by.revokeId}, ${by.mode}, ${by.requester}) has been running since ${by.startedAt}; this request joins it and does nothing more`
        : `a stronger revoke of this secret (${by.revokeId}, ${by.mode}, ${by.requester}) has been running since ${by.startedAt}; it covers this ${mode} request, which does nothing more. To restore service after a quarantine, run a reissue once it has completed`;
  await deps.audit.append(
    checked.entry({
      event: 'revoke.requested',
      outcome: 'skipped',
      detail: { ...checked.detail, duplicateOf: by.revokeId, why: message },
    }),
  );
  return {
    status: 'duplicate',
    secretArn: secret.arn,
    secretName: secret.name,
    revokeId: by.revokeId,
    state: by.state,
    message,
  };
}

/** Queues a request stronger than the revoke running on its lock, carried out when it finishes. */
async function queueBehind(
  checked: CheckedRequest,
  deps: RevokeDeps,
  by: Held,
  own: { revokeId: string; key: string; now: Date },
): Promise<'queued' | 'not-running' | 'already-queued'> {
  const { secret, request, mode, reason } = checked;
  try {
    return await deps.locks.queue(secret.arn, by.revokeId, {
      mode,
      reason,
      trigger: request.trigger,
      requestKey: own.key,
      detail: request.detail ?? {},
      queuedAt: own.now.toISOString(),
    });
  } catch (error) {
    throw await unstarted(
      checked,
      deps,
      `${secret.name}: revoke: failed at queue (behind the ${by.mode} revoke ${by.revokeId} running now): ${describeError(error)}. This ${mode} request was not carried out: run it again once that revoke has completed`,
      { revokeId: own.revokeId, failedAt: 'queue', runningRevoke: by.revokeId },
      own.key,
    );
  }
}

/** Audits what became of a queued request; throws when the lock kept changing hands. */
async function queuedOutcome(
  checked: CheckedRequest,
  deps: RevokeDeps,
  by: Held,
  queued: 'queued' | 'not-running' | 'already-queued',
): Promise<Extract<RevokeOutcome, { status: 'queued' }>> {
  const { secret, mode } = checked;
  const message =
    queued === 'queued'
      ? `a ${by.mode} revoke of this secret (${by.revokeId}, ${by.requester}) has been running since ${by.startedAt}; this stronger ${mode} request is queued behind it and carried out as soon as it finishes`
      : queued === 'already-queued'
        ? `a ${by.mode} revoke of this secret (${by.revokeId}, ${by.requester}) is running with a ${mode} request already queued behind it; this request joins that one`
        : `the lock of this secret kept changing hands (${by.revokeId} last); this ${mode} request was not carried out: run it again`;
  await deps.audit.append(
    checked.entry({
      event: 'revoke.requested',
      outcome: queued === 'queued' ? 'queued' : 'skipped',
      detail: { ...checked.detail, queuedBehind: by.revokeId, why: message },
    }),
  );
  if (queued === 'not-running') {
    throw new RevokeFailedError(`${secret.name}: revoke: ${message}`, [], []);
  }
  return {
    status: 'queued',
    secretArn: secret.arn,
    secretName: secret.name,
    behind: by.revokeId,
    message,
  };
}
