// Which versions of a secret hold (or may hold) a live token: the ones an emergency revoke must
// revoke at the issuer, and must leave unlabelled before it counts the secret as done.

import type { SecretDescription } from '../ports.ts';
import { revokeAfterTime } from '../sweep/labels.ts';
import { STAGE } from '../vocabulary.ts';

export const LIVE_STAGES = [STAGE.current, STAGE.previous, STAGE.pending] as const;

/** A revoke-after label: the token of its version still works at the issuer until the sweep revokes it. */
export const isRevokeAfter = (stage: string) => revokeAfterTime(stage) !== undefined;

/**
 * Whether a version with these labels holds (or may hold) a live token. A version pushed off
 * AWSPREVIOUS before its grace ended keeps only a revoke-after label, yet its token is as valid at
 * the issuer as AWSPREVIOUS's: an emergency revoke that left it would leave a working token of a
 * leaked secret for the rest of its grace, so it is live here, revoked with no grace and unlabelled.
 * A delete-after label is not: its token is already deactivated, and the sweep deletes it later.
 */
export function isLive(stages: readonly string[]): boolean {
  return stages.some((s) => (LIVE_STAGES as readonly string[]).includes(s) || isRevokeAfter(s));
}

/** The version carrying `stage`, if any. */
export const versionWith = (secret: Pick<SecretDescription, 'versions'>, stage: string) =>
  Object.entries(secret.versions).find(([, stages]) => stages.includes(stage))?.[0];

/** Labelled versions that hold (or may hold) a live token, except `except` (the new version). */
export function liveVersions(
  secret: Pick<SecretDescription, 'versions'>,
  except: string | undefined,
): { versionId: string; stages: string[] }[] {
  return Object.entries(secret.versions)
    .filter(([id, stages]) => id !== except && isLive(stages))
    .map(([versionId, stages]) => ({ versionId, stages: [...stages] }));
}
