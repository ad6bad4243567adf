// Every alert the suite sends, declared once: its event, severity, what makes two of them one
// incident, and the words a person reads (summary, why, next steps), as a function of typed
// fields. Code raises an alert by name, `alertOf('revoke.completed', {...})`, and gets the
// `Alert` the ports take; the e-mail's subject, body and attributes come from format.ts, the same
// for every alert, from the event, severity and secret declared here.

import { scrub } from '../errors.ts';
import type { Alert } from '../ports.ts';
import { formatScopes } from '../scopes.ts';
import type { AuditEventType, Trigger } from '../vocabulary.ts';
import type { About, AlertFields, AlertKind, AlertName, ScopeDriftFields } from './fields.ts';
import {
  describeVersions,
  listKeys,
  liveToken,
  refusalSteps,
  revokeFailedIncident,
  rotationFailedIncident,
  rotationFailedSteps,
  stagesAfterSteps,
  stuckLockSteps,
} from './wording.ts';

export type { AlertFields, AlertName, SecretRef, StagesAfter, StuckLock } from './fields.ts';

const about = (f: About) => ({
  secretArn: f.secret.arn,
  secretName: f.secret.name,
  ...(f.trigger ? { trigger: f.trigger } : {}),
});

const SECRETS_MANAGER: Trigger = {
  source: 'secretsmanager',
  principal: 'secretsmanager.amazonaws.com',
};

const kind = <F>(k: AlertKind<F>) => k;

