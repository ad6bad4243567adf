// The token a rotation mints goes into the token index at mint (SPEC "Environment isolation":
// every token the suite sees, minted included), at no call of its own: its item rides in
// createSecret's audit write (one TransactWriteItems, #adapters/dynamodb-audit-log), and the
// fingerprint key is read with AWSCURRENT in one BatchGetSecretValue the first time a container
// needs it, then kept in memory. So a rotation's calls stay 8 Secrets Manager and 14 in all.

import type { AuditAlongside } from '#domain/isolation/ports';
import { environmentOf } from '#domain/isolation/ranks';
import { keyedFingerprint } from '#domain/keyed-fingerprint';
import type { Issuer, SecretDescription } from '#domain/ports';
import { STAGE } from '#domain/vocabulary';
import type { RotationDeps } from './types.ts';

/**
 * AWSCURRENT read together with the fingerprint key when this container does not hold the key
 * yet; undefined when it does, or when the batch did not bring AWSCURRENT (then it is read alone,
 * as without an index, and fails as it always did). A batch that fails (not allowed, not served)
 * is not tried again in this container: the rotation's tokens are then indexed by the sweep.
 */
export async function currentWithKey(
  deps: RotationDeps,
  secretArn: string,
): Promise<string | undefined> {
  const index = deps.tokenIndex;
  if (!index?.currentValues || index.key.known || index.batchFailed) return undefined;
  try {
    const values = await index.currentValues([secretArn, index.keySecretArn]);
    const key = values.get(index.keySecretArn);
    if (key !== undefined) index.key.seed(key);
    return values.get(secretArn);
  } catch {
    index.batchFailed = true;
    return undefined;
  }
}

/**
 * The index item of `value`'s token, as `versionId` of `secret` holds it (AWSPENDING, until the
 * sweep sees it promoted): only when the key is in memory, so it costs no call. Its keyed
 * fingerprint only; undefined when the kind names no token in the value.
 */
export async function mintedToken(
  deps: RotationDeps,
  secret: SecretDescription,
  issuer: Issuer,
  versionId: string,
  value: string,
): Promise<AuditAlongside['tokenSeen']> {
  if (!deps.tokenIndex?.key.known) return undefined;
  const key = await deps.tokenIndex.key.get();
  const token = issuer.secretToken?.(value);
  if (!('key' in key) || token === undefined) return undefined;
  const environment = environmentOf(secret);
  return {
    fingerprint: keyedFingerprint(key.key, token),
    secretArn: secret.arn,
    secretName: secret.name,
    versionId,
    stages: [STAGE.pending],
    ...(environment !== undefined && { environment }),
  };
}
