// Every alert the suite sends, declared once: its event, severity, what makes two of them one
// incident, and the words a person reads (summary, why, next steps), as a function of typed
// fields. Code raises an alert by name, `alertOf('revoke.completed', {...})`, and gets the
// `Alert` the ports take; the e-mail's subject, body and attributes come from format.ts, the same
// for every alert, from the event, severity and secret declared here.

import { scrub } from '../errors.ts';
import type { Alert } from '../ports.ts';
import type { RevokedVersion, RevokeMode } from '../revoke.ts';
import { MAX_REASON_LENGTH, REVOKE_MODES } from '../revoke.ts';
import {
  type AuditEventType,
  type FailureReason,
  type Severity,
  type Step,
  TAG,
  type Trigger,
} from '../vocabulary.ts';

/** The secret an alert is about. */
export interface SecretRef {
  arn: string;
  name: string;
}

interface About {
  secret: SecretRef;
  trigger?: Trigger;
}

/**
 * Where the staging labels stand after a failed rotation step, as read then: `current` is the
 * version AWSCURRENT is on (absent: none), `text` the labels as a person reads them.
 */
export type StagesAfter =
  | { read: true; current?: string; text: string }
  | { read: false; text: string };

/** A revoke lock that could not be released: when it goes stale, and why it stuck. */
export interface StuckLock {
  staleAt: string;
  /** The scrubbed error of the release. */
  error: string;
}

/** The typed fields of each alert, by name. */
export interface AlertFields {
  'rotation.failed': About & {
    versionId: string;
    step: Step;
    /** The scrubbed error. */
    error: string;
    reason: FailureReason | (string & {});
    stagesAfter: StagesAfter;
  };
  'rotation.stuck': About & { versionId: string; pendingFor: string };
  'lifespan.overdue': About & {
    versionId: string;
    age: string;
    lifespan: string;
    /** Whether the sweep started a rotation now (else one is stuck). */
    rotateNow: boolean;
  };
  'policy.invalid': About & {
    /** Identifies the tags as they are: a change is a new incident. */
    fingerprint: string;
    problems: string[];
  };
  'previous.revoke.failed': About & {
    versionId: string;
    /** `revoke`: after grace; `delete`: the second stage of a two-stage revoke. */
    stage: 'revoke' | 'delete';
    error: string;
  };
  'previous.revoke.skipped': About & {
    versionId: string;
    /** How the previous and the live token were found to be the same (`whole value`, a field). */
    by: string;
  };
  'revoke.completed': About & {
    revokeId: string;
    mode: RevokeMode;
    newVersionId?: string;
    /** The reason the requester gave. */
    reasonGiven: string;
    revoked: RevokedVersion[];
    stackName: string;
    stuckLock?: StuckLock;
  };
  'revoke.refused': About & {
    /** The refusal's code (`deleted`, `not-opted-in`, `invalid-request`, `quarantined`, ...). */
    code: string;
    message: string;
    /** Identifies the request: retries of one refused request are one incident. */
    requestKey: string;
    stackName: string;
  };
  'revoke.secret-not-found': About & { message: string; incident: string };
  'revoke.failed-unstarted': About & {
    /** The stage it failed at (before any token was revoked). */
    failedAt: string;
    message: string;
    incident: string;
    stackName: string;
  };
  'revoke.failed': About & {
    stage: string;
    error: string;
    /** Identifies the request (see revokeFailedIncident). */
    requestKey: string;
    revoked: RevokedVersion[];
    notRevoked: RevokedVersion[];
    stackName: string;
    stuckLock?: StuckLock;
  };
  'secretsmanager.rotation.failed': SecretRef & {
    incident: string;
    versionId?: string;
    /** Secrets Manager's error message (scrubbed here). */
    error?: string;
  };
  'secretsmanager.rotation.abandoned': SecretRef & {
    incident: string;
    versionId?: string;
    error?: string;
  };
  'health.exposed-keys': {
    eventArn: string;
    code: string;
    keys: number;
    /** Access key IDs (not secret) that no managed secret holds. */
    unheld: string[];
    secrets: number;
    revoked: number;
    failed: number;
    left: number;
  };
}

export type AlertName = keyof AlertFields;

/** What a catalog entry renders from its fields; the rest of the Alert is the entry's own. */
type Rendered = Omit<Alert, 'event' | 'severity'>;

export interface AlertKind<F> {
  event: AuditEventType;
  severity: Severity;
  /** An event whose incidents this alert's are the same as (one failure, one e-mail). */
  sameIncidentAs?: AuditEventType;
  render(fields: F): Rendered;
}

