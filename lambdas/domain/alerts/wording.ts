// The wording the alert catalog shares between entries: token and version lists, the lines
// about a stuck revoke lock, the incidents of failures, and the next steps by failure reason.

import { kindChoices } from '../kinds/registry.ts';
import type { RevokedVersion } from '../revoke/types.ts';
import { MAX_REASON_LENGTH, REVOKE_MODES } from '../revoke/types.ts';
import { type FailureReason, type Step, TAG } from '../vocabulary.ts';
import type { StagesAfter, StuckLock } from './fields.ts';

/** Access key IDs named in one record or alert; the rest are counted. */
export const MAX_LISTED_KEYS = 20;

export const listKeys = (keys: string[]) =>
  keys.length <= MAX_LISTED_KEYS
    ? keys.join(', ')
    : `${keys.slice(0, MAX_LISTED_KEYS).join(', ')} and ${keys.length - MAX_LISTED_KEYS} more`;

export function describeVersions(versions: RevokedVersion[]): string {
  if (versions.length === 0) return 'no version';
  return versions
    .map(
      (v) =>
        `version ${v.versionId}${v.stages.length ? ` (${v.stages.join(', ')})` : ''}: ${v.token}`,
    )
    .join('; ');
}

/** The line a failure alert adds about the labels as read back after it (none: not read). */
export function stagesAfterSteps(after: StagesAfter | undefined): string[] {
  if (!after) return [];
  return after.read
    ? [`Stages read after the failure: ${after.text}.`]
    : [
        `After the failure the ${after.text}: check in the console which version is AWSCURRENT before acting.`,
      ];
}

/** The lines an alert adds about a revoke lock left running. */
export function stuckLockSteps(stuck: StuckLock | undefined, stackName: string): string[] {
  if (!stuck) return [];
  return [
    `The revoke lock of this secret was not released (${stuck.error}): rotations are refused until ${stuck.staleAt}.`,
    `If a stronger request (quarantine) was queued behind this revoke, it was not carried out: run the ${stackName}-EmergencyRevoke runbook on this secret in that mode now.`,
  ];
}

/**
 * An incident is what a person must know to act: which request failed and which tokens it left
 * revoked and not revoked. Retries of one request that end the same way are one incident (one
 * e-mail); a retry that leaves different lists is another, so the e-mail naming what is still
 * live is sent rather than swallowed as a duplicate of an earlier, now wrong one.
 */
export function revokeFailedIncident(
  key: string,
  revoked: RevokedVersion[],
  notRevoked: RevokedVersion[],
): string {
  const ids = (versions: RevokedVersion[]) => versions.map((v) => v.versionId).join(',');
  return `failed:${key}:revoked=${ids(revoked)}:not-revoked=${ids(notRevoked)}`;
}

/**
 * An incident is what a person must know to act: which rotation (its version ID, the same across
 * Secrets Manager's retries), the step that failed and where AWSCURRENT stands afterwards. Retries
 * of one failure at one step are one incident (one e-mail); a later failure that leaves the live
 * token somewhere else (finishSecret failing after AWSCURRENT moved to the new token, where an
 * earlier testSecret failure left it unchanged) is another, and its e-mail is sent.
 */
export function rotationFailedIncident(versionId: string, step: Step, after: StagesAfter): string {
  const live = !after.read
    ? 'unknown'
    : after.current === versionId
      ? 'moved'
      : after.current
        ? `unchanged:${after.current}`
        : 'none';
  return `${versionId}:${step}:current-${live}`;
}

export function liveToken(after: StagesAfter, rotationVersion: string): string {
  if (!after.read) {
    return 'The staging labels could not be read after the failure: check in the console which version is AWSCURRENT before acting.';
  }
  if (after.current === rotationVersion) {
    return `AWSCURRENT already moved to this rotation's new token (version ${rotationVersion}): consumers now get it, and the previous token keeps working through its grace.`;
  }
  if (after.current) {
    return `The live token (AWSCURRENT) is unchanged on version ${after.current} and keeps working: consumers are not affected.`;
  }
  return 'No version is AWSCURRENT: consumers cannot read a live token. Put AWSCURRENT back on the last good version in the console.';
}

// Secrets Manager refuses a new RotateSecret while this rotation's AWSPENDING sits on its version
// ("A previous rotation isn't complete"), so "rotate now" needs the label removed first. The
// command names this secret and version, so the reader can run it as it stands; a value not of
// the shape Secrets Manager gives it (so not safe in a shell line) is left as a placeholder.
const SHELL_SAFE_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

/** What to do once the cause of a failed rotation is fixed: wait for the window, or rotate now. */
export function afterFixSteps(secretName: string, versionId: string): string[] {
  const secret = SHELL_SAFE_NAME.test(secretName) ? secretName : '<secret>';
  const version = VERSION_ID.test(versionId) ? versionId : '<version>';
  return [
    'Once the cause is fixed, Secrets Manager retries this same rotation in the next rotation window. To rotate now instead, remove AWSPENDING from the failed version with the command below, then choose "Rotate secret immediately".',
    `aws secretsmanager update-secret-version-stage --secret-id ${secret} --version-stage AWSPENDING --remove-from-version-id ${version}`,
  ];
}

/** What to do about a failed rotation step, by its reason. Built on each call: the kinds' names
 * come from the registry, which tests may change. */
