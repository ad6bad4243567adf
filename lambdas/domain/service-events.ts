// Secrets Manager's own rotation failures (RotationFailed, RotationAbandoned, seen through
// EventBridge), audited and alerted, so a failure that never reached our code is not silent.
//
// The event is CloudTrail's record of an AWS service event, e.g.
//   { "source": "aws.secretsmanager", "detail-type": "AWS Service Event via CloudTrail",
//     "detail": { "eventSource": "secretsmanager.amazonaws.com", "eventName": "RotationFailed",
//                 "eventTime": "...", "eventID": "...", "errorMessage": "...",
//                 "additionalEventData": { "SecretId": "<secret ARN>" } } }
// It names the secret but, as documented, not the version; where it does not, the version is
// the secret's leftover AWSPENDING (a failed rotation leaves it in place), if the caller can
// look it up, and otherwise the incident is the secret and the hour.

import { alertOf } from './alerts/catalog.ts';
import { describeError, scrub } from './errors.ts';
import type { Alerter, AlertOutcome, AuditEntry, AuditLog, Clock } from './ports.ts';
import { systemClock } from './ports.ts';
import { type AuditEventType, SCOPE_REFUSED_LABEL, STAGE } from './vocabulary.ts';

export const SERVICE_EVENT_NAMES = {
  RotationFailed: 'secretsmanager.rotation.failed',
  RotationAbandoned: 'secretsmanager.rotation.abandoned',
} as const satisfies Record<string, AuditEventType>;

export type ServiceEventName = keyof typeof SERVICE_EVENT_NAMES;

/** A Secrets Manager rotation event we understood. */
export interface ServiceEvent {
  name: ServiceEventName;
  secretArn: string;
  secretName: string;
  /** The rotation's version (ClientRequestToken), where the event names it. */
  versionId?: string;
  /** When Secrets Manager says it happened. */
  at: Date;
  /** CloudTrail's event ID: the same event delivered twice is recorded once. */
  eventId?: string;
  /** Secrets Manager's message, scrubbed. */
  error?: string;
}

export type ParseResult = { ok: true; event: ServiceEvent } | { ok: false; why: string };

const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates an EventBridge event. Anything that is not a Secrets Manager RotationFailed or
 * RotationAbandoned service event about a secret ARN is refused with the reason, not thrown:
 * a malformed event must be logged and dropped, never retried in a loop.
 */
export function parseServiceEvent(input: unknown, clock: Clock = systemClock): ParseResult {
  if (!isObject(input)) return { ok: false, why: 'the event is not an object' };
  if (input.source !== 'aws.secretsmanager') {
    return { ok: false, why: `expected source aws.secretsmanager, found ${quote(input.source)}` };
  }
  if (input['detail-type'] !== 'AWS Service Event via CloudTrail') {
    return {
      ok: false,
      why: `expected detail-type "AWS Service Event via CloudTrail", found ${quote(input['detail-type'])}`,
    };
  }
  const detail = input.detail;
  if (!isObject(detail)) return { ok: false, why: 'the event has no detail object' };
  if (detail.eventSource !== undefined && detail.eventSource !== 'secretsmanager.amazonaws.com') {
    return {
      ok: false,
      why: `expected eventSource secretsmanager.amazonaws.com, found ${quote(detail.eventSource)}`,
    };
  }
  const name = detail.eventName;
  if (typeof name !== 'string' || !Object.hasOwn(SERVICE_EVENT_NAMES, name)) {
    return {
      ok: false,
      why: `expected eventName RotationFailed or RotationAbandoned, found ${quote(name)}`,
    };
  }
  const extra = isObject(detail.additionalEventData) ? detail.additionalEventData : {};
  const secretArn = extra.SecretId;
  if (typeof secretArn !== 'string' || !SECRET_ARN.test(secretArn)) {
    return {
      ok: false,
      why: `expected detail.additionalEventData.SecretId to be a secret ARN, found ${quote(secretArn)}`,
    };
  }

  // Not documented today; taken if present, so the incident matches our own rotation.failed.
  const version = [extra.VersionId, extra.ClientRequestToken].find(
    (value): value is string => typeof value === 'string' && VERSION_ID.test(value),
  );
  const at = [detail.eventTime, input.time]
    .map((value) => (typeof value === 'string' ? new Date(value) : undefined))
    .find((date) => date && !Number.isNaN(date.getTime()));
  const eventId = [detail.eventID, input.id].find(
    (value): value is string => typeof value === 'string' && /^[A-Za-z0-9-]{1,128}$/.test(value),
  );
  const error =
    typeof detail.errorMessage === 'string' ? describeError(detail.errorMessage) : undefined;

  return {
    ok: true,
    event: {
      name: name as ServiceEventName,
      secretArn,
      secretName: secretNameFromArn(secretArn),
      at: at ?? clock(),
      ...(version ? { versionId: version } : {}),
      ...(eventId ? { eventId } : {}),
      ...(error ? { error } : {}),
    },
  };
}

