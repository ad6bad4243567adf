// The product's one vocabulary (SPEC.md): tag keys, staging labels, rotation steps,
// audit event types and alert severities. Every module speaks these words and no others.

export const TAG = {
  lifespan: 'token-rotation:lifespan',
  kind: 'token-rotation:kind',
  grace: 'token-rotation:grace',
  revoke: 'token-rotation:revoke',
  scopes: 'token-rotation:scopes',
  environment: 'token-rotation:environment',
  isolation: 'token-rotation:isolation',
  lastRevoked: 'token-rotation:last-revoked',
} as const;

/** Tag keys prefixed with this are the suite's; users set only the ones in SPEC "Policy tags". */
export const TAG_PREFIX = 'token-rotation:';

export const STAGE = {
  current: 'AWSCURRENT',
  pending: 'AWSPENDING',
  previous: 'AWSPREVIOUS',
} as const;

/**
 * Custom staging label on a deactivated token's version (kinds with a two-stage revoke, e.g.
 * `iam-access-key`), followed by the ISO time after which the sweep deletes it at the issuer:
 * `token-rotation:delete-after:2025-03-08T10:00:00Z`. The sweep finds it in ListSecrets'
 * version stages, so no other secret costs a call.
 */
export const DELETE_AFTER_LABEL_PREFIX = 'token-rotation:delete-after:';

/**
 * Custom staging label on a version whose token is still live at its issuer but has lost
 * AWSPREVIOUS to a newer rotation before its grace ended, followed by the ISO time its grace
 * ends: `token-rotation:revoke-after:2025-03-08T10:00:00Z`. The sweep revokes it then, like an
 * AWSPREVIOUS past grace, and an emergency revoke treats it as a live token.
 */
export const REVOKE_AFTER_LABEL_PREFIX = 'token-rotation:revoke-after:';

/**
 * Custom staging label on an AWSPREVIOUS version whose grace was extended, once, because its
 * issuer saw the token used after the rotation (consumers had not switched), followed by the ISO
 * time the extension ends: `token-rotation:grace-extended:2025-03-08T10:00:00Z`. At that time the
 * sweep revokes the token whether or not it is still used.
 */
/**
 * Custom staging label on a version whose new token testSecret refused as broader than its
 * secret's declared scopes (`token.scope-drift`): every later attempt of that rotation stops at
 * once, with the same incident, instead of running the steps again on a revoked token.
 */
export const SCOPE_REFUSED_LABEL = 'token-rotation:scope-refused';

export const GRACE_EXTENDED_LABEL_PREFIX = 'token-rotation:grace-extended:';

export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type Step = (typeof STEPS)[number];

/** Audit event types. Each rotation step records its outcome (`step.succeeded` or `rotation.failed`). */
export const AUDIT_EVENTS = [
  /** No longer written (a step records only its outcome); kept so older trails still read and filter. */
  'step.started',
  'step.succeeded',
  'rotation.failed',
  'rotation.stuck',
  'rotation.attached',
  'rotation.detached',
  'rotation.updated',
  'rotation.requested',
  'lifespan.overdue',
  'policy.invalid',
  'previous.revoked',
  'previous.revoke.failed',
  /** After grace, a previous version was left alone because the live value holds its token. */
  'previous.revoke.skipped',
  'previous.deleted',
  /** After grace, the issuer saw the previous token used since the rotation: grace extended once, or (at the bound) revoked anyway. */
  'previous.still-used',
  'revoke.requested',
  'revoke.completed',
  'revoke.failed',
  'revoke.ignored',
  /** The sweep found a revoke tag and queued its revoke on the revoke function (no alert: the revoke alerts). */
  'revoke.handed-over',
  'secretsmanager.rotation.failed',
  'secretsmanager.rotation.abandoned',
  /** A checkpoint found a chain shorter than the checkpoint before it recorded: records were cut. */
  'audit.chain-regressed',
  /** One token (one keyed fingerprint) is held by two secrets (SPEC "Environment isolation"). */
  'token.shared',
  /** The fingerprint key could not be read: tokens go unindexed until it can (isolation is detective). */
  'token.index.failed',
  /** A token broader than its declared scopes: a new one refused at testSecret, or a live one found by the sweep. */
  'token.scope-drift',
  /** The sweep read a live token's actual scopes and found them within the declared ones. */
  'token.scopes-checked',
] as const;
export type AuditEventType = (typeof AUDIT_EVENTS)[number];

/**
 * Why a rotation step, a revoke or a request failed or was refused: the stable, machine-readable
 * `reason` of a RotationError, written to the audit record's `reason` (or `refused`) detail and
 * chosen on by the alert's next steps. Adding a reason is a line here (and its next steps in
 * the alert catalog); renaming one breaks audit queries.
 */
export const FAILURE_REASONS = [
  // The request or event
  'invalid',
  'invalid-event',
  'invalid-request',
  'not-found',
  'deleted',
  'not-opted-in',
  // The rotation protocol
  'rotation-disabled',
  'unknown-version',
  'not-pending',
  // The secret's value and policy
  'malformed-value',
  'malformed-token',
  'binary-value',
  'no-value',
  'unknown-kind',
  'kind-not-configured',
  // IAM access keys
  'two-active-keys',
  'key-refused',
  'key-missing',
  'key-of-another-user',
  'user-not-bound',
  'wrong-identity',
  // Custom issuers
  'issuer-timeout',
  'issuer-failed',
  'issuer-refused',
  'issuer-response',
  // Scopes
  /** The new token can do more than the secret's token-rotation:scopes declares: refused. */
  'scope-drift',
  /** The secret declares scopes and the issuer did not say what the new token can do. */
  'scopes-unknown',
  // Emergency revokes
  'revoke-in-progress',
  'revoke-stalled',
  'token-not-revoked',
  'quarantined',
  // The suite itself
  'audit-unavailable',
  /** Anything not one of the above (an unexpected error). */
  'error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Why the sweep asked Secrets Manager to rotate now (`rotation.requested` detail `reason`). */
export const ROTATION_REQUEST_REASONS = [
  'lifespan.overdue',
  'lifespan-floor',
  'token.shared',
] as const;
export type RotationRequestReason = (typeof ROTATION_REQUEST_REASONS)[number];

export type Outcome = 'started' | 'succeeded' | 'failed' | 'skipped' | 'reported' | 'queued';

export type Severity = 'critical' | 'high' | 'warning' | 'info';

/** Events that page a person, and how loudly. */
export const ALERT_SEVERITY: Partial<Record<AuditEventType, Severity>> = {
  'rotation.failed': 'high',
  'rotation.stuck': 'warning',
  'lifespan.overdue': 'warning',
  'policy.invalid': 'warning',
  'revoke.completed': 'critical',
  'revoke.failed': 'critical',
  'previous.revoke.failed': 'high',
  'previous.revoke.skipped': 'warning',
  'previous.still-used': 'high',
  'secretsmanager.rotation.failed': 'high',
  'secretsmanager.rotation.abandoned': 'high',
  'audit.chain-regressed': 'critical',
  // Critical when the two secrets' environments differ (the alert catalog says which).
  'token.shared': 'high',
  'token.index.failed': 'warning',
};

/** Who or what caused an event (SPEC "Audit trail": schedule, tag change by X, console, Secrets Manager). */
export interface Trigger {
  source:
    | 'secretsmanager'
    | 'schedule'
    | 'tag'
    | 'console'
    | 'runbook'
    | 'health'
    | 'cli'
    | 'event';
  /** The principal that acted, where one is known (a CloudTrail userIdentity ARN, the invoker). */
  principal?: string;
}