const rotationFailedStepsByReason = (
  after: string[],
): Partial<Record<FailureReason, string[]>> => ({
  'rotation-disabled': [
    'Rotation is turned off on this secret. If that was not intended, check its token-rotation:lifespan tag; the next sweep attaches rotation again.',
  ],
  'unknown-version': [
    "Open the secret's versions in the console: the version named here no longer exists. A newer rotation may have replaced it.",
  ],
  'not-pending': [
    "Open the secret's versions in the console: AWSPENDING is not on the version named here. Another rotation may have started; if AWSPENDING is stuck on an old version, remove that label.",
  ],
  'malformed-value': [
    "Fix the secret's value in the console: the error says what its kind expects and what was found.",
    ...after,
  ],
  'malformed-token': [
    'The pending token is not one this suite minted, or it was altered: check what else writes to this secret.',
    ...after,
  ],
  'unknown-kind': [`Fix the secret's token-rotation:kind tag (${kindChoices()}).`, ...after],
  'two-active-keys': [
    'The IAM user already has two active access keys, and the suite never deletes an active key. Usually the previous token is still in its grace period (a rotation was started early), or someone made a key outside token-rotation.',
    'Wait for grace to end (the sweep deactivates the previous key), or delete the key that is not in use in the IAM console; then rotate again.',
  ],
  'key-refused': [
    'STS did not accept the new access key. The sweep and Secrets Manager retry; if this repeats, check in the IAM console that the key named here exists and is active.',
    ...after,
  ],
  'user-not-bound': [
    "No access key was created: the IAM user named in the secret's value is not bound to this secret. If the secret should hold that user's keys, tag the user token-rotation:secret with the secret's ARN (with or without its 6-character suffix), then rotate again.",
    "If it should not, someone may be trying to obtain another user's keys through this secret: check in CloudTrail who wrote its value (PutSecretValue, UpdateSecret).",
    ...after,
  ],
  'wrong-identity': [
    "The new access key belongs to another IAM user than the secret's userName: check the secret's value and what else writes to it.",
    ...after,
  ],
  'issuer-timeout': [
    "The custom issuer function did not answer in time: check its logs and the third party's status. Keep the function's own timeout under 30 seconds.",
    ...after,
  ],
  'issuer-failed': ['The custom issuer function failed: its logs (CloudWatch) say why.', ...after],
  'issuer-refused': [
    'The custom issuer function refused the request: the reason above comes from it (or from the third party behind it).',
    ...after,
  ],
  'issuer-response': [
    'The custom issuer function answered something other than the token-rotation.issuer/v1 contract: see docs/custom-issuers.md.',
    ...after,
  ],
  'revoke-in-progress': [
    'An emergency revoke of this secret ran or is running: it replaces the tokens itself, and this rotation stopped so as not to undo it.',
    "Nothing to do for this rotation: the revoke's own alert says what was revoked and what is AWSCURRENT now. If AWSPENDING is left on the version named here, remove that label (the revoke normally does).",
  ],
  'revoke-stalled': [
    'An emergency revoke of this secret stopped without finishing, and the stronger request queued behind it (named above) was never carried out.',
    "Run the EmergencyRevoke runbook on this secret (in the mode named above, or any mode): it takes the stopped revoke's lock over and carries out the queued request; rotation resumes once it has.",
  ],
  'token-not-revoked': [
    'An emergency revoke of this secret ran while this rotation made a new token, and revoking that token (named above) at the issuer failed: it is still live.',
    'Revoke it at the issuer by hand, or run the EmergencyRevoke runbook on this secret again once the issuer answers. Where AWSPENDING is still on the version named here, leave it until then: it is how the revoke and the sweep find the token.',
  ],
  quarantined: [
    'The secret is quarantined by an emergency revoke: rotation does not bring tokens back.',
    'Once the leak is dealt with, a person restores service with a revoke in mode reissue (the EmergencyRevoke runbook).',
  ],
  'audit-unavailable': [
    'The audit trail could not be written, so the step was stopped: check the audit table exists and the rotation function may write to it (its logs name the error).',
    ...after,
  ],
});

/** What to do about a failed rotation of `secretName` at `versionId`, by its reason. */
export function rotationFailedSteps(
  reason: string,
  secretName: string,
  versionId: string,
): string[] {
  const after = afterFixSteps(secretName, versionId);
  return (
    rotationFailedStepsByReason(after)[reason as FailureReason] ?? [
      "Check the rotation function's logs for this version ID, and the secret's history in the audit trail.",
      ...after,
    ]
  );
}

export function refusalSteps(code: string, stackName: string): string[] {
  switch (code) {
    case 'not-opted-in':
      return [
        `token-rotation does not manage this secret: add the tag ${TAG.lifespan} to opt it in, or revoke the token at its issuer by hand.`,
      ];
    case 'invalid-request':
      return [
        `Run the revoke again with a reason of 1 to ${MAX_REASON_LENGTH} characters and Mode ${REVOKE_MODES.join(' or ')} (runbook ${stackName}-EmergencyRevoke).`,
      ];
    case 'quarantined':
      return [
        `If you meant to restore service, run the ${stackName}-EmergencyRevoke runbook on this secret with Mode reissue.`,
      ];
    case 'unknown-kind':
      return [
        `Fix the tag ${TAG.kind} (random, iam-access-key or lambda:<function>), then revoke again.`,
      ];
    default:
      return ['Check the secret in the Secrets Manager console.'];
  }
}
