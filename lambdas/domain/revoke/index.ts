// The emergency revoke (SPEC "Emergency revoke"): one code path behind the tag, the runbook, a
// direct invoke and AWS Health events. It revokes every live token of a secret at its issuer with
// no grace, then reissues a fresh token at once or quarantines the secret, audited and alerted.
//
// In steps, each its own module: the request is read and checked (request.ts); the lock makes one
// revoke of a secret run at a time and each request once (lock.ts); revoke.requested is audited;
// each live version (live-versions.ts) is revoked at its issuer (revoke-versions.ts); the new
// version, a fresh token or the quarantine notice (reissue.ts, quarantine-notice.ts), is promoted
// to AWSCURRENT with no other version left labelled (promote.ts), checked once more and repeated
// for anything a concurrent rotation staged meanwhile; then the revoke completes: the revoke tag
// removed, token-rotation:last-revoked set, revoke.completed audited, alerted (complete.ts). A
// failure anywhere is audited and alerted as revoke.failed with what was and was not revoked
// (failure.ts), and the request may be run again.

import { describeError } from '../errors.ts';
import type { QueuedRevoke } from '../ports.ts';
import { recordCompleted, releaseAndAlert } from './complete.ts';
import { reportFailure } from './failure.ts';
import { claimLock } from './lock.ts';
import { checkRequest } from './request.ts';
import { RevokeWork } from './revoke-versions.ts';
import type { RevokeDeps, RevokeOutcome, RevokeRequest } from './types.ts';

export { liveVersions, versionWith } from './live-versions.ts';
export {
  isQuarantineVersionId,
  quarantineNotice,
  readQuarantineNotice,
} from './quarantine-notice.ts';
export { type NewVersionPlan, planNewVersion, reissueOrQuarantine } from './reissue.ts';
export { cleanReason, knownValues, requestProblems } from './request.ts';
export {
  DEFAULT_REVOKE_MODE,
  MAX_REASON_LENGTH,
  MODE_STRENGTH,
  REPEAT_WINDOW_MS,
  REVOKE_MODES,
  REVOKE_STALE_MS,
  type RevokeDeps,
  type RevokedVersion,
  RevokeFailedError,
  type RevokeMode,
  type RevokeOutcome,
  type RevokeRequest,
  RevokeRequestError,
} from './types.ts';

/** Revokes every live token of one secret. See the module header. */
export async function revokeSecret(
  request: RevokeRequest,
  deps: RevokeDeps,
): Promise<RevokeOutcome> {
  const checked = await checkRequest(request, deps);
  if ('status' in checked) return checked;
  const claimed = await claimLock(checked, deps);
  if (claimed.status !== 'claimed') return claimed;
  const { secret, issuer, mode } = checked;
  const work = new RevokeWork(secret, issuer, deps, claimed.revokeId, mode, checked.stackName);
  for (const part of checked.known) work.seen.add(part);
  try {
    await deps.audit.append(
      checked.entry({
        event: 'revoke.requested',
        outcome: 'started',
        detail: { ...checked.detail, revokeId: claimed.revokeId },
      }),
    );
    await work.run();
    await recordCompleted(checked, deps, work);
  } catch (error) {
    const { failure, queued } = await reportFailure(
      error,
      work,
      checked,
      deps,
      claimed.key,
      claimed.startedAt,
    );
    // A stronger request queued behind this one is still carried out: it may well succeed.
    if (queued) await runQueued(queued, secret.arn, claimed.revokeId, deps);
    throw failure;
  }
  const { alert, queued } = await releaseAndAlert(checked, deps, work, claimed);
  return {
    status: 'completed',
    revokeId: claimed.revokeId,
    secretArn: secret.arn,
    secretName: secret.name,
    mode,
    revoked: work.revoked,
    newVersionId: work.newVersionId ?? '',
    alert,
    ...(queued ? { followedBy: await runQueued(queued, secret.arn, claimed.revokeId, deps) } : {}),
  };
}

/** Carries out a request queued behind revoke `behind` (already audited and alerted either way). */
async function runQueued(
  queued: QueuedRevoke,
  secretArn: string,
  behind: string,
  deps: RevokeDeps,
): Promise<RevokeOutcome | { status: 'failed'; message: string }> {
  try {
    return await revokeSecret(
      {
        secretId: secretArn,
        reason: queued.reason,
        mode: queued.mode,
        trigger: queued.trigger,
        requestKey: queued.requestKey,
        detail: { ...queued.detail, queuedBehind: behind, queuedAt: queued.queuedAt },
      },
      deps,
    );
  } catch (error) {
    return { status: 'failed', message: describeError(error) };
  }
}
