// Which versions of a secret hold (or may hold) a live token: the ones an emergency revoke must
// revoke at the issuer, and must leave unlabelled before it counts the secret as done.

import type { SecretDescription } from '../ports.ts';
import { STAGE } from '../vocabulary.ts';

export const LIVE_STAGES = [STAGE.current, STAGE.previous, STAGE.pending] as const;

/** Whether a version with these labels holds (or may hold) a live token. */
export function isLive(stages: readonly string[]): boolean {
  return stages.some((s) => (LIVE_STAGES as readonly string[]).includes(s));
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
