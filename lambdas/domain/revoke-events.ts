// The event triggers of the emergency revoke: a CloudTrail TagResource that sets
// token-rotation:revoke (the requester is the event's principal), and AWS Health exposed-credential
// events naming a token that a managed secret holds. Both end in revoke.ts.
//
// Health events are matched on their type code, not the service: the registry says which kinds
// react to which codes, and which affected entities name their tokens (access key IDs). The secret
// holding a token is found among opted-in secrets of those kinds only (listed by tag, values read
// for those alone); a token no managed secret holds is audited as revoke.ignored, against the
// Health event's ARN, and dropped.

import { type AlertFields, alertOf } from './alerts/catalog.ts';
import { listKeys } from './alerts/wording.ts';
import { describeError } from './errors.ts';
import { healthEventCodes, healthEventKinds, kindOf } from './kinds/registry.ts';
import type { AuditLog, Issuer, SecretCatalog, SecretDescription, SecretStore } from './ports.ts';
import { type RevokeDeps, type RevokeOutcome, revokeSecret } from './revoke/index.ts';
import { STAGE, TAG } from './vocabulary.ts';

/** AWS Health event type codes that report a managed token as exposed or compromised. */
export const EXPOSED_CREDENTIAL_CODES: readonly string[] = healthEventCodes();

const SAFE_ID = /^[A-Za-z0-9:/._-]{1,256}$/;
const IAM_PRINCIPAL = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/:-]{1,512}$/;

export type RevokeEvent =
  | { kind: 'tag'; secretId: string; reason: string; principal?: string; eventId: string }
  | { kind: 'health'; code: string; eventArn: string; accessKeyIds: string[] };

