// The typed fields of each alert in the catalog (catalog.ts), and the shape of an entry.

import type { Alert } from '../ports.ts';
import type { RevokedVersion, RevokeMode } from '../revoke/types.ts';
import type { ScopeDrift } from '../scopes.ts';
import type { AuditEventType, FailureReason, Severity, Step, Trigger } from '../vocabulary.ts';

/** The secret an alert is about. */
export interface SecretRef {
  arn: string;
  name: string;
}

export interface About {
  secret: SecretRef;
  trigger?: Trigger;
}

/**
 * Where the staging labels stand after a failure (a rotation step, a revoke), as read then:
 * `current` is the version AWSCURRENT is on (absent: none), `text` the labels as a person reads
 * them, or, when they could not be read back, why.
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

/** A token broader than its secret's declared scopes (alerts `token.scope-drift`). */
export type ScopeDriftFields = About & {
  /** `rotation`: a new token refused at testSecret; `live`: the live token, found by the sweep. */
  where: 'rotation' | 'live';
  versionId: string;
  /** The token's name (a key ID), never the token. */
  tokenName?: string;
  /** Declared, actual and extra scopes; absent on a later attempt of a refused rotation. */
  drift?: ScopeDrift;
  /** Where the actual scopes were read (the kind's `capabilities.scopes.source`). */
  source: string;
  /** rotation: what became of the refused token at its issuer, as the revoke answered. */
  revoked?: string;
};

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
  /** On the pair's first secret (by ARN); `other` is the second. Never the token. */
  'token.shared': About & {
    /** The keyed fingerprint and the other secret's ARN: one incident per pair per token. */
    incident: string;
    environment: string | undefined;
    other: { arn: string; name: string; environment: string | undefined };
    /** Names of the copies `isolation=enforce` started rotating (none: alert only). */
    enforced: string[];
  };
  /** About the fingerprint key secret itself. */
  'token.index.failed': About & { error: string };
  'audit.chain-regressed': About & {
    /** What went back, as the checkpoint writer words it (sequence numbers and short hashes). */
    message: string;
    /** The checkpoint that recorded the longer chain: bucket key and object version. */
    checkpoint: string;
  };
  'lifespan.overdue': About & {
    versionId: string;
    age: string;
    lifespan: string;
    /** Whether the sweep started a rotation now (else one is stuck). */
    rotateNow: boolean;
  };
  'token.scope-drift': ScopeDriftFields;
  'token.scope-drift.wildcard': ScopeDriftFields;
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
    /** The labels as read back after the failure (lambdas/domain/stages.ts). */
    stagesAfter?: StagesAfter;
  };
  'previous.revoke.skipped': About & {
    versionId: string;
    /** How the previous and the live token were found to be the same (`whole value`, a field). */
    by: string;
  };
  'previous.still-used': About & {
    versionId: string;
    /** The token's name (a key ID), never the token. */
    tokenName?: string;
    /** When the issuer last saw the token used, and by what (printable, short). */
    lastUsedAt: string;
    usedBy: string;
    /** When the token stopped being live (the rotation that replaced it). */
    replacedAt: string;
    /** Extended until this time; absent when the bound was reached and it was revoked anyway. */
    extendedUntil?: string;
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
    /** The labels as read back after the failure (lambdas/domain/stages.ts). */
    stagesAfter?: StagesAfter;
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
/** What an entry renders; `severity` only where it depends on the fields (else the entry's). */
export type Rendered = Omit<Alert, 'event' | 'severity'> & { severity?: Severity };

export interface AlertKind<F> {
  event: AuditEventType;
  severity: Severity;
  /** An event whose incidents this alert's are the same as (one failure, one e-mail). */
  sameIncidentAs?: AuditEventType;
  render(fields: F): Rendered;
}
