// The fast path of attachment: a CloudTrail TagResource, UntagResource or CreateSecret event for
// one secret is checked, filtered, and turned into that secret's attach, update or detach within
// about a minute. The sweep (sweep.ts) is the safety net for any event lost on the way.
//
// What is ignored, and why: calls that failed (CloudTrail records those too); calls made by the
// suite's own roles (the revoke sets token-rotation:last-revoked and removes token-rotation:revoke,
// and must not set this path off); tag changes that touch no policy tag (the revoke tag belongs to
// the revoke handler; other tags are the user's business); a CreateSecret without a lifespan tag.
// Only attachment actions are carried out here: rotating, revoking previous tokens and reporting
// stuck rotations stay with the sweep, so this function needs no access to secret values.
import { describeError, errorCode } from './errors.ts';
import type { PolicyLimits } from './policy.ts';
import { type SweepDeps, sweepSecret } from './sweep/index.ts';
import type { SweepAction } from './sweep/plan.ts';
import { TAG, type Trigger } from './vocabulary.ts';

export const TAG_EVENT_NAMES = ['TagResource', 'UntagResource', 'CreateSecret'] as const;
export type TagEventName = (typeof TAG_EVENT_NAMES)[number];

/** The tags that make up a secret's policy: a change to any of them re-plans the secret. */
export const POLICY_TAGS: readonly string[] = [TAG.lifespan, TAG.kind, TAG.grace, TAG.scopes];

/** What the tag-event path may do to a secret. */
export const TAG_EVENT_ACTIONS: readonly SweepAction['type'][] = [
  'attach',
  'update-schedule',
  'detach',
  'policy-invalid',
  'scope-check',
];

export interface TagEvent {
  name: TagEventName;
  /** The secret as the caller named it (ARN, partial ARN or name). */
  secretId: string;
  /** The CloudTrail userIdentity ARN of whoever made the call. */
  principal?: string;
  /** The role behind an assumed-role session (sessionContext.sessionIssuer.arn). */
  sessionIssuer?: string;
  /** Tag keys the call set or removed; undefined when the event does not say. */
  keys?: string[];
  /** The call failed (CloudTrail errorCode). */
  errorCode?: string;
  eventId?: string;
}