// Scopes are not secret, but an issuer's answer is untrusted: scrubbed like any error text.
function scopeDriftAlert(f: ScopeDriftFields) {
  const drift = f.drift;
  const token = f.tokenName ? ` (${f.tokenName})` : '';
  const extra = drift ? scrub(formatScopes(drift.extra)) : undefined;
  return {
    ...about(f),
    // One alert per refused rotation however often Secrets Manager retries it (the incident of
    // Secrets Manager's own RotationFailed event for it too); for a live token, one per drift
    // (declared scopes and extra ones): a change is a new incident.
    incident: f.where === 'rotation' ? f.versionId : `live:${drift?.incident ?? f.versionId}`,
    versionId: f.versionId,
    summary:
      f.where === 'rotation'
        ? `A new token${token} can do more than ${f.secret.name} declares${extra ? ` (extra: ${extra})` : ''}; the rotation was refused and AWSCURRENT keeps the old token.`
        : `The live token${token} of ${f.secret.name} can do more than it declares${extra ? ` (extra: ${extra})` : ''}.`,
    reason: drift
      ? `Declared (token-rotation:scopes): ${scrub(formatScopes(drift.declared))}. Actual, from ${f.source}: ${scrub(formatScopes(drift.actual))}. Extra: ${extra}.`
      : `A later attempt of the rotation refused for scope drift (version ${f.versionId}).`,
    nextSteps: [
      ...(f.revoked ? [`The refused token: ${scrub(f.revoked)}.`] : []),
      f.where === 'rotation'
        ? 'Find out why the issuer minted a broader token (its settings, the scopes it was asked for), fix it, then rotate again.'
        : `Narrow what the token can do at its issuer (${f.source}) to the declared scopes, or correct the tag token-rotation:scopes if it is wrong.`,
      ...(drift?.wildcard
        ? [
            'An extra scope is a wildcard: treat the token as able to do anything in that service until fixed.',
          ]
        : []),
    ],
  };
}

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
        ...rotationFailedSteps(f.reason, f.secret.name, f.versionId),
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

  'token.shared': kind({
    event: 'token.shared',
    // Critical when the environments differ (rendered below): a lower environment's leak opens the higher one.
    severity: 'high',
    render: (f) => {
      const where = (env: string | undefined) => env ?? 'no environment tag';
      const differ = f.environment !== f.other.environment;
      return {
        ...about(f),
        severity: differ ? 'critical' : 'high',
        incident: f.incident,
        summary: `One token is held by two secrets: ${f.secret.name} (${where(f.environment)}) and ${f.other.name} (${where(f.other.environment)}).`,
        reason: differ
          ? 'Environments must never share a token: whoever can read the less trusted copy can use the more trusted one.'
          : 'Two secrets holding one token cannot be rotated or revoked apart: revoking one breaks the other.',
        nextSteps: [
          f.enforced.length > 0
            ? `token-rotation:isolation=enforce started a rotation of ${f.enforced.join(' and ')}; check that it completes (no rotation.failed alert follows).`
            : `Rotate one of them now (the one in the less trusted environment) from the Secrets Manager console, or tag it token-rotation:isolation=enforce to have the sweep do it.`,
          `If the token may have leaked through the less trusted copy, revoke it: token-rotation revoke ${f.other.name} --reason "shared with ${f.secret.name}" (or the EmergencyRevoke runbook).`,
          `Other secret: ${f.other.arn}`,
        ],
      };
    },
  }),

  'token.index.failed': kind({
    event: 'token.index.failed',
    severity: 'warning',
    render: (f) => ({
      ...about(f),
      incident: 'fingerprint-key',
      summary:
        'The fingerprint key could not be read: tokens are not being indexed, so shared tokens go undetected.',
      reason: f.error,
      nextSteps: [
        "Check that the key secret exists and that the sweep's role may read it (GetSecretValue, and kms:Decrypt on its key).",
        'Rotations and the sweep carry on meanwhile; indexing resumes at the next sweep that can read the key.',
      ],
    }),
  }),

  'audit.chain-regressed': kind({
    event: 'audit.chain-regressed',
    severity: 'critical',
    render: (f) => ({
      ...about(f),
      incident: f.checkpoint,
      summary: `The audit trail of ${f.secret.name} is shorter than its last checkpoint recorded: ${f.message}.`,
      reason:
        'Audit records, and the item that mirrors the chain head, were deleted or replaced in the audit table. The functions cannot delete records, so someone with write access to the table did.',
      nextSteps: [
        `Run token-rotation verify-audit: it compares every chain with the locked checkpoints (this one: ${f.checkpoint}).`,
        "Look in CloudTrail for DeleteItem or PutItem calls on the audit table that are not the suite's functions.",
        'Treat the secret as possibly tampered with: rotate it, and revoke its tokens if the records hid a use.',
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

  // Secrets Manager's RotationFailed for a refused rotation names the same version: one e-mail.
  'token.scope-drift': kind({
    event: 'token.scope-drift',
    severity: 'high',
    sameIncidentAs: 'rotation.failed',
    render: scopeDriftAlert,
  }),

  // The same, when an extra scope is a wildcard (`*`, `s3:*`): what the token can do has no bound.
  'token.scope-drift.wildcard': kind({
    event: 'token.scope-drift',
    severity: 'critical',
    sameIncidentAs: 'rotation.failed',
    render: scopeDriftAlert,
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
        ...stagesAfterSteps(f.stagesAfter),
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

  'previous.still-used': kind({
    event: 'previous.still-used',
    severity: 'high',
    render: (f) => ({
      ...about(f),
      incident: `${f.versionId}:${f.extendedUntil ? 'extended' : 'revoked'}`,
      versionId: f.versionId,
      summary: f.extendedUntil
        ? `A consumer still uses the previous token of ${f.secret.name}${f.tokenName ? ` (${f.tokenName})` : ''}: its grace is extended once, until ${f.extendedUntil}; then it is revoked whether or not it is still used.`
        : `The previous token of ${f.secret.name}${f.tokenName ? ` (${f.tokenName})` : ''} was revoked although a consumer still used it after the rotation (its grace is extended at most once): that consumer's requests now fail.`,
      reason: `Its issuer saw it used at ${f.lastUsedAt} by ${f.usedBy}, after the rotation of ${f.replacedAt} replaced it.`,
      nextSteps: [
        `Find the consumer (${f.usedBy}) and make it read the secret again (AWSCURRENT), or restart it.`,
        f.extendedUntil
          ? 'Nothing else to do if it switches in time: the sweep revokes the token when the extension ends.'
          : 'If the consumer cannot switch, an emergency revoke is not needed: the old token no longer works.',
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
        ...stagesAfterSteps(f.stagesAfter),
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
  const rendered = entry.render(fields);
  return { event: entry.event, ...rendered, severity: rendered.severity ?? entry.severity };
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
