// Promote: the new version becomes AWSCURRENT and no other version keeps a live label (AWSPREVIOUS,
// AWSPENDING, a revoke-after label), so that no staged version holds a revoked token (for `random`,
// that is what revoked means) and the sweep has no revoke left to do on a token already revoked.

import { describeError, errorCode } from '../errors.ts';
import type { SecretDescription } from '../ports.ts';
import { graceExtendedTime } from '../sweep/labels.ts';
import { STAGE } from '../vocabulary.ts';
import { isRevokeAfter, versionWith } from './live-versions.ts';
import type { RevokeDeps } from './types.ts';

/** Attempts at one set of label moves when another writer (a rotation) moves labels meanwhile. */
const MAX_LABEL_ATTEMPTS = 5;

/**
 * UpdateSecretVersionStage refused a move because the label was no longer on the version we named:
 * someone (a rotation's finishSecret, Secrets Manager ending a rotation) moved it since we read.
 */
const isStageConflict = (error: unknown) => errorCode(error) === 'stage-conflict';

/**
 * AWSCURRENT to `target`; AWSPREVIOUS, AWSPENDING and revoke-after labels off every other version. Each move names the
 * version it takes the label from, so a rotation that moved a label meanwhile makes it fail (a
 * stage conflict) rather than be undone blindly: then the labels are read afresh and the moves
 * retried. AWSPENDING comes off first, so a rotation's finishSecret that read the labels before
 * it still names the old AWSCURRENT and fails once ours has moved. Returns the labels as read
 * after the last move.
 */
export async function promote(
  arn: string,
  target: string,
  deps: Pick<RevokeDeps, 'store' | 'log'>,
  seen: Iterable<string>,
): Promise<SecretDescription> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await moveLabelsOnce(arn, target, deps);
    } catch (error) {
      if (!isStageConflict(error) || attempt >= MAX_LABEL_ATTEMPTS) throw error;
      deps.log?.warn('revoke: a label moved under us; reading the labels again', {
        secretArn: arn,
        attempt,
        error: describeError(error, seen),
      });
    }
  }
}

async function moveLabelsOnce(
  arn: string,
  target: string,
  { store }: Pick<RevokeDeps, 'store'>,
): Promise<SecretDescription> {
  const now = await store.describe(arn);
  const pending = versionWith(now, STAGE.pending);
  if (pending !== undefined && pending !== target) {
    await store.moveStage(arn, STAGE.pending, undefined, pending);
  }
  const current = versionWith(now, STAGE.current);
  if (current !== target) await store.moveStage(arn, STAGE.current, target, current);
  // Moving AWSCURRENT hands AWSPREVIOUS to the version it left: read where it is now.
  const after = current !== target ? await store.describe(arn) : now;
  const previous = versionWith(after, STAGE.previous);
  if (previous !== undefined) await store.moveStage(arn, STAGE.previous, undefined, previous);
  // The new version keeps no AWSPENDING (it was only the way in).
  if (versionWith(after, STAGE.pending) === target) {
    await store.moveStage(arn, STAGE.pending, undefined, target);
  }
  for (const [versionId, stages] of Object.entries(after.versions)) {
    if (versionId === target) continue;
    // A revoked token's version keeps no timed label: revoke-after, nor a grace extension.
    for (const label of stages.filter((s) => isRevokeAfter(s) || graceExtendedTime(s))) {
      await store.moveStage(arn, label, undefined, versionId);
    }
  }
  return await store.describe(arn);
}
