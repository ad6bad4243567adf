// The first step of an emergency revoke: read the secret the request names, clean its reason and
// check it. A request refused here (no such secret, not managed, a bad reason or mode, a tag that
// would lift a quarantine) is audited and alerted and changes nothing.

import { describeError, errorCode, rememberSecret, scrub } from '../errors.ts';
import { displayValue } from '../policy.ts';
import type { AuditEntry, Issuer, SecretDescription, SecretStore } from '../ports.ts';
import { STAGE, TAG } from '../vocabulary.ts';
import { refuse, reportUnstarted } from './failure.ts';
import { liveVersions } from './live-versions.ts';
import { readQuarantineNotice } from './quarantine-notice.ts';
import {
  type CheckedRequest,
  DEFAULT_REVOKE_MODE,
  formKeys,
  MAX_REASON_LENGTH,
  REVOKE_MODES,
  type RevokeDeps,
  RevokeFailedError,
  type RevokeMode,
  type RevokeOutcome,
  type RevokeRequest,
  RevokeRequestError,
} from './types.ts';

/**
 * The reason as it is stored and shown: one line, no control characters, no secret material.
 * `known`: the secret's values (knownValues), scrubbed whatever their shape: a hand-set token
 * pasted into the reason is short or has punctuation as often as not.
 */
export function cleanReason(reason: string, known: Iterable<string> = []): string {
  return displayValue(
    scrub(reason.replace(/\s+/g, ' ').trim(), known),
    MAX_REASON_LENGTH + 1,
  ).trim();
}

/**
 * The values of a secret's labelled versions (AWSCURRENT, AWSPREVIOUS, AWSPENDING) and their
 * parts, for scrubbing a reason before it is recorded: the person asking often pastes the leaked
 * token. A version that cannot be read is left out (and logged); the revoke reads it again and
 * fails there if it must.
 */
export async function knownValues(
  store: Pick<SecretStore, 'getValue'>,
  secret: SecretDescription,
  log?: RevokeDeps['log'],
): Promise<Set<string>> {
  const known = new Set<string>();
  if (secret.deleted) return known;
  for (const { versionId } of liveVersions(secret, undefined)) {
    try {
      const value = await store.getValue(secret.arn, { versionId });
      if (value !== undefined) rememberSecret(known, value);
    } catch (error) {
      log?.warn('revoke: could not read a version to scrub the reason of it', {
        secretArn: secret.arn,
        versionId,
        error: describeError(error, known),
      });
    }
  }
  return known;
}

/** What is wrong with a request's reason and mode (empty when nothing is). Never quotes the reason. */
export function requestProblems(request: Pick<RevokeRequest, 'reason' | 'mode'>): string[] {
  const problems: string[] = [];
  const { reason, mode } = request;
  if (typeof reason !== 'string' || reason.trim() === '') {
    problems.push(
      `expected a reason (why the token must be revoked), found ${typeof reason === 'string' ? 'an empty one' : describeType(reason)}`,
    );
  } else if ([...reason.trim()].length > MAX_REASON_LENGTH) {
    problems.push(
      `expected a reason of at most ${MAX_REASON_LENGTH} characters, found ${[...reason.trim()].length}`,
    );
  }
  if (mode !== undefined && !(REVOKE_MODES as readonly unknown[]).includes(mode)) {
    const shown =
      typeof mode === 'string' ? `"${displayValue(scrub(mode), 40)}"` : describeType(mode);
    problems.push(`expected mode ${REVOKE_MODES.join(' or ')}, found ${shown}`);
  }
  return problems;
}

