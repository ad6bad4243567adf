// What a person does next about a failed rotation, by the failure's reason.

import { kindChoices } from '#domain/kinds/registry';

// Secrets Manager refuses a new RotateSecret while this rotation's AWSPENDING sits on its version
// ("A previous rotation isn't complete"), so "rotate now" needs the label removed first.
const AFTER =
  'Once the cause is fixed, Secrets Manager retries this same rotation in the next rotation window. To rotate now instead, remove AWSPENDING from the failed version (aws secretsmanager update-secret-version-stage --secret-id <secret> --version-stage AWSPENDING --remove-from-version-id <version>), then choose "Rotate secret immediately".';

// Built on each call: the kinds' names come from the registry, which tests may change.
const stepsByReason = (): Record<string, string[]> => ({
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
    AFTER,
  ],
  'malformed-token': [
    'The pending token is not one this suite minted, or it was altered: check what else writes to this secret.',
    AFTER,
  ],
  'unknown-kind': [`Fix the secret's token-rotation:kind tag (${kindChoices()}).`, AFTER],
  'two-active-keys': [
    'The IAM user already has two active access keys, and the suite never deletes an active key. Usually the previous token is still in its grace period (a rotation was started early), or someone made a key outside token-rotation.',
    'Wait for grace to end (the sweep deactivates the previous key), or delete the key that is not in use in the IAM console; then rotate again.',
  ],
  'key-refused': [
    'STS did not accept the new access key. The sweep and Secrets Manager retry; if this repeats, check in the IAM console that the key named here exists and is active.',
    AFTER,
  ],
  'user-not-bound': [
    "No access key was created: the IAM user named in the secret's value is not bound to this secret. If the secret should hold that user's keys, tag the user token-rotation:secret with the secret's ARN (with or without its 6-character suffix), then rotate again.",
    "If it should not, someone may be trying to obtain another user's keys through this secret: check in CloudTrail who wrote its value (PutSecretValue, UpdateSecret).",
    AFTER,
  ],
  'wrong-identity': [
    "The new access key belongs to another IAM user than the secret's userName: check the secret's value and what else writes to it.",
    AFTER,
  ],
  'issuer-timeout': [
    "The custom issuer function did not answer in time: check its logs and the third party's status. Keep the function's own timeout under 30 seconds.",
    AFTER,
  ],
  'issuer-failed': ['The custom issuer function failed: its logs (CloudWatch) say why.', AFTER],
  'issuer-refused': [
    'The custom issuer function refused the request: the reason above comes from it (or from the third party behind it).',
    AFTER,
  ],
  'issuer-response': [
    'The custom issuer function answered something other than the token-rotation.issuer/v1 contract: see docs/custom-issuers.md.',
    AFTER,
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
    AFTER,
  ],
});

export function nextSteps(reason: string): string[] {
  return (
    stepsByReason()[reason] ?? [
      "Check the rotation function's logs for this version ID, and the secret's history in the audit trail.",
      AFTER,
    ]
  );
}