/** Secrets Manager ARNs end in the name, a hyphen and six random characters. */
export function secretNameFromArn(arn: string): string {
  const name = arn.slice(arn.indexOf(':secret:') + ':secret:'.length);
  return /-[A-Za-z0-9]{6}$/.test(name) ? name.slice(0, -7) : name;
}

export interface ServiceEventDeps {
  audit: AuditLog;
  alerter: Alerter;
  /**
   * The version holding AWSPENDING on a secret that is not AWSCURRENT, if any: the failed
   * rotation's version, so this alert is the same incident as the rotation handler's own.
   */
  pendingVersion?: (secretArn: string) => Promise<string | undefined>;
  /** Told when the pending version could not be looked up (the hour is used instead). */
  warn?: (message: string, details: Record<string, unknown>) => void;
}

export type ServiceEventOutcome =
  | { status: 'recorded'; event: AuditEventType; incident: string; alert: AlertOutcome }
  | {
      status: 'already-recorded';
      event: AuditEventType;
      incident: string;
      alert: AlertOutcome;
    };

/** Audits the event (before anything else), then alerts once per incident. */
export async function recordServiceEvent(
  event: ServiceEvent,
  deps: ServiceEventDeps,
): Promise<ServiceEventOutcome> {
  const auditEvent = SERVICE_EVENT_NAMES[event.name];
  const versionId = event.versionId ?? (await lookUpPending(event.secretArn, deps));
  const incident = versionId ?? `hour:${event.at.toISOString().slice(0, 13)}`;

  const already = event.eventId ? await alreadyAudited(event, auditEvent, deps.audit) : false;
  if (!already) {
    const entry: AuditEntry = {
      event: auditEvent,
      outcome: 'reported',
      secretArn: event.secretArn,
      secretName: event.secretName,
      ...(versionId ? { versions: { pending: versionId } } : {}),
      trigger: { source: 'secretsmanager', principal: 'secretsmanager.amazonaws.com' },
      ...(event.error ? { error: event.error } : {}),
      detail: {
        reportedAt: event.at.toISOString(),
        ...(event.eventId ? { eventId: event.eventId } : {}),
      },
    };
    await deps.audit.append(entry);
  }

  // Sent even when already audited: the first delivery may have failed between the two.
  const alert = await deps.alerter.send(
    alertOf(auditEvent, {
      arn: event.secretArn,
      name: event.secretName,
      incident,
      ...(versionId ? { versionId } : {}),
      ...(event.error ? { error: event.error } : {}),
    }),
  );
  return { status: already ? 'already-recorded' : 'recorded', event: auditEvent, incident, alert };
}

/**
 * The version a failed rotation left behind: AWSPENDING on a version that is not AWSCURRENT, or
 * the version of a rotation refused for scope drift (AWSPENDING taken off, labelled instead).
 */
export function failedRotationVersion(versions: Record<string, string[]>): string | undefined {
  return Object.entries(versions).find(
    ([, stages]) =>
      (stages.includes(STAGE.pending) || stages.includes(SCOPE_REFUSED_LABEL)) &&
      !stages.includes(STAGE.current),
  )?.[0];
}

async function lookUpPending(
  secretArn: string,
  deps: ServiceEventDeps,
): Promise<string | undefined> {
  if (!deps.pendingVersion) return undefined;
  try {
    const version = await deps.pendingVersion(secretArn);
    return version && VERSION_ID.test(version) ? version : undefined;
  } catch (error) {
    deps.warn?.('could not look up the pending version; alerting once per hour instead', {
      secretArn,
      error: describeError(error),
    });
    return undefined;
  }
}

/** Redelivery check: the secret's newest records, looking for this CloudTrail event ID. */
async function alreadyAudited(event: ServiceEvent, auditEvent: AuditEventType, audit: AuditLog) {
  const recent = await audit.history(event.secretArn, { newestFirst: true, limit: 20 });
  return recent.some(
    (record) => record.event === auditEvent && record.detail?.eventId === event.eventId,
  );
}

function quote(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return `"${scrub(text.replace(/[\p{Cc}\p{Cf}]/gu, ' ')).slice(0, 120)}"`;
}
