// The event triggers of the emergency revoke: a CloudTrail TagResource that sets
// token-rotation:revoke (the requester is the event's principal), and AWS Health exposed-credential
// events naming an access key that a managed `iam-access-key` secret holds. Both end in revoke.ts.
//
// Health events are matched on their type code, not the service (the codes below are the RISK
// family that names IAM access keys in affectedEntities). The secret holding a key is found among
// opted-in secrets tagged `iam-access-key` only (listed by tag, values read for those alone); a key
// no managed secret holds is audited as revoke.ignored, against the Health event's ARN, and dropped.

import { describeError } from './errors.ts';
import type { AuditLog, Issuer, SecretCatalog, SecretDescription, SecretStore } from './ports.ts';
import { type RevokeDeps, type RevokeOutcome, revokeSecret } from './revoke.ts';
import { STAGE, TAG } from './vocabulary.ts';

/** AWS Health event type codes that report an access key as exposed or compromised. */
export const EXPOSED_CREDENTIAL_CODES = [
  'AWS_RISK_CREDENTIALS_EXPOSED',
  'AWS_RISK_CREDENTIALS_EXPOSURE_SUSPECTED',
  'AWS_RISK_CREDENTIALS_COMPROMISED',
  'AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED',
  'AWS_RISK_IAM_QUARANTINE',
] as const;

const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;
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
  if (typeof code !== 'string' || !(EXPOSED_CREDENTIAL_CODES as readonly string[]).includes(code)) {
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
      candidates.filter((v): v is string => typeof v === 'string' && ACCESS_KEY_ID.test(v)),
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
 * The managed `iam-access-key` secrets whose live versions hold `accessKeyId`. Only secrets tagged
 * with that kind are read, and only their labelled versions; values stay in this function.
 */
export async function findSecretsHoldingKey(
  accessKeyId: string,
  deps: KeyFinderDeps,
): Promise<SecretDescription[]> {
  const found: SecretDescription[] = [];
  let nextToken: string | undefined;
  do {
    const page = await deps.catalog.listTagged(TAG.kind, nextToken);
    for (const secret of page.secrets) {
      if (
        secret.tags[TAG.kind]?.trim() !== 'iam-access-key' ||
        secret.tags[TAG.lifespan] === undefined
      )
        continue;
      const issuer = deps.issuerFor('iam-access-key', secret);
      for (const [versionId, stages] of Object.entries(secret.versions)) {
        if (!stages.some((s) => s === STAGE.current || s === STAGE.previous || s === STAGE.pending))
          continue;
        const value = await deps.store.getValue(secret.arn, { versionId });
        if (value !== undefined && safeName(issuer, value) === accessKeyId) {
          found.push(secret);
          break;
        }
      }
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
  const outcomes: RevokeEventOutcome[] = [];
  const failures: string[] = [];
  for (const accessKeyId of event.accessKeyIds) {
    const secrets = await findSecretsHoldingKey(accessKeyId, deps);
    const trigger = { source: 'health' as const, principal: 'aws.health' };
    if (secrets.length === 0) {
      const message = `AWS Health ${event.code} names access key ${accessKeyId}, which no secret managed by token-rotation holds; nothing was done`;
      // No secret to attach it to: the record goes on the Health event's own chain.
      await deps.audit.append({
        event: 'revoke.ignored',
        outcome: 'skipped',
        secretArn: event.eventArn,
        secretName: `(access key ${accessKeyId})`,
        tokens: { reported: accessKeyId },
        trigger,
        detail: { why: message, healthEvent: event.code },
      });
      outcomes.push({
        status: 'ignored',
        secretArn: event.eventArn,
        secretName: accessKeyId,
        message,
      });
      continue;
    }
    for (const secret of secrets) {
      try {
        outcomes.push(
          await revokeSecret(
            {
              secretId: secret.arn,
              reason: `AWS Health ${event.code}: access key ${accessKeyId} reported exposed`,
              mode: 'reissue',
              trigger,
              requestKey: `health:${event.eventArn}`,
              detail: { healthEvent: event.code, healthEventArn: event.eventArn, accessKeyId },
            },
            deps,
          ),
        );
      } catch (error) {
        // One secret's failure (already audited and alerted) must not stop the others.
        failures.push(`${secret.name}: ${describeError(error)}`);
      }
    }
  }
  if (failures.length > 0) throw new Error(`revoke: ${failures.join('; ')}`);
  return outcomes;
}
