// Complete: once every live token is revoked and the new version promoted, the revoke tag comes
// off, token-rotation:last-revoked is set, revoke.completed is audited, the lock is released and
// the critical alert sent.

import { alertOf } from '../alerts/catalog.ts';
import type { StuckLock } from '../alerts/fields.ts';
import type { AlertOutcome, QueuedRevoke } from '../ports.ts';
import { TAG } from '../vocabulary.ts';
import { reportStuckLock, safeAlert } from './failure.ts';
import type { Claimed } from './lock.ts';
import type { RevokeWork } from './revoke-versions.ts';
import type { CheckedRequest, RevokeDeps } from './types.ts';

/** Takes the revoke tag off, sets last-revoked and audits revoke.completed. Throws on failure. */
export async function recordCompleted(
  checked: CheckedRequest,
  deps: RevokeDeps,
  work: RevokeWork,
): Promise<void> {
  const { secret } = checked;
  // Two calls, each touching only the suite's own tags: the tag-event path ignores both.
  work.stage = 'tag';
  if (secret.tags[TAG.revoke] !== undefined) await deps.catalog.untag(secret.arn, [TAG.revoke]);
  await deps.catalog.tag(secret.arn, { [TAG.lastRevoked]: deps.clock().toISOString() });
  work.stage = 'audit';
  await deps.audit.append(
    checked.entry({
      event: 'revoke.completed',
      outcome: 'succeeded',
      versions: work.versionsByRole(),
      tokens: work.tokensByRole(),
      detail: {
        ...checked.detail,
        revokeId: work.revokeId,
        revokedVersions: work.revoked.length,
      },
    }),
  );
}

/**
 * Releases the lock and sends the revoke.completed alert (saying so when the lock stuck). Returns
 * the alert's outcome and the request queued behind this revoke, to be carried out now.
 */
export async function releaseAndAlert(
  checked: CheckedRequest,
  deps: RevokeDeps,
  work: RevokeWork,
  claimed: Claimed,
): Promise<{ alert: AlertOutcome | 'failed'; queued: QueuedRevoke | undefined }> {
  const { secret, mode } = checked;
  let stuck: StuckLock | undefined;
  const queued = await deps.locks
    .finish(
      secret.arn,
      { revokeId: claimed.revokeId, requestKey: claimed.key },
      'completed',
      deps.clock(),
    )
    .catch(async (error: unknown) => {
      stuck = await reportStuckLock(checked, deps, claimed.revokeId, claimed.startedAt, error);
      return undefined;
    });
  const alert = await safeAlert(
    deps,
    alertOf('revoke.completed', {
      secret: { arn: secret.arn, name: secret.name },
      trigger: checked.request.trigger,
      revokeId: claimed.revokeId,
      mode,
      ...(work.newVersionId ? { newVersionId: work.newVersionId } : {}),
      reasonGiven: checked.reason,
      revoked: work.revoked,
      stackName: checked.stackName,
      ...(stuck ? { stuckLock: stuck } : {}),
    }),
  );
  return { alert, queued };
}