const about = (f: About) => ({
  secretArn: f.secret.arn,
  secretName: f.secret.name,
  ...(f.trigger ? { trigger: f.trigger } : {}),
});

const SECRETS_MANAGER: Trigger = {
  source: 'secretsmanager',
  principal: 'secretsmanager.amazonaws.com',
};

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

function liveToken(after: StagesAfter, rotationVersion: string): string {
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
// ("A previous rotation isn't complete"), so "rotate now" needs the label removed first.
const AFTER =
  'Once the cause is fixed, Secrets Manager retries this same rotation in the next rotation window. To rotate now instead, remove AWSPENDING from the failed version (aws secretsmanager update-secret-version-stage --secret-id <secret> --version-stage AWSPENDING --remove-from-version-id <version>), then choose "Rotate secret immediately".';

/** What to do about a failed rotation step, by its reason. */
export const ROTATION_FAILED_STEPS: Partial<Record<FailureReason, string[]>> = {
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
  'unknown-kind': [
    "Fix the secret's token-rotation:kind tag (random, iam-access-key or lambda:<function name or ARN>).",
    AFTER,
  ],
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
};

const ROTATION_FAILED_DEFAULT_STEPS = [
  "Check the rotation function's logs for this version ID, and the secret's history in the audit trail.",
  AFTER,
];

function rotationFailedSteps(reason: string): string[] {
  return ROTATION_FAILED_STEPS[reason as FailureReason] ?? ROTATION_FAILED_DEFAULT_STEPS;
}

function refusalSteps(code: string, stackName: string): string[] {
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

const kind = <F>(k: AlertKind<F>) => k;

/** The catalog: the only place an alert's words, severity and incident are written. */
export const ALERT_CATALOG: { readonly [N in AlertName]: AlertKind<AlertFields[N]> } = {
  'rotation.failed': kind({
    event: 'rotation.failed',
    severity: 'high',
    render: (f) => ({
      ...about(f),
      incident: rotationFailedIncident(f.versionId, f.step, f.stagesAfter),
      summary: `Rotation of ${f.secret.name} failed at ${f.step}`,
      reason: f.error,
      versionId: f.versionId,
      nextSteps: [
        liveToken(f.stagesAfter, f.versionId),
        `Stages read after the failure: ${f.stagesAfter.text}.`,
        ...rotationFailedSteps(f.reason),
      ],
    }),
  }),

  'rotation.stuck': kind({
    event: 'rotation.stuck',
    severity: 'warning',
    render: (f) => ({
      ...about(f),
      incident: f.versionId,
      versionId: f.versionId,
      summary: `A rotation started ${f.pendingFor} ago has not finished (AWSPENDING is left on version ${f.versionId}).`,
      reason: 'The rotation function failed or was interrupted at one of its steps.',
      nextSteps: [
        'Look for a rotation.failed alert or audit record for this secret.',
        'Fix the cause, then rotate the secret again from the console, or remove AWSPENDING from that version.',
      ],
    }),
  }),

  'lifespan.overdue': kind({
    event: 'lifespan.overdue',
    severity: 'warning',
    render: (f) => ({
      ...about(f),
      incident: f.versionId,
      versionId: f.versionId,
      summary: `The live token is ${f.age} old, over its lifespan of ${f.lifespan}.`,
      reason: f.rotateNow
        ? 'Its rotation did not happen in time; the sweep has started one now.'
        : 'A rotation is stuck, so a new one cannot start until it is resolved.',
      nextSteps: f.rotateNow
        ? [
            'Check that the rotation completes (no rotation.failed alert follows).',
            'Look at the audit trail of this secret for the last rotations.',
          ]
        : [
            'Resolve the stuck rotation (see the rotation.stuck alert): finish or cancel it.',
            'Then the next sweep rotates the secret.',
          ],
    }),
  }),

  'policy.invalid': kind({
    event: 'policy.invalid',
    severity: 'warning',
    render: (f) => ({
      ...about(f),
      incident: f.fingerprint,
      summary:
        'The token-rotation tags on this secret are invalid; nothing was changed on the secret.',
      reason: f.problems.join(' '),
      nextSteps: [
        'Correct the tags in the Secrets Manager console (the token-rotation README lists each tag and its allowed values).',
        'The next sweep applies the corrected policy.',
      ],
    }),
  }),

  'previous.revoke.failed': kind({
    event: 'previous.revoke.failed',
    severity: 'high',
    render: (f) => ({
      ...about(f),
      incident: f.stage === 'delete' ? `${f.versionId}:delete` : f.versionId,
      versionId: f.versionId,
      summary:
        f.stage === 'delete'
          ? `The deactivated previous token (version ${f.versionId}) was due for deletion and could not be deleted.`
          : `The previous token (version ${f.versionId}) outlived its grace and could not be revoked.`,
      reason: f.error,
      nextSteps: [
        'Fix the cause (the issuer, its permissions); the sweep retries at every run.',
        f.stage === 'delete'
          ? 'The token stays deactivated meanwhile: it does not work.'
          : 'Until then the previous token still works.',
      ],
    }),
  }),

  'previous.revoke.skipped': kind({
    event: 'previous.revoke.skipped',
    severity: 'warning',
    render: (f) => ({
      ...about(f),
      incident: f.versionId,
      versionId: f.versionId,
      summary: `The previous version ${f.versionId} was not revoked after its grace: it holds the live token.`,
      reason: `The live value (AWSCURRENT) holds the same token, by its ${f.by}: revoking it would revoke the live token.`,
      nextSteps: [
        'Usually someone saved the secret again with the same token (e.g. edited another field in the console): nothing to do.',
        'If the token should have changed, rotate the secret now from the Secrets Manager console.',
      ],
    }),
  }),

  'revoke.completed': kind({
    event: 'revoke.completed',
    severity: 'critical',
    render: (f) => ({
      ...about(f),
      incident: f.revokeId,
      ...(f.newVersionId ? { versionId: f.newVersionId } : {}),
      summary:
        f.mode === 'reissue'
          ? `Emergency revoke of ${f.secret.name}: every live token was revoked and a fresh token is now AWSCURRENT (version ${f.newVersionId}).`
          : `Emergency revoke of ${f.secret.name}: every live token was revoked and the secret is quarantined: it holds no valid token until a person acts.`,
      reason: `Reason given: ${f.reasonGiven}`,
      nextSteps: [
        `Revoked: ${describeVersions(f.revoked)}.`,
        ...(f.mode === 'reissue'
          ? [
              'Consumers must read the secret again now: a cached copy holds a revoked token (caching clients refresh hourly by default; restart or refresh them).',
            ]
          : [
              'Consumers now fail closed: the secret holds a quarantine notice, not a token.',
              `Once the leak is dealt with, restore service: run the ${f.stackName}-EmergencyRevoke runbook on this secret with Mode reissue.`,
            ]),
        'Find how the token leaked: CloudTrail GetSecretValue calls on this secret, and where the token was used from.',
        ...stuckLockSteps(f.stuckLock, f.stackName),
      ],
    }),
  }),

  'revoke.refused': kind({
    event: 'revoke.failed',
    severity: 'critical',
    render: (f) => ({
      ...about(f),
      incident: `refused:${f.requestKey}`,
      summary: `An emergency revoke of ${f.secret.name} was refused: nothing was revoked.`,
      reason: f.message,
      nextSteps: [
        f.code === 'quarantined'
          ? 'The secret stays quarantined: it holds no valid token.'
          : 'The tokens of this secret are unchanged and still valid.',
        ...refusalSteps(f.code, f.stackName),
      ],
    }),
  }),

  'revoke.secret-not-found': kind({
    event: 'revoke.failed',
    severity: 'critical',
    render: (f) => ({
      ...about(f),
      incident: f.incident,
      summary: `An emergency revoke of ${f.secret.name} was refused: no such secret, nothing was revoked.`,
      reason: f.message,
      nextSteps: [
        'No secret by this name or ARN exists in this account and region: check the SecretId (copy the ARN from the Secrets Manager console) and run the revoke again.',
      ],
    }),
  }),

  'revoke.failed-unstarted': kind({
    event: 'revoke.failed',
    severity: 'critical',
    render: (f) => ({
      ...about(f),
      incident: f.incident,
      summary: `Emergency revoke of ${f.secret.name} failed at ${f.failedAt} before revoking anything.`,
      reason: f.message,
      nextSteps: [
        'Nothing was revoked: every token of this secret is still valid.',
        `Run the ${f.stackName}-EmergencyRevoke runbook on this secret again.`,
        'If it fails again, revoke the token at its issuer by hand and check the revoke function logs.',
      ],
    }),
  }),

  'revoke.failed': kind({
    event: 'revoke.failed',
    severity: 'critical',
    render: (f) => ({
      ...about(f),
      incident: revokeFailedIncident(f.requestKey, f.revoked, f.notRevoked),
      summary: `Emergency revoke of ${f.secret.name} failed at ${f.stage}.`,
      reason: f.error,
      nextSteps: [
        `Revoked: ${describeVersions(f.revoked)}.`,
        `NOT revoked: ${describeVersions(f.notRevoked)}.`,
        `Run the ${f.stackName}-EmergencyRevoke runbook on this secret again: it revokes whatever is left.`,
        'If it fails again, revoke the token at its issuer by hand and check the revoke function logs.',
        ...stuckLockSteps(f.stuckLock, f.stackName),
      ],
    }),
  }),

  'secretsmanager.rotation.failed': kind({
    event: 'secretsmanager.rotation.failed',
    severity: 'high',
    sameIncidentAs: 'rotation.failed',
    render: (f) => ({
      secretArn: f.arn,
      secretName: f.name,
      incident: f.incident,
      summary: 'Secrets Manager reports that a rotation of this secret failed.',
      reason: f.error ? scrub(f.error) : 'Secrets Manager gave no error message.',
      ...(f.versionId ? { versionId: f.versionId } : {}),
      nextSteps: [
        'The live token (AWSCURRENT) is unchanged and still works.',
        "Open the rotation function's CloudWatch logs around this time to find the failing step.",
        'If the function was never invoked, check its permissions and that rotation points at it.',
        'Once fixed, rotate again: Secrets Manager console, the secret, Rotation, Rotate secret immediately.',
      ],
      trigger: SECRETS_MANAGER,
    }),
  }),

  'secretsmanager.rotation.abandoned': kind({
    event: 'secretsmanager.rotation.abandoned',
    severity: 'high',
    sameIncidentAs: 'rotation.failed',
    render: (f) => ({
      secretArn: f.arn,
      secretName: f.name,
      incident: f.incident,
      summary:
        'Secrets Manager abandoned a rotation of this secret: it was changed by hand while rotating, and the pending version was dropped.',
      ...(f.error ? { reason: scrub(f.error) } : {}),
      ...(f.versionId ? { versionId: f.versionId } : {}),
      nextSteps: [
        'Find who changed the secret during the rotation (CloudTrail: PutSecretValue, UpdateSecret, UpdateSecretVersionStage).',
        'Check that the live token (AWSCURRENT) works for its consumers.',
        'The next sweep rotates again if the lifespan requires it.',
      ],
      trigger: SECRETS_MANAGER,
    }),
  }),

  'health.exposed-keys': kind({
    event: 'revoke.requested',
    severity: 'critical',
    render: (f) => {
      const { keys, unheld, secrets, revoked, failed, left } = f;
      const s = (n: number) => (n === 1 ? '' : 's');
      return {
        secretArn: f.eventArn,
        secretName: `AWS Health ${f.code}`,
        // One e-mail per delivery state: a redelivery that made progress says so.
        incident: `health:${f.eventArn}:${left}:${failed}`,
        summary: `AWS Health ${f.code} names ${keys} access key${s(keys)}: ${secrets} managed secret${s(secrets)} hold${secrets === 1 ? 's' : ''} them; ${revoked} revoked now, ${failed} failed, ${left} left for the next delivery.`,
        reason: `Keys no managed secret holds (${unheld.length}): ${unheld.length > 0 ? listKeys(unheld) : 'none'}.`,
        nextSteps: [
          'Each secret revoked has its own revoke.completed (or revoke.failed) alert.',
          ...(left > 0
            ? [
                `${left} secret${left === 1 ? ' is' : 's are'} revoked when EventBridge delivers the event again (within minutes); watch for their alerts.`,
              ]
            : []),
          ...(unheld.length > 0
            ? [
                'Keys no managed secret holds are not touched: deactivate them in the IAM console (Users, Security credentials) if they are yours.',
              ]
            : []),
        ],
        trigger: { source: 'health', principal: 'aws.health' },
      };
    },
  }),
};

export const ALERT_NAMES = Object.keys(ALERT_CATALOG) as AlertName[];

/** The alert `name` declares, rendered from its typed fields. */
export function alertOf<N extends AlertName>(name: N, fields: AlertFields[N]): Alert {
  const entry = ALERT_CATALOG[name] as AlertKind<AlertFields[N]>;
  return { event: entry.event, severity: entry.severity, ...entry.render(fields) };
}

const SAME_INCIDENT_AS: Partial<Record<AuditEventType, AuditEventType>> = Object.fromEntries(
  Object.values(ALERT_CATALOG).flatMap((entry: AlertKind<never>) =>
    entry.sameIncidentAs ? [[entry.event, entry.sameIncidentAs]] : [],
  ),
);

/**
 * The de-duplication key of an alert within its secret: `<event>#<incident>`, where an event
 * declared the same incident as another's (Secrets Manager's own failure events for a rotation
 * our handler already alerted on) takes that event's name, so one failure sends one e-mail.
 */
export function alertIncidentKey(alert: Pick<Alert, 'event' | 'incident'>): string {
  return `${SAME_INCIDENT_AS[alert.event] ?? alert.event}#${alert.incident}`;
}