function describeType(value: unknown): string {
  if (value === undefined) return 'none';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** The adapters translate AWS's errors (adapters/aws-errors.ts): here they are typed. */
const isNotFound = (error: unknown) => errorCode(error) === 'not-found';

/** The mode asked for; an invalid one reads as the default here and is refused by the checks. */
function modeOf(request: RevokeRequest): { mode: RevokeMode; modeOk: boolean } {
  const modeOk =
    request.mode === undefined || (REVOKE_MODES as readonly unknown[]).includes(request.mode);
  const mode = modeOk
    ? ((request.mode as RevokeMode | undefined) ?? DEFAULT_REVOKE_MODE)
    : DEFAULT_REVOKE_MODE;
  return { mode, modeOk };
}

/** The secret the request names. Throws (audited and alerted) when it cannot be read. */
async function readSecret(request: RevokeRequest, deps: RevokeDeps): Promise<SecretDescription> {
  try {
    return await deps.store.describe(request.secretId);
  } catch (error) {
    const { mode, modeOk } = modeOf(request);
    // No ARN or name to key the record by but the one asked for: its chain holds the attempt.
    const asked = displayValue(scrub(request.secretId), 200);
    const asReason = typeof request.reason === 'string' ? cleanReason(request.reason) : '';
    const failure = isNotFound(error)
      ? new RevokeRequestError(
          asked,
          'revoke',
          'expected an existing secret (its name or ARN), found no such secret in this account and region; nothing was changed',
          'not-found',
        )
      : new RevokeFailedError(
          `${asked}: revoke: failed at describe: ${describeError(error)}. Nothing was revoked or changed`,
          [],
          [],
        );
    const refused = failure instanceof RevokeRequestError;
    await reportUnstarted(
      deps,
      request,
      { arn: asked, name: asked },
      failure,
      {
        ...request.detail,
        mode: modeOk ? mode : 'invalid',
        ...(asReason ? { reason: asReason } : {}),
        ...(refused ? { refused: 'not-found' } : { failedAt: 'describe' }),
      },
      `${refused ? 'refused' : 'failed'}:${request.requestKey ?? formKeys(mode, asReason, deps.clock())[0]}`,
    );
    throw failure;
  }
}

/**
 * Reads and checks the request: the checked request, or `ignored` (a tag already handled).
 * Throws a RevokeRequestError (refused, audited and alerted) or a RevokeFailedError.
 */
export async function checkRequest(
  request: RevokeRequest,
  deps: RevokeDeps,
): Promise<CheckedRequest | Extract<RevokeOutcome, { status: 'ignored' }>> {
  const secret = await readSecret(request, deps);
  const { mode, modeOk } = modeOf(request);
  // The tag trigger's reason is the tag as it is now on the secret (the event may omit its value).
  const rawReason =
    request.requireTag && secret.tags[TAG.revoke] !== undefined
      ? secret.tags[TAG.revoke]
      : request.reason;
  const known =
    typeof rawReason === 'string' && rawReason.trim() !== ''
      ? await knownValues(deps.store, secret, deps.log)
      : new Set<string>();
  const reason = typeof rawReason === 'string' ? cleanReason(rawReason, known) : '';
  const checked: Omit<CheckedRequest, 'issuer'> = {
    request,
    secret,
    mode,
    reason,
    known,
    detail: { ...request.detail, mode: modeOk ? mode : 'invalid', ...(reason ? { reason } : {}) },
    entry: (e): AuditEntry => ({
      secretArn: secret.arn,
      secretName: secret.name,
      trigger: request.trigger,
      ...e,
    }),
    stackName: deps.stackName ?? 'TokenRotation',
  };
  if (secret.deleted) {
    return refuse(checked, deps, 'deleted', [
      'expected a secret in use, found it scheduled for deletion',
    ]);
  }
  if (request.requireTag && secret.tags[TAG.revoke] === undefined) {
    const message = `the tag ${TAG.revoke} is no longer on the secret: the revoke it asked for has already run`;
    await deps.audit.append(
      checked.entry({
        event: 'revoke.ignored',
        outcome: 'skipped',
        detail: { ...checked.detail, why: message },
      }),
    );
    return { status: 'ignored', secretArn: secret.arn, secretName: secret.name, message };
  }
  await refuseUnfit(checked, rawReason, deps);
  let issuer: Issuer;
  try {
    issuer = deps.issuerFor(secret.tags[TAG.kind], { arn: secret.arn, name: secret.name });
  } catch (error) {
    return refuse(checked, deps, 'unknown-kind', [describeError(error)]);
  }
  return { ...checked, issuer };
}

/** Refuses (throws) a request the secret or its own fields make impossible to carry out. */
async function refuseUnfit(
  checked: Omit<CheckedRequest, 'issuer'>,
  rawReason: unknown,
  deps: RevokeDeps,
): Promise<void> {
  const { secret, request, mode } = checked;
  // A tag always asks for a reissue, and reissuing a quarantined secret restores service: that is
  // a person's explicit decision, never a tag's (one set while the quarantine ran is left behind
  // by it, and the sweep hands it over later under a new request key). The quarantine already
  // covers the leak the tag reports, so the tag is taken off as handled.
  if (request.requireTag && mode === 'reissue') {
    const current = await deps.store.getValue(secret.arn, { stage: STAGE.current });
    const notice = current === undefined ? undefined : readQuarantineNotice(current);
    if (notice) {
      const untagged = await deps.catalog.untag(secret.arn, [TAG.revoke]).then(
        () => `the tag ${TAG.revoke} was taken off (the quarantine covers it)`,
        (error: unknown) =>
          `the tag ${TAG.revoke} could not be taken off (${describeError(error)}): remove it by hand`,
      );
      await refuse(
        checked,
        deps,
        'quarantined',
        [
          `expected a secret holding a token to reissue, found it quarantined by revoke ${notice.revokeId ?? '(unknown)'} (AWSCURRENT holds the quarantine notice): a revoke tag does not restore service`,
        ],
        `nothing was revoked or reissued; ${untagged}`,
      );
    }
  }
  const problems = requestProblems({ reason: rawReason, mode: request.mode });
  if (problems.length > 0) await refuse(checked, deps, 'invalid-request', problems);
  if (secret.tags[TAG.lifespan] === undefined) {
    await refuse(checked, deps, 'not-opted-in', [
      `expected the secret to be managed by token-rotation (tag ${TAG.lifespan}), found no such tag`,
    ]);
  }
}