export type ParsedTagEvent = { ok: true; event: TagEvent } | { ok: false; why: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

function describeFound(value: unknown): string {
  if (value === undefined) return 'none';
  if (value === null) return 'null';
  if (typeof value === 'string') return `"${value.slice(0, 60)}"`;
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Tag keys in CloudTrail's requestParameters (`tags: [{key, value}]` or `tagKeys: [..]`). */
function keysOf(name: TagEventName, request: Record<string, unknown>): string[] | undefined {
  const list = name === 'UntagResource' ? request.tagKeys : request.tags;
  if (!Array.isArray(list)) return undefined;
  const keys: string[] = [];
  for (const item of list) {
    const key =
      name === 'UntagResource' ? item : isObject(item) ? (item.key ?? item.Key) : undefined;
    if (typeof key !== 'string') return undefined;
    keys.push(key);
  }
  return keys;
}

/**
 * The secret and the tag keys in an EventBridge "AWS API Call via CloudTrail" event for Secrets
 * Manager, or why it is not one we handle. Never throws: a malformed event is a value.
 */
export function parseTagEvent(event: unknown): ParsedTagEvent {
  if (!isObject(event))
    return { ok: false, why: `expected an event object, found ${describeFound(event)}` };
  if (event.source !== 'aws.secretsmanager') {
    return {
      ok: false,
      why: `expected source aws.secretsmanager, found ${describeFound(event.source)}`,
    };
  }
  if (event['detail-type'] !== 'AWS API Call via CloudTrail') {
    return {
      ok: false,
      why: `expected detail-type "AWS API Call via CloudTrail", found ${describeFound(event['detail-type'])}`,
    };
  }
  const detail = event.detail;
  if (!isObject(detail))
    return { ok: false, why: `expected a detail object, found ${describeFound(detail)}` };
  const name = detail.eventName;
  if (!(TAG_EVENT_NAMES as readonly unknown[]).includes(name)) {
    return {
      ok: false,
      why: `expected eventName ${TAG_EVENT_NAMES.join(', ')}, found ${describeFound(name)}`,
    };
  }
  const eventName = name as TagEventName;
  const request = isObject(detail.requestParameters) ? detail.requestParameters : {};
  const response = isObject(detail.responseElements) ? detail.responseElements : {};
  // CreateSecret names the new secret in its response (`aRN` in CloudTrail's casing); the others
  // in their request.
  const secretId =
    eventName === 'CreateSecret'
      ? (text(response.aRN) ?? text(response.arn) ?? text(request.name))
      : text(request.secretId);
  const errorCode = text(detail.errorCode);
  if (!secretId && !errorCode) {
    return { ok: false, why: `${eventName} event names no secret (requestParameters.secretId)` };
  }
  const identity = isObject(detail.userIdentity) ? detail.userIdentity : {};
  const session = isObject(identity.sessionContext) ? identity.sessionContext : {};
  const issuer = isObject(session.sessionIssuer) ? session.sessionIssuer : {};
  const parsed: TagEvent = { name: eventName, secretId: secretId ?? '' };
  const principal = text(identity.arn);
  if (principal) parsed.principal = principal;
  const sessionIssuer = text(issuer.arn);
  if (sessionIssuer) parsed.sessionIssuer = sessionIssuer;
  const keys = keysOf(eventName, request);
  if (keys) parsed.keys = keys;
  if (errorCode) parsed.errorCode = errorCode;
  const eventId = text(detail.eventID);
  if (eventId) parsed.eventId = eventId;
  return { ok: true, event: parsed };
}

/** `role/<path/>Name` of a role ARN, and the `assumed-role/Name/` its sessions show. */
const roleName = (roleArn: string) => roleArn.split(':').at(-1)?.split('/').at(-1) ?? '';

/** Whether one of `ownRoles` (role ARNs) made the call. */
export function causedBySuite(event: TagEvent, ownRoles: readonly string[]): boolean {
  for (const role of ownRoles) {
    if (event.sessionIssuer === role) return true;
    const name = roleName(role);
    const account = role.split(':')[4];
    if (
      name &&
      event.principal !== undefined &&
      event.principal.split(':')[4] === account &&
      event.principal.split(':').at(-1)?.startsWith(`assumed-role/${name}/`)
    ) {
      return true;
    }
  }
  return false;
}

/** Why this event changes nothing for lifespan enforcement, or undefined when it may. */
export function ignoreReason(event: TagEvent, ownRoles: readonly string[]): string | undefined {
  if (event.errorCode) return `the ${event.name} call failed (${event.errorCode})`;
  if (causedBySuite(event, ownRoles)) return 'made by the suite itself';
  if (event.keys !== undefined) {
    const policyKeys = event.keys.filter((key) => POLICY_TAGS.includes(key));
    if (event.name === 'CreateSecret' && !event.keys.includes(TAG.lifespan)) {
      return 'a new secret without the lifespan tag';
    }
    if (policyKeys.length === 0) {
      return event.keys.includes(TAG.revoke)
        ? 'about the revoke tag, which the revoke handler owns'
        : 'no policy tag changed';
    }
  } else if (event.name === 'CreateSecret') {
    return 'a new secret without tags';
  }
  return undefined;
}

export type TagEventOutcome =
  | { status: 'ignored'; why: string }
  | {
      status: 'applied';
      secretArn: string;
      actions: SweepAction['type'][];
      alertsSent: number;
      failures: string[];
    };

export interface TagEventOptions {
  rotationFunctionArn: string;
  sweepIntervalMs: number;
  limits?: PolicyLimits;
  ownRoles: readonly string[];
}

const isGone = (error: unknown) => errorCode(error) === 'not-found';

/**
 * Plans the event's secret as it is now (DescribeSecret, so two events in quick succession both
 * act on the latest tags) and attaches, updates or detaches. Throws only when the secret cannot
 * be described; per-action failures come back in the outcome.
 */
export async function applyTagEvent(
  event: TagEvent,
  deps: Omit<SweepDeps, 'cursor'>,
  options: TagEventOptions,
): Promise<TagEventOutcome> {
  const why = ignoreReason(event, options.ownRoles);
  if (why) return { status: 'ignored', why };
  let secret: Awaited<ReturnType<typeof deps.store.describe>>;
  try {
    secret = await deps.store.describe(event.secretId);
  } catch (error) {
    if (isGone(error)) return { status: 'ignored', why: 'the secret no longer exists' };
    throw error;
  }
  if (secret.deleted) return { status: 'ignored', why: 'the secret is scheduled for deletion' };
  const trigger: Trigger = {
    source: 'tag',
    ...(event.principal ? { principal: event.principal } : {}),
  };
  const done = await sweepSecret(deps, secret, {
    rotationFunctionArn: options.rotationFunctionArn,
    sweepIntervalMs: options.sweepIntervalMs,
    ...(options.limits ? { limits: options.limits } : {}),
    trigger,
    only: TAG_EVENT_ACTIONS,
    // Unknown keys (an event that does not list them): check, to be safe.
    scopesChanged: event.keys === undefined || event.keys.includes(TAG.scopes),
  });
  return {
    status: 'applied',
    secretArn: secret.arn,
    actions: done.actions.map((a) => a.type),
    alertsSent: done.alertsSent,
    failures: done.failures.map((f) => `${f.action}: ${describeError(f.error)}`),
  };
}