export type ParsedRevokeEvent = { ok: true; event: RevokeEvent } | { ok: false; why: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Validates an EventBridge event; anything else is refused with the reason, never thrown. */
export function parseRevokeEvent(input: unknown): ParsedRevokeEvent {
  if (!isObject(input)) return { ok: false, why: 'the event is not an object' };
  if (input.source === 'aws.health') return parseHealth(input);
  if (input.source !== 'aws.secretsmanager') {
    return { ok: false, why: 'expected source aws.secretsmanager or aws.health' };
  }
  const detail = input.detail;
  if (!isObject(detail)) return { ok: false, why: 'the event has no detail object' };
  if (
    input['detail-type'] !== 'AWS API Call via CloudTrail' ||
    detail.eventName !== 'TagResource'
  ) {
    return { ok: false, why: 'expected a CloudTrail TagResource API call' };
  }
  if (detail.errorCode !== undefined) return { ok: false, why: 'the TagResource call failed' };
  const request = isObject(detail.requestParameters) ? detail.requestParameters : {};
  const secretId = request.secretId;
  if (typeof secretId !== 'string' || secretId === '' || secretId.length > 2048) {
    return { ok: false, why: 'expected requestParameters.secretId to name the secret' };
  }
  const tags = Array.isArray(request.tags) ? request.tags : [];
  const tag = tags.find(
    (t): t is Record<string, unknown> => isObject(t) && (t.key ?? t.Key) === TAG.revoke,
  );
  if (!tag) return { ok: false, why: `the call does not set ${TAG.revoke}` };
  const value = tag.value ?? tag.Value;
  const eventId = [detail.eventID, input.id].find(
    (id): id is string => typeof id === 'string' && SAFE_ID.test(id),
  );
  if (!eventId) return { ok: false, why: 'expected the event to carry a CloudTrail eventID' };
  const identity = isObject(detail.userIdentity) ? detail.userIdentity : {};
  const principal =
    typeof identity.arn === 'string' && IAM_PRINCIPAL.test(identity.arn) ? identity.arn : undefined;
  return {
    ok: true,
    event: {
      kind: 'tag',
      secretId,
      reason: typeof value === 'string' ? value : '',
      ...(principal ? { principal } : {}),
      eventId,
    },
  };
}

function parseHealth(input: Record<string, unknown>): ParsedRevokeEvent {
  const detail = input.detail;
  if (!isObject(detail)) return { ok: false, why: 'the event has no detail object' };
  const code = detail.eventTypeCode;
  const kinds = typeof code === 'string' ? healthEventKinds(code) : [];
  if (typeof code !== 'string' || kinds.length === 0) {
    return { ok: false, why: `expected eventTypeCode ${EXPOSED_CREDENTIAL_CODES.join(', ')}` };
  }
  const eventArn = [detail.eventArn, input.id].find(
    (id): id is string => typeof id === 'string' && SAFE_ID.test(id),
  );
  if (!eventArn) return { ok: false, why: 'expected detail.eventArn' };
  const entities = Array.isArray(detail.affectedEntities) ? detail.affectedEntities : [];
  const candidates = [
    ...entities.map((e) => (isObject(e) ? e.entityValue : undefined)),
    ...(Array.isArray(input.resources) ? input.resources : []),
  ];
  const accessKeyIds = [
    ...new Set(
      candidates.filter(
        (v): v is string =>
          typeof v === 'string' &&
          kinds.some((kind) => kind.capabilities.healthEvents!.entity.test(v)),
      ),
    ),
  ];
  if (accessKeyIds.length === 0) return { ok: false, why: 'the event names no access key ID' };
  return { ok: true, event: { kind: 'health', code, eventArn, accessKeyIds } };
}

export interface KeyFinderDeps {
  catalog: Pick<SecretCatalog, 'listTagged'>;
  store: Pick<SecretStore, 'getValue'>;
  issuerFor: (kindTag: string | undefined, secret: { arn: string; name: string }) => Issuer;
}

/**
 * The managed secrets whose live versions hold `accessKeyId`. Only secrets of the kinds that react
 * to Health events are read, and only their labelled versions; values stay in this function.
 */
export async function findSecretsHoldingKey(
  accessKeyId: string,
  deps: KeyFinderDeps,
): Promise<SecretDescription[]> {
  return (await findSecretsHoldingKeys(new Set([accessKeyId]), deps)).get(accessKeyId) ?? [];
}

/**
 * For each of `accessKeyIds`, the managed secrets (of the kinds that react to Health events) whose
 * live versions hold it, in one pass over those secrets: the cost is the number of managed keys,
 * not of keys asked about.
 */
export async function findSecretsHoldingKeys(
  accessKeyIds: ReadonlySet<string>,
  deps: KeyFinderDeps,
): Promise<Map<string, SecretDescription[]>> {
  const found = new Map<string, SecretDescription[]>();
  const kinds = new Set(healthEventKinds());
  let nextToken: string | undefined;
  do {
    const page = await deps.catalog.listTagged(TAG.kind, nextToken);
    for (const secret of page.secrets) {
      const kindTag = secret.tags[TAG.kind];
      const kind = kindTag === undefined ? undefined : kindOf(kindTag);
      if (!kind || !kinds.has(kind) || secret.tags[TAG.lifespan] === undefined) continue;
      const issuer = deps.issuerFor(kindTag, secret);
      const held = new Set<string>();
      for (const [versionId, stages] of Object.entries(secret.versions)) {
        if (!stages.some((s) => s === STAGE.current || s === STAGE.previous || s === STAGE.pending))
          continue;
        const value = await deps.store.getValue(secret.arn, { versionId });
        const name = value === undefined ? undefined : safeName(issuer, value);
        if (name !== undefined && accessKeyIds.has(name)) held.add(name);
      }
      for (const key of held) found.set(key, [...(found.get(key) ?? []), secret]);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return found;
}

function safeName(issuer: Issuer, value: string): string | undefined {
  try {
    return issuer.name(value);
  } catch {
    return undefined;
  }
}

export interface RevokeEventDeps extends RevokeDeps {
  catalog: RevokeDeps['catalog'] & Pick<SecretCatalog, 'listTagged'>;
  audit: AuditLog;
}

export type RevokeEventOutcome =
  | RevokeOutcome
  | { status: 'ignored'; secretArn: string; secretName: string; message: string };

/** Runs the revoke(s) an event asks for. Throws on failure, so EventBridge delivers it again. */
export async function handleRevokeEvent(
  event: RevokeEvent,
  deps: RevokeEventDeps,
): Promise<RevokeEventOutcome[]> {
  if (event.kind === 'tag') {
    return [
      await revokeSecret(
        {
          secretId: event.secretId,
          reason: event.reason,
          mode: 'reissue',
          trigger: { source: 'tag', ...(event.principal ? { principal: event.principal } : {}) },
          requestKey: `tag:${event.eventId}`,
          requireTag: true,
          detail: { eventId: event.eventId },
        },
        deps,
      ),
    ];
  }
  return handleHealthEvent(event, deps);
}

/** Who asked, in a Health event's records. */
const HEALTH_TRIGGER = { source: 'health' as const, principal: 'aws.health' };

/** Secrets revoked per delivery of one Health event; the rest wait for the next delivery. */
export const MAX_HEALTH_REVOKES_PER_INVOCATION = 20;

/** A Health event is already handled, part of it: thrown so that EventBridge delivers it again. */
export class HealthEventPartlyHandled extends Error {
  override readonly name = 'HealthEventPartlyHandled';
}

/**
 * A Health event may name any number of keys (one naming thousands is hostile or a mass leak). Its
 * work is bounded per delivery: one pass over the managed secrets finds every holder, keys no
 * managed secret holds make one record, at most MAX_HEALTH_REVOKES_PER_INVOCATION secrets are
 * revoked one after another, and one summary alert says what was and was not done. Secrets left
 * over are revoked on the next delivery (this one throws, so EventBridge retries): by then the
 * secrets already revoked no longer hold the keys, so each delivery carries on where the last
 * stopped.
 */
async function handleHealthEvent(
  event: Extract<RevokeEvent, { kind: 'health' }>,
  deps: RevokeEventDeps,
): Promise<RevokeEventOutcome[]> {
  const outcomes: RevokeEventOutcome[] = [];
  const failures: string[] = [];
  const trigger = HEALTH_TRIGGER;
  const holders = await findSecretsHoldingKeys(new Set(event.accessKeyIds), deps);
  const unheld = event.accessKeyIds.filter((key) => !holders.has(key));
  if (unheld.length > 0) outcomes.push(await recordUnheld(event, unheld, deps));
  // One revoke per secret, whatever number of the named keys it holds.
  const secrets = new Map<string, { secret: SecretDescription; keys: string[] }>();
  for (const [key, list] of holders) {
    for (const secret of list) {
      const entry = secrets.get(secret.arn) ?? { secret, keys: [] };
      entry.keys.push(key);
      secrets.set(secret.arn, entry);
    }
  }
  const all = [...secrets.values()];
  const batch = all.slice(0, MAX_HEALTH_REVOKES_PER_INVOCATION);
  let revoked = 0;
  for (const { secret, keys } of batch) {
    try {
      const outcome = await revokeSecret(
        {
          secretId: secret.arn,
          reason: `AWS Health ${event.code}: access key ${listKeys(keys)} reported exposed`,
          mode: 'reissue',
          trigger,
          requestKey: `health:${event.eventArn}`,
          detail: {
            healthEvent: event.code,
            healthEventArn: event.eventArn,
            accessKeyId: listKeys(keys),
          },
        },
        deps,
      );
      if (outcome.status === 'completed') revoked++;
      outcomes.push(outcome);
    } catch (error) {
      // One secret's failure (already audited and alerted) must not stop the others.
      failures.push(`${secret.name}: ${describeError(error)}`);
    }
  }
  const left = all.length - batch.length;
  if (event.accessKeyIds.length > 1 || unheld.length > 0 || left > 0) {
    await summarize(event, deps, {
      keys: event.accessKeyIds.length,
      unheld,
      secrets: all.length,
      revoked,
      failed: failures.length,
      left,
    });
  }
  if (failures.length > 0) throw new Error(`revoke: ${failures.join('; ')}`);
  if (left > 0) {
    throw new HealthEventPartlyHandled(
      `revoke: AWS Health ${event.code} (${event.eventArn}) names keys held by ${all.length} managed secrets; ${batch.length} were handled in this delivery and ${left} are left for the next one`,
    );
  }
  return outcomes;
}

/** Keys no managed secret holds: one record on the Health event's own chain, nothing revoked. */
async function recordUnheld(
  event: Extract<RevokeEvent, { kind: 'health' }>,
  unheld: string[],
  deps: RevokeEventDeps,
): Promise<RevokeEventOutcome> {
  const message = `AWS Health ${event.code} names ${unheld.length === 1 ? `access key ${unheld[0]}` : `${unheld.length} access keys`}, which no secret managed by token-rotation holds; nothing was done`;
  // No secret to attach it to: the record goes on the Health event's own chain.
  await deps.audit.append({
    event: 'revoke.ignored',
    outcome: 'skipped',
    secretArn: event.eventArn,
    secretName:
      unheld.length === 1 ? `(access key ${unheld[0]})` : `(${unheld.length} access keys)`,
    tokens: { reported: listKeys(unheld) },
    trigger: HEALTH_TRIGGER,
    detail: { why: message, healthEvent: event.code, keys: unheld.length },
  });
  return {
    status: 'ignored',
    secretArn: event.eventArn,
    secretName: unheld.length === 1 ? unheld[0]! : `${unheld.length} access keys`,
    message,
  };
}

/** One alert per Health event delivery: what it named, what was revoked, what is left. */
async function summarize(
  event: Extract<RevokeEvent, { kind: 'health' }>,
  deps: RevokeEventDeps,
  counts: Omit<AlertFields['health.exposed-keys'], 'eventArn' | 'code'>,
): Promise<void> {
  try {
    await deps.alerter.send(
      alertOf('health.exposed-keys', { eventArn: event.eventArn, code: event.code, ...counts }),
    );
  } catch (error) {
    deps.log?.warn('revoke: could not send the Health event summary', {
      eventArn: event.eventArn,
      error: describeError(error),
    });
  }
}
