// The quarantine notice: what a quarantined secret holds as AWSCURRENT instead of a token.
//
// A secret always has an AWSCURRENT version, so "no valid token" is a value: a multi-line JSON
// object `{"token-rotation": "quarantined", "message", "revokedAt", "revokeId", "restoreFrom",
// "restore"}` with no token field in it. Consumers fail closed: a JSON consumer finds no `token`
// (or `accessKeyId`) field, and a consumer that uses the bare value as a token cannot send it
// (line breaks are not allowed in HTTP header values) nor match it against anything a client can
// send. A person reading the secret sees why and what to do. To restore service, a person runs a
// revoke in mode `reissue` on the quarantined secret: the notice holds no token to revoke, and the
// fresh token is minted from the version named by `restoreFrom` (the last real AWSCURRENT,
// unlabelled but kept by Secrets Manager, its token already revoked) so the prefix and carried
// fields survive. A scheduled rotation does not restore service: it fails on the notice
// (rotation.failed) rather than quietly bring tokens back.

// The notice's version is also told by its ID, with no value read: a revoke puts the notice under
// a version ID starting `quarantine-`, and only a notice gets one. So whoever may describe a secret
// (the auditor's policy: DescribeSecret, never GetSecretValue) sees from the version AWSCURRENT is
// on whether the secret is quarantined now. A reissue moves AWSCURRENT to a new version and ends it.

const QUARANTINE_MARK = 'quarantined';
const QUARANTINE_VERSION_PREFIX = 'quarantine-';

/** The version ID a revoke puts its quarantine notice under, from a fresh unique ID (a UUID). */
export const quarantineVersionId = (unique: string) => `${QUARANTINE_VERSION_PREFIX}${unique}`;

/** Whether `versionId` is one a revoke put a quarantine notice under. */
export const isQuarantineVersionId = (versionId: string) =>
  versionId.startsWith(QUARANTINE_VERSION_PREFIX);

/** How a version holding the notice is named where a token's name would be. */
export const QUARANTINED = 'quarantine notice (no token)';

/** The quarantine notice a quarantined secret holds (see the module header), or undefined. */
export function readQuarantineNotice(
  value: string,
): { restoreFrom: string; revokeId?: string } | undefined {
  if (!value.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(value) as Record<string, unknown>;
    if (parsed?.['token-rotation'] !== QUARANTINE_MARK || typeof parsed.restoreFrom !== 'string') {
      return undefined;
    }
    return {
      restoreFrom: parsed.restoreFrom,
      ...(typeof parsed.revokeId === 'string' ? { revokeId: parsed.revokeId } : {}),
    };
  } catch {
    return undefined;
  }
}

export function quarantineNotice(options: {
  revokeId: string;
  at: Date;
  restoreFrom: string;
  stackName: string;
}): string {
  const runbook = `${options.stackName}-EmergencyRevoke`;
  return JSON.stringify(
    {
      'token-rotation': QUARANTINE_MARK,
      message:
        'Every token of this secret was revoked in an emergency and none is valid: it is quarantined until a person acts. See the tag token-rotation:last-revoked and the audit trail for who asked and why.',
      revokedAt: options.at.toISOString(),
      revokeId: options.revokeId,
      restoreFrom: options.restoreFrom,
      restore: `Run the Systems Manager runbook ${runbook} on this secret with Mode reissue: a fresh token is minted from version ${options.restoreFrom} (whose own token stays revoked).`,
    },
    null,
    2,
  );
}
