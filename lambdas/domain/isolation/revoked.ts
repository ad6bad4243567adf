// Revokes in the token index: `revokedAt` on the item of a version whose token the suite proved
// revoked, so `token-rotation scan` reports the token revoked rather than "unknown" (SPEC "Leak
// scan"). The sweep tells it of `previous.revoked` (the fingerprint it remembered of the version);
// the emergency revoke of every token it revoked (the fingerprint of the token it read, under the
// key, else the one the sweep remembered; a token the index never saw is indexed then, revoked).

import { describeError } from '../errors.ts';
import { keyedFingerprint } from '../keyed-fingerprint.ts';
import type { Clock } from '../ports.ts';
import type { ActionContext } from '../sweep/context.ts';
import type { IndexMemory } from './index.ts';
import type { FingerprintKeySource } from './key.ts';
import type { RevokedTokens, TokenIndex } from './ports.ts';
import { environmentOf } from './ranks.ts';

type Warn = (message: string, extra?: Record<string, unknown>) => void;

/**
 * Records in the index that the issuer confirmed `versionId`'s token revoked (the sweep's
 * `previous.revoked`): its fingerprint is what the sweep remembered of the version, so no value
 * is read and no key is needed. Never throws.
 */
export async function markVersionRevoked(
  c: { deps: Pick<ActionContext['deps'], 'clock' | 'log'> },
  deps: { index: TokenIndex; memory?: IndexMemory },
  secret: { arn: string },
  versionId: string,
): Promise<boolean> {
  try {
    const known =
      deps.memory?.bySecret.get(secret.arn) ?? (await deps.index.indexedVersions(secret.arn));
    const fingerprint = known?.[versionId]?.fingerprint;
    if (!fingerprint) return false;
    return await deps.index.markRevoked(fingerprint, secret.arn, versionId, c.deps.clock());
  } catch (error) {
    warnOf(c.deps.log)(secret.arn, error);
    return false;
  }
}

const warnOf =
  (log: { warn: Warn } | undefined) =>
  (secretArn: string, error: unknown): void =>
    log?.warn('isolation: could not record a revoke in the token index', {
      secretArn,
      error: describeError(error),
    });

/**
 * The emergency revoke's side of the index. Cost per revoked version: one UpdateItem (two, plus
 * one more, when the index had no item for it); the key is read once per container.
 */
export function revokedTokens(deps: {
  index: TokenIndex;
  /** Absent, or unreadable: only versions the sweep indexed are marked. */
  key?: FingerprintKeySource;
  clock: Clock;
  log?: { warn: Warn };
}): RevokedTokens {
  const c = { deps: { clock: deps.clock, ...(deps.log && { log: deps.log }) } };
  return {
    async revoked(secret, versionId, token) {
      try {
        // A key that could not be read is read again: a revoke is rare, and worth indexing.
        deps.key?.retry();
        const key = token === undefined ? undefined : await deps.key?.get();
        if (token === undefined || !key || 'error' in key) {
          await markVersionRevoked(c, deps, secret, versionId);
          return;
        }
        const fingerprint = keyedFingerprint(key.key, token);
        const at = deps.clock();
        if (await deps.index.markRevoked(fingerprint, secret.arn, versionId, at)) return;
        // Never indexed (revoked before a sweep or a rotation indexed it): indexed now, revoked.
        const environment = environmentOf(secret);
        await deps.index.record(
          {
            fingerprint,
            secretArn: secret.arn,
            secretName: secret.name,
            versionId,
            stages: [],
            ...(environment !== undefined && { environment }),
          },
          at,
        );
        await deps.index.markRevoked(fingerprint, secret.arn, versionId, at);
      } catch (error) {
        warnOf(deps.log)(secret.arn, error);
      }
    },
  };
}
