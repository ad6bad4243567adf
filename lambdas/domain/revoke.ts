// The emergency revoke (SPEC "Emergency revoke"): one code path behind the tag, the runbook, a
// direct invoke and AWS Health events. It revokes every live token of a secret at its issuer with
// no grace, then reissues a fresh token at once or quarantines the secret, audited and alerted.
//
// Order: audit revoke.requested; revoke each labelled version (AWSCURRENT, AWSPREVIOUS,
// AWSPENDING) at its issuer; put the new version (a fresh token, or the quarantine notice) and
// make it AWSCURRENT; remove AWSPREVIOUS and AWSPENDING from every other version, so that no staged
// version holds a revoked token (for `random`, that is what revoked means); check the labels once
// more and repeat for anything a concurrent rotation staged meanwhile; remove the revoke tag and set
// token-rotation:last-revoked; audit revoke.completed; alert. A failure anywhere is audited and
// alerted as revoke.failed with what was and was not revoked, and the request may be run again.
//
// Same request twice, or two at once: a lock per secret (RevokeLockStore, a conditional write on a
// STATE# item) lets one revoke run. A request is the same as one that completed when its key is:
// an event's ID (tag event, Health event), or, for forms (runbook, direct invoke), the mode and
// reason within REPEAT_WINDOW_MS (10 to 20 minutes: the time bucket and the one before it). A
// deliberate second revoke soon after the first gives another reason.
//
// Quarantine. A secret always has an AWSCURRENT version, so "no valid token" is a value: the
// quarantine notice, a multi-line JSON object `{"token-rotation": "quarantined", "message",
// "revokedAt", "revokeId", "restoreFrom", "restore"}` with no token field in it. Consumers fail
// closed: a JSON consumer finds no `token` (or `accessKeyId`) field, and a consumer that uses the
// bare value as a token cannot send it (line breaks are not allowed in HTTP header values) nor match
// it against anything a client can send. A person reading the secret sees why and what to do. To
// restore service, a person runs a revoke in mode `reissue` on the quarantined secret: the notice
// holds no token to revoke, and the fresh token is minted from the version named by `restoreFrom`
// (the last real AWSCURRENT, unlabelled but kept by Secrets Manager, its token already revoked) so
// the prefix and carried fields survive. A scheduled rotation does not restore service: it fails
// on the notice (rotation.failed) rather than quietly bring tokens back.

import { createHash, randomUUID } from 'node:crypto';
import { describeError, rememberSecret, scrub, ValidationError } from './errors.ts';
import { displayValue } from './policy.ts';
import type {
  Alert,
  Alerter,
  AlertOutcome,
  AuditEntry,
  AuditLog,
  Clock,
  Issuer,
  QueuedRevoke,
  RevokeLockStore,
  SecretCatalog,
  SecretDescription,
  SecretStore,
} from './ports.ts';
import { ALERT_SEVERITY, STAGE, TAG, type Trigger } from './vocabulary.ts';

export const REVOKE_MODES = ['reissue', 'quarantine'] as const;
export type RevokeMode = (typeof REVOKE_MODES)[number];
export const DEFAULT_REVOKE_MODE: RevokeMode = 'reissue';
/**
 * How strong each mode is. A request arriving while a revoke of the same secret runs is compared
 * with it by mode alone, whatever the triggers (tag, runbook, direct invoke, Health event, sweep):
 * as strong or weaker, it joins the running one (which covers it); stronger, it is queued on the
 * lock and carried out right after, by the running revoke. See README "Emergency revoke".
 */
export const MODE_STRENGTH: Record<RevokeMode, number> = { reissue: 1, quarantine: 2 };

/** As long as a tag value may be, so every trigger accepts the same reasons. */
export const MAX_REASON_LENGTH = 256;
/** A form request repeated within 10 to 20 minutes (two buckets) is the same request. */
export const REPEAT_WINDOW_MS = 10 * 60_000;
/** A running revoke older than this crashed (the function's timeout is far shorter). */
export const REVOKE_STALE_MS = 15 * 60_000;
/** Label checks before giving up on a secret whose labels keep changing under us. */
const MAX_ROUNDS = 5;
/** Claims of the lock when the revoke it found running finishes before the request is queued. */
const MAX_CLAIM_ATTEMPTS = 3;
/** Attempts at one set of label moves when another writer (a rotation) moves labels meanwhile. */
const MAX_LABEL_ATTEMPTS = 5;

const QUARANTINE_MARK = 'quarantined';
const QUARANTINED = 'quarantine notice (no token)';
const LIVE_STAGES = [STAGE.current, STAGE.previous, STAGE.pending] as const;

export interface RevokeRequest {
  /** The secret's ARN or name. */
  secretId: string;
  /** Untrusted text from a person or an event. Validated and cleaned here. */
  reason: unknown;
  /** `reissue` (default) or `quarantine`; anything else is refused. */
  mode?: unknown;
  trigger: Trigger;
  /** What makes a repeat the same request (an event ID); absent for forms: mode and reason. */
  requestKey?: string;
  /** The tag trigger: the revoke tag must still be on the secret (gone: already handled). */
  requireTag?: boolean;
  /** Non-secret facts about the trigger for the audit record (event ID, execution ID). */
  detail?: Record<string, string>;
}

export interface RevokeDeps {
  store: SecretStore;
  /** Tagging (remove the revoke tag, set last-revoked). */
  catalog: Pick<SecretCatalog, 'tag' | 'untag'>;
  audit: AuditLog;
  alerter: Alerter;
  issuerFor: (kindTag: string | undefined, secret: { arn: string; name: string }) => Issuer;
  locks: RevokeLockStore;
  clock: Clock;
  /** For the runbook's name in the quarantine notice and alerts. */
  stackName?: string;
  newVersionId?: () => string;
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
}

/** One version the revoke dealt with, by non-secret names only. */
export interface RevokedVersion {
  versionId: string;
  /** The labels it had when found. */
  stages: string[];
  /** The token's non-secret name (access key ID, `fp:` fingerprint), or what the version held instead. */
  token: string;
}

export type RevokeOutcome =
  | {
      status: 'completed';
      revokeId: string;
      secretArn: string;
      secretName: string;
      mode: RevokeMode;
      revoked: RevokedVersion[];
      /** The new AWSCURRENT: the fresh token, or the quarantine notice. */
      newVersionId: string;
      alert: AlertOutcome | 'failed';
      /** A stronger request that arrived while this one ran, carried out right after it. */
      followedBy?: RevokeOutcome | { status: 'failed'; message: string };
    }
  | {
      status: 'queued';
      secretArn: string;
      secretName: string;
      /** The weaker revoke running now, which carries this request out when it finishes. */
      behind: string;
      message: string;
    }
  | {
      status: 'duplicate';
      secretArn: string;
      secretName: string;
      /** The revoke that did (or is doing) the work. */
      revokeId: string;
      state: 'running' | 'completed' | 'failed';
      message: string;
    }
  | { status: 'ignored'; secretArn: string; secretName: string; message: string };

/** A request refused before anything changed: the secret, what was expected, what was found. */
export class RevokeRequestError extends ValidationError {}

/** A revoke that failed part-way; already audited and alerted. */
export class RevokeFailedError extends Error {
  override readonly name = 'RevokeFailedError';
  constructor(
    message: string,
    readonly revoked: RevokedVersion[],
    readonly notRevoked: RevokedVersion[],
  ) {
    super(message);
  }
}

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

const isNotFound = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'ResourceNotFoundException' ||
    (error as { Code?: string }).Code === 'ResourceNotFoundException');

/**
 * UpdateSecretVersionStage refused a move because the label was no longer on the version we named:
 * someone (a rotation's finishSecret, Secrets Manager ending a rotation) moved it since we read.
 */
const isStageConflict = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'InvalidParameterException' ||
    (error as { Code?: string }).Code === 'InvalidParameterException') &&
  /not attached to version|is currently attached to version/i.test(error.message);

const versionWith = (secret: SecretDescription, stage: string) =>
  Object.entries(secret.versions).find(([, stages]) => stages.includes(stage))?.[0];

/** Labelled versions that hold (or may hold) a live token, newest label first. */
function liveVersions(secret: SecretDescription, except: string | undefined) {
  return Object.entries(secret.versions)
    .filter(
      ([id, stages]) =>
        id !== except && stages.some((s) => (LIVE_STAGES as readonly string[]).includes(s)),
    )
    .map(([versionId, stages]) => ({ versionId, stages: [...stages] }));
}

/** The form's key: mode and reason, in a time bucket; the bucket before it counts as the same. */
function formKeys(mode: RevokeMode, reason: string, now: Date): [string, string] {
  const hash = createHash('sha256').update(`${mode}\n${reason}`, 'utf8').digest('hex').slice(0, 32);
  const bucket = Math.floor(now.getTime() / REPEAT_WINDOW_MS);
  return [`form:${bucket}:${hash}`, `form:${bucket - 1}:${hash}`];
}

/** The quarantine notice a quarantined secret holds (see the module header), or undefined. */
export function readQuarantineNotice(
  value: string,
): { restoreFrom: string; revokeId?: string } | undefined {
  if (!value.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(value) as Record<string, unknown>;
    if (parsed?.['token-rotation'] !== QUARANTINE_MARK || typeof parsed.restoreFrom !== 'string') {
      return undefined;
    }
    return {
      restoreFrom: parsed.restoreFrom,
      ...(typeof parsed.revokeId === 'string' ? { revokeId: parsed.revokeId } : {}),
    };
  } catch {
    return undefined;
  }
}

export function quarantineNotice(options: {
  revokeId: string;
  at: Date;
  restoreFrom: string;
  stackName: string;
}): string {
  const runbook = `${options.stackName}-EmergencyRevoke`;
  return JSON.stringify(
    {
      'token-rotation': QUARANTINE_MARK,
      message:
        'Every token of this secret was revoked in an emergency and none is valid: it is quarantined until a person acts. See the tag token-rotation:last-revoked and the audit trail for who asked and why.',
      revokedAt: options.at.toISOString(),
      revokeId: options.revokeId,
      restoreFrom: options.restoreFrom,
      restore: `Run the Systems Manager runbook ${runbook} on this secret with Mode reissue: a fresh token is minted from version ${options.restoreFrom} (whose own token stays revoked).`,
    },
    null,
    2,
  );
}

/** Revokes every live token of one secret. See the module header. */
export async function revokeSecret(
  request: RevokeRequest,
  deps: RevokeDeps,
): Promise<RevokeOutcome> {
  const { store, audit, clock } = deps;
  const stackName = deps.stackName ?? 'TokenRotation';
  const modeOk =
    request.mode === undefined || (REVOKE_MODES as readonly unknown[]).includes(request.mode);
  const mode: RevokeMode = modeOk
    ? ((request.mode as RevokeMode | undefined) ?? DEFAULT_REVOKE_MODE)
    : DEFAULT_REVOKE_MODE;

  let secret: SecretDescription;
  try {
    secret = await store.describe(request.secretId);
  } catch (error) {
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
    await reportUnstarted(
      deps,
      request,
      { arn: asked, name: asked },
      failure,
      {
        ...request.detail,
        mode: modeOk ? mode : 'invalid',
        ...(asReason ? { reason: asReason } : {}),
        ...(failure instanceof RevokeRequestError
          ? { refused: 'not-found' }
          : { failedAt: 'describe' }),
      },
      `${failure instanceof RevokeRequestError ? 'refused' : 'failed'}:${request.requestKey ?? formKeys(mode, asReason, clock())[0]}`,
    );
    throw failure;
  }
  // The tag trigger's reason is the tag as it is now on the secret (the event may omit its value).
  const rawReason =
    request.requireTag && secret.tags[TAG.revoke] !== undefined
      ? secret.tags[TAG.revoke]
      : request.reason;
  const problems = requestProblems({ reason: rawReason, mode: request.mode });
  const known =
    typeof rawReason === 'string' && rawReason.trim() !== ''
      ? await knownValues(store, secret, deps.log)
      : new Set<string>();
  const reason = typeof rawReason === 'string' ? cleanReason(rawReason, known) : '';
  const ref = { arn: secret.arn, name: secret.name };
  const detail = {
    ...request.detail,
    mode: modeOk ? mode : 'invalid',
    ...(reason ? { reason } : {}),
  };
  const entry = (e: Omit<AuditEntry, 'secretArn' | 'secretName' | 'trigger'>): AuditEntry => ({
    secretArn: secret.arn,
    secretName: secret.name,
    trigger: request.trigger,
    ...e,
  });

  // Refusals: audited and alerted (a revoke someone asked for did not happen), nothing changed.
  const refuse = async (
    code: string,
    what: string[],
    changed = 'nothing was revoked or changed',
  ): Promise<never> => {
    const message = `${what.join('; ')}; ${changed}`;
    await audit.append(
      entry({
        event: 'revoke.failed',
        outcome: 'failed',
        error: message,
        detail: { ...detail, reason: reason || '(none)', refused: code },
      }),
    );
    await safeAlert(deps, {
      event: 'revoke.failed',
      severity: ALERT_SEVERITY['revoke.failed'] ?? 'critical',
      secretArn: secret.arn,
      secretName: secret.name,
      incident: `refused:${request.requestKey ?? formKeys(mode, reason, clock())[0]}`,
      summary: `An emergency revoke of ${secret.name} was refused: nothing was revoked.`,
      reason: message,
      nextSteps: [
        code === 'quarantined'
          ? 'The secret stays quarantined: it holds no valid token.'
          : 'The tokens of this secret are unchanged and still valid.',
        ...refusalSteps(code, stackName),
      ],
      trigger: request.trigger,
    });
    throw new RevokeRequestError(secret.name, 'revoke', message, code);
  };

  if (secret.deleted) {
    return refuse('deleted', ['expected a secret in use, found it scheduled for deletion']);
  }
  if (request.requireTag && secret.tags[TAG.revoke] === undefined) {
    const message = `the tag ${TAG.revoke} is no longer on the secret: the revoke it asked for has already run`;
    await audit.append(
      entry({ event: 'revoke.ignored', outcome: 'skipped', detail: { ...detail, why: message } }),
    );
    return { status: 'ignored', secretArn: secret.arn, secretName: secret.name, message };
  }
  // A tag always asks for a reissue, and reissuing a quarantined secret restores service: that is
  // a person's explicit decision, never a tag's (one set while the quarantine ran is left behind
  // by it, and the sweep hands it over later under a new request key). The quarantine already
  // covers the leak the tag reports, so the tag is taken off as handled.
  if (request.requireTag && mode === 'reissue') {
    const current = await store.getValue(secret.arn, { stage: STAGE.current });
    const notice = current === undefined ? undefined : readQuarantineNotice(current);
    if (notice) {
      const untagged = await deps.catalog.untag(secret.arn, [TAG.revoke]).then(
        () => `the tag ${TAG.revoke} was taken off (the quarantine covers it)`,
        (error: unknown) =>
          `the tag ${TAG.revoke} could not be taken off (${describeError(error)}): remove it by hand`,
      );
      return refuse(
        'quarantined',
        [
          `expected a secret holding a token to reissue, found it quarantined by revoke ${notice.revokeId ?? '(unknown)'} (AWSCURRENT holds the quarantine notice): a revoke tag does not restore service`,
        ],
        `nothing was revoked or reissued; ${untagged}`,
      );
    }
  }
  if (problems.length > 0) return refuse('invalid-request', problems);
  if (secret.tags[TAG.lifespan] === undefined) {
    return refuse('not-opted-in', [
      `expected the secret to be managed by token-rotation (tag ${TAG.lifespan}), found no such tag`,
    ]);
  }
  let issuer: Issuer;
  try {
    issuer = deps.issuerFor(secret.tags[TAG.kind], ref);
  } catch (error) {
    return refuse('unknown-kind', [describeError(error)]);
  }

  // The lock: one revoke of this secret at a time, and each request once.
  const now = clock();
  const revokeId = randomUUID();
  const [key, previousKey] = request.requestKey
    ? [request.requestKey, request.requestKey]
    : formKeys(mode, reason, now);
  const requester = `${request.trigger.source}${request.trigger.principal ? ` by ${request.trigger.principal}` : ''}`;
  let claim: Awaited<ReturnType<RevokeLockStore['claim']>>;
  for (let attempt = 1; ; attempt++) {
    try {
      claim = await deps.locks.claim(
        secret.arn,
        { revokeId, requestKey: key, mode, requester, startedAt: now.toISOString() },
        {
          sameRequestKeys: [key, previousKey],
          staleBefore: new Date(now.getTime() - REVOKE_STALE_MS),
        },
      );
    } catch (error) {
      // The claim may have gone through with its answer lost: release it if it is ours, so that
      // running the request again is not taken for a revoke still running.
      await deps.locks
        .finish(secret.arn, { revokeId, requestKey: key }, 'failed', clock())
        .catch(() => undefined);
      const failure = new RevokeFailedError(
        `${secret.name}: revoke: failed at lock: ${describeError(error)}. Nothing was revoked or changed`,
        [],
        [],
      );
      await reportUnstarted(
        deps,
        request,
        ref,
        failure,
        {
          ...detail,
          revokeId,
          failedAt: 'lock',
        },
        failedIncident(key, [], []),
      );
      throw failure;
    }
    if (claim.status === 'claimed') break;
    const by = claim.by;
    const stronger =
      by.state === 'running' && MODE_STRENGTH[mode] > (MODE_STRENGTH[by.mode as RevokeMode] ?? 0);
    if (!stronger) {
      const message =
        by.state !== 'running'
          ? `this request is a repeat of revoke ${by.revokeId} (${by.mode}, ${by.requester}), completed at ${by.finishedAt ?? by.startedAt}; nothing was done again. To revoke again now, give another reason`
          : by.mode === mode
            ? `a revoke of this secret (${by.revokeId}, ${by.mode}, ${by.requester}) has been running since ${by.startedAt}; this request joins it and does nothing more`
            : `a stronger revoke of this secret (${by.revokeId}, ${by.mode}, ${by.requester}) has been running since ${by.startedAt}; it covers this ${mode} request, which does nothing more. To restore service after a quarantine, run a reissue once it has completed`;
      await audit.append(
        entry({
          event: 'revoke.requested',
          outcome: 'skipped',
          detail: { ...detail, duplicateOf: by.revokeId, why: message },
        }),
      );
      return {
        status: 'duplicate',
        secretArn: secret.arn,
        secretName: secret.name,
        revokeId: by.revokeId,
        state: by.state,
        message,
      };
    }
    // Stronger than the revoke running: queued on its lock, carried out by it when it finishes.
    let queued: Awaited<ReturnType<RevokeLockStore['queue']>>;
    try {
      queued = await deps.locks.queue(secret.arn, by.revokeId, {
        mode,
        reason,
        trigger: request.trigger,
        requestKey: key,
        detail: request.detail ?? {},
        queuedAt: now.toISOString(),
      });
    } catch (error) {
      const failure = new RevokeFailedError(
        `${secret.name}: revoke: failed at queue (behind the ${by.mode} revoke ${by.revokeId} running now): ${describeError(error)}. This ${mode} request was not carried out: run it again once that revoke has completed`,
        [],
        [],
      );
      await reportUnstarted(
        deps,
        request,
        ref,
        failure,
        { ...detail, revokeId, failedAt: 'queue', runningRevoke: by.revokeId },
        failedIncident(key, [], []),
      );
      throw failure;
    }
    if (queued === 'not-running' && attempt < MAX_CLAIM_ATTEMPTS) continue;
    const message =
      queued === 'queued'
        ? `a ${by.mode} revoke of this secret (${by.revokeId}, ${by.requester}) has been running since ${by.startedAt}; this stronger ${mode} request is queued behind it and carried out as soon as it finishes`
        : queued === 'already-queued'
          ? `a ${by.mode} revoke of this secret (${by.revokeId}, ${by.requester}) is running with a ${mode} request already queued behind it; this request joins that one`
          : `the lock of this secret kept changing hands (${by.revokeId} last); this ${mode} request was not carried out: run it again`;
    await audit.append(
      entry({
        event: 'revoke.requested',
        outcome: queued === 'queued' ? 'queued' : 'skipped',
        detail: { ...detail, queuedBehind: by.revokeId, why: message },
      }),
    );
    if (queued === 'not-running') {
      throw new RevokeFailedError(`${secret.name}: revoke: ${message}`, [], []);
    }
    return {
      status: 'queued',
      secretArn: secret.arn,
      secretName: secret.name,
      behind: by.revokeId,
      message,
    };
  }

  const work = new RevokeWork(secret, issuer, deps, revokeId, mode, stackName);
  for (const part of known) work.seen.add(part);
  try {
    await audit.append(
      entry({ event: 'revoke.requested', outcome: 'started', detail: { ...detail, revokeId } }),
    );
    await work.run();
    // Two calls, each touching only the suite's own tags: the tag-event path ignores both.
    work.stage = 'tag';
    if (secret.tags[TAG.revoke] !== undefined) await deps.catalog.untag(secret.arn, [TAG.revoke]);
    await deps.catalog.tag(secret.arn, { [TAG.lastRevoked]: clock().toISOString() });
    work.stage = 'audit';
    await audit.append(
      entry({
        event: 'revoke.completed',
        outcome: 'succeeded',
        versions: work.versionsByRole(),
        tokens: work.tokensByRole(),
        detail: { ...detail, revokeId, revokedVersions: work.revoked.length },
      }),
    );
  } catch (error) {
    const { failure, queued } = await reportFailure(
      error,
      work,
      request,
      deps,
      entry,
      detail,
      key,
      now,
    );
    // A stronger request queued behind this one is still carried out: it may well succeed.
    if (queued) await runQueued(queued, secret.arn, revokeId, deps);
    throw failure;
  }
  let stuck: string[] = [];
  const queued = await deps.locks
    .finish(secret.arn, { revokeId, requestKey: key }, 'completed', clock())
    .catch(async (error: unknown) => {
      stuck = await reportStuckLock(deps, entry, detail, revokeId, now, error);
      return undefined;
    });

  const alert = await safeAlert(deps, {
    event: 'revoke.completed',
    severity: ALERT_SEVERITY['revoke.completed'] ?? 'critical',
    secretArn: secret.arn,
    secretName: secret.name,
    incident: revokeId,
    versionId: work.newVersionId,
    summary:
      mode === 'reissue'
        ? `Emergency revoke of ${secret.name}: every live token was revoked and a fresh token is now AWSCURRENT (version ${work.newVersionId}).`
        : `Emergency revoke of ${secret.name}: every live token was revoked and the secret is quarantined: it holds no valid token until a person acts.`,
    reason: `Reason given: ${reason}`,
    nextSteps: [
      `Revoked: ${describeVersions(work.revoked)}.`,
      ...(mode === 'reissue'
        ? [
            'Consumers must read the secret again now: a cached copy holds a revoked token (caching clients refresh hourly by default; restart or refresh them).',
          ]
        : [
            'Consumers now fail closed: the secret holds a quarantine notice, not a token.',
            `Once the leak is dealt with, restore service: run the ${stackName}-EmergencyRevoke runbook on this secret with Mode reissue.`,
          ]),
      'Find how the token leaked: CloudTrail GetSecretValue calls on this secret, and where the token was used from.',
      ...stuck,
    ],
    trigger: request.trigger,
  });
  return {
    status: 'completed',
    revokeId,
    secretArn: secret.arn,
    secretName: secret.name,
    mode,
    revoked: work.revoked,
    newVersionId: work.newVersionId ?? '',
    alert,
    ...(queued ? { followedBy: await runQueued(queued, secret.arn, revokeId, deps) } : {}),
  };
}

/**
 * The lock of a revoke could not be released: it stays `running` until REVOKE_STALE_MS after the
 * revoke started, refusing rotations of the secret until then, and a request queued behind it is
 * not run by this revoke. Audited here; returns the lines the revoke's alert adds about it.
 */
async function reportStuckLock(
  deps: RevokeDeps,
  entry: (e: Omit<AuditEntry, 'secretArn' | 'secretName' | 'trigger'>) => AuditEntry,
  detail: Record<string, string>,
  revokeId: string,
  startedAt: Date,
  error: unknown,
): Promise<string[]> {
  const staleAt = new Date(startedAt.getTime() + REVOKE_STALE_MS).toISOString();
  const message = `the revoke completed, but its lock was not released: ${describeError(error)}. Rotations of this secret are refused until ${staleAt}, when the lock counts as stopped; a stronger request queued behind this revoke, if any, was not carried out by it: the next revoke of this secret takes the lock over and carries it out`;
  try {
    await deps.audit.append(
      entry({
        event: 'revoke.failed',
        outcome: 'failed',
        error: message,
        detail: { ...detail, revokeId, failedAt: 'release', revokeCompleted: 'true' },
      }),
    );
  } catch (auditError) {
    deps.log?.warn('revoke: could not audit the lock it could not release', {
      secretArn: entry({ event: 'revoke.failed', outcome: 'failed' }).secretArn,
      error: describeError(auditError),
    });
  }
  return stuckLockSteps(deps, startedAt, error);
}

/** What an alert says about a revoke lock that was not released (see `reportStuckLock`). */
function stuckLockSteps(deps: RevokeDeps, startedAt: Date, error: unknown): string[] {
  const staleAt = new Date(startedAt.getTime() + REVOKE_STALE_MS).toISOString();
  return [
    `The revoke lock of this secret was not released (${describeError(error)}): rotations are refused until ${staleAt}.`,
    `If a stronger request (quarantine) was queued behind this revoke, it was not carried out: run the ${deps.stackName ?? 'TokenRotation'}-EmergencyRevoke runbook on this secret in that mode now.`,
  ];
}

/** Carries out a request queued behind revoke `behind` (already audited and alerted either way). */
async function runQueued(
  queued: QueuedRevoke,
  secretArn: string,
  behind: string,
  deps: RevokeDeps,
): Promise<RevokeOutcome | { status: 'failed'; message: string }> {
  try {
    return await revokeSecret(
      {
        secretId: secretArn,
        reason: queued.reason,
        mode: queued.mode,
        trigger: queued.trigger,
        requestKey: queued.requestKey,
        detail: { ...queued.detail, queuedBehind: behind, queuedAt: queued.queuedAt },
      },
      deps,
    );
  } catch (error) {
    return { status: 'failed', message: describeError(error) };
  }
}

/**
 * Audits and alerts a revoke that failed before any work began (no secret found, the lock not
 * claimed): nothing was revoked. Never throws: the caller throws `failure` afterwards.
 */
async function reportUnstarted(
  deps: RevokeDeps,
  request: RevokeRequest,
  secret: { arn: string; name: string },
  failure: RevokeRequestError | RevokeFailedError,
  detail: Record<string, string>,
  /** See failedIncident. */
  incident: string,
): Promise<void> {
  const refused = failure instanceof RevokeRequestError;
  try {
    await deps.audit.append({
      event: 'revoke.failed',
      outcome: 'failed',
      secretArn: secret.arn,
      secretName: secret.name,
      trigger: request.trigger,
      error: failure.message,
      detail,
    });
  } catch (auditError) {
    deps.log?.warn('revoke: could not audit the failure', {
      secretArn: secret.arn,
      error: describeError(auditError),
    });
  }
  const stackName = deps.stackName ?? 'TokenRotation';
  await safeAlert(deps, {
    event: 'revoke.failed',
    severity: ALERT_SEVERITY['revoke.failed'] ?? 'critical',
    secretArn: secret.arn,
    secretName: secret.name,
    incident,
    summary: refused
      ? `An emergency revoke of ${secret.name} was refused: no such secret, nothing was revoked.`
      : `Emergency revoke of ${secret.name} failed at ${detail.failedAt} before revoking anything.`,
    reason: failure.message,
    nextSteps: refused
      ? [
          'No secret by this name or ARN exists in this account and region: check the SecretId (copy the ARN from the Secrets Manager console) and run the revoke again.',
        ]
      : [
          'Nothing was revoked: every token of this secret is still valid.',
          `Run the ${stackName}-EmergencyRevoke runbook on this secret again.`,
          'If it fails again, revoke the token at its issuer by hand and check the revoke function logs.',
        ],
    trigger: request.trigger,
  });
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

/**
 * An incident is what a person must know to act: which request failed and which tokens it left
 * revoked and not revoked. Retries of one request that end the same way are one incident (one
 * e-mail); a retry that leaves different lists is another, so the e-mail naming what is still
 * live is sent rather than swallowed as a duplicate of an earlier, now wrong one.
 */
function failedIncident(
  key: string,
  revoked: RevokedVersion[],
  notRevoked: RevokedVersion[],
): string {
  const ids = (versions: RevokedVersion[]) => versions.map((v) => v.versionId).join(',');
  return `failed:${key}:revoked=${ids(revoked)}:not-revoked=${ids(notRevoked)}`;
}

function describeVersions(versions: RevokedVersion[]): string {
  if (versions.length === 0) return 'no version';
  return versions
    .map(
      (v) =>
        `version ${v.versionId}${v.stages.length ? ` (${v.stages.join(', ')})` : ''}: ${v.token}`,
    )
    .join('; ');
}

async function safeAlert(deps: RevokeDeps, alert: Alert): Promise<AlertOutcome | 'failed'> {
  try {
    return await deps.alerter.send(alert);
  } catch (error) {
    deps.log?.warn('revoke: could not send the alert', {
      secretArn: alert.secretArn,
      event: alert.event,
      error: describeError(error),
    });
    return 'failed';
  }
}

async function reportFailure(
  error: unknown,
  work: RevokeWork,
  request: RevokeRequest,
  deps: RevokeDeps,
  entry: (e: Omit<AuditEntry, 'secretArn' | 'secretName' | 'trigger'>) => AuditEntry,
  detail: Record<string, string>,
  key: string,
  startedAt: Date,
): Promise<{ failure: RevokeFailedError; queued: QueuedRevoke | undefined }> {
  const text = describeError(error, work.seen);
  // Released first, so the record and the alert say whether it was: a lock left running refuses
  // rotations until it goes stale, and a request queued behind it is not run by this revoke.
  let stuck: string[] = [];
  const queued = await deps.locks
    .finish(work.secret.arn, { revokeId: work.revokeId, requestKey: key }, 'failed', deps.clock())
    .catch((releaseError: unknown) => {
      stuck = stuckLockSteps(deps, startedAt, releaseError);
      return undefined;
    });
  await work.settleAfterFailure().catch((settleError: unknown) => {
    deps.log?.warn('revoke: could not read the labels after the failure', {
      secretArn: work.secret.arn,
      error: describeError(settleError, work.seen),
    });
  });
  const notRevoked = work.notRevoked();
  const message = `${work.secret.name}: revoke: failed at ${work.stage}: ${text}. Revoked: ${describeVersions(work.revoked)}. Not revoked: ${describeVersions(notRevoked)}${stuck.length ? `. ${stuck.join(' ')}` : ''}`;
  try {
    await deps.audit.append(
      entry({
        event: 'revoke.failed',
        outcome: 'failed',
        error: scrub(message, work.seen),
        versions: work.versionsByRole(),
        tokens: work.tokensByRole(),
        detail: { ...detail, revokeId: work.revokeId, failedAt: work.stage },
      }),
    );
  } catch (auditError) {
    deps.log?.warn('revoke: could not audit the failure', {
      secretArn: work.secret.arn,
      error: describeError(auditError, work.seen),
    });
  }
  await safeAlert(deps, {
    event: 'revoke.failed',
    severity: ALERT_SEVERITY['revoke.failed'] ?? 'critical',
    secretArn: work.secret.arn,
    secretName: work.secret.name,
    incident: failedIncident(key, work.revoked, notRevoked),
    summary: `Emergency revoke of ${work.secret.name} failed at ${work.stage}.`,
    reason: text,
    nextSteps: [
      `Revoked: ${describeVersions(work.revoked)}.`,
      `NOT revoked: ${describeVersions(notRevoked)}.`,
      `Run the ${work.stackName}-EmergencyRevoke runbook on this secret again: it revokes whatever is left.`,
      'If it fails again, revoke the token at its issuer by hand and check the revoke function logs.',
      ...stuck,
    ],
    trigger: request.trigger,
  });
  return {
    failure: new RevokeFailedError(scrub(message, work.seen), work.revoked, notRevoked),
    queued,
  };
}

/** The revoke proper: revoke, put the new version, move the labels, check, repeat. */
class RevokeWork {
  readonly revoked: RevokedVersion[] = [];
  /** Every value read or minted: redacted from any error text. */
  readonly seen = new Set<string>();
  /** Live versions found and not (yet) revoked. */
  private readonly pendingRevoke = new Map<string, RevokedVersion>();
  private readonly done = new Set<string>();
  /** Versions found with no value yet (a rotation's fresh AWSPENDING): looked at again later. */
  private readonly unfilled = new Set<string>();
  /** Revoked at the issuer's say-so only once unlabelled (`random`): done, not yet revoked. */
  private readonly awaitingUnstaging = new Set<string>();
  newVersionId: string | undefined;
  stage = 'revoke';

  constructor(
    readonly secret: SecretDescription,
    private readonly issuer: Issuer,
    private readonly deps: RevokeDeps,
    readonly revokeId: string,
    private readonly mode: RevokeMode,
    readonly stackName: string,
  ) {
    // Known live from the start, so a failure before they are read still names them as not revoked.
    for (const v of liveVersions(secret, undefined)) {
      this.pendingRevoke.set(v.versionId, { ...v, token: 'not yet read' });
    }
  }

  async run(): Promise<void> {
    let secret = this.secret;
    for (let round = 1; ; round++) {
      const live = liveVersions(secret, this.newVersionId);
      for (const v of live) {
        if (!this.done.has(v.versionId))
          this.pendingRevoke.set(v.versionId, { ...v, token: 'not yet read' });
      }
      this.stage = 'revoke';
      let template: string | undefined;
      for (const v of live) {
        const value = await this.revokeVersion(v);
        if (v.stages.includes(STAGE.current)) template = value;
      }
      if (!this.newVersionId) await this.putNewVersion(secret, template);
      this.stage = 'labels';
      secret = await this.moveLabels();
      // A rotation that was putting its AWSPENDING value while we read it: revoke that value too.
      this.stage = 'revoke';
      const filled = await this.revokeFilledPending(secret);
      this.settle(secret);
      if (
        !filled &&
        liveVersions(secret, this.newVersionId).length === 0 &&
        versionWith(secret, STAGE.current) === this.newVersionId
      )
        break;
      if (round >= MAX_ROUNDS) {
        throw new Error(
          `expected only version ${this.newVersionId} to be labelled after ${MAX_ROUNDS} rounds, found ${JSON.stringify(secret.versions)} (something keeps changing the secret's labels)`,
        );
      }
      if (filled) secret = await this.deps.store.describe(this.secret.arn);
    }
  }

  /**
   * Revokes the value a rotation put, after we first looked, into a version seen as AWSPENDING
   * with no value. True when one was found (its labels must be checked again).
   */
  private async revokeFilledPending(secret: SecretDescription): Promise<boolean> {
    let found = false;
    for (const versionId of [...this.unfilled]) {
      const stages = secret.versions[versionId] ?? [];
      if ((await this.revokeVersion({ versionId, stages })) !== undefined) found = true;
    }
    return found;
  }

  /** Counts as revoked each version awaiting unstaging that `secret` shows with no live label. */
  private settle(secret: SecretDescription): void {
    for (const versionId of this.awaitingUnstaging) {
      const stages = secret.versions[versionId] ?? [];
      if (stages.some((s) => (LIVE_STAGES as readonly string[]).includes(s))) continue;
      const version = this.pendingRevoke.get(versionId);
      this.awaitingUnstaging.delete(versionId);
      this.pendingRevoke.delete(versionId);
      if (version) this.revoked.push(version);
    }
  }

  /** After a failure: which versions awaiting unstaging lost their labels before it. */
  async settleAfterFailure(): Promise<void> {
    if (this.awaitingUnstaging.size === 0) return;
    this.settle(await this.deps.store.describe(this.secret.arn));
  }

  /** Revokes one version's token at the issuer (once). Returns its value, or the mint template for a notice. */
  private async revokeVersion(v: {
    versionId: string;
    stages: string[];
  }): Promise<string | undefined> {
    const { store } = this.deps;
    const value = await store.getValue(this.secret.arn, { versionId: v.versionId });
    if (this.done.has(v.versionId)) return this.templateOf(value);
    let token: string;
    if (value === undefined) {
      // Not done: the rotation that made this version may still put its token in it.
      this.unfilled.add(v.versionId);
      this.pendingRevoke.set(v.versionId, {
        ...v,
        token: 'no value (a rotation had not put its token yet)',
      });
      return undefined;
    }
    this.unfilled.delete(v.versionId);
    if (readQuarantineNotice(value)) {
      token = QUARANTINED;
    } else {
      rememberSecret(this.seen, value);
      token = this.issuer.name(value);
      try {
        await this.issuer.revoke({
          secretArn: this.secret.arn,
          secretName: this.secret.name,
          versionId: v.versionId,
          value,
        });
      } catch (error) {
        // The request may have reached the issuer with only its answer lost: say so, not "still valid".
        this.pendingRevoke.set(v.versionId, {
          ...v,
          token: `${token} (revoke sent, not confirmed by the issuer)`,
        });
        throw error;
      }
    }
    this.done.add(v.versionId);
    const version = { versionId: v.versionId, stages: v.stages, token };
    if (token !== QUARANTINED && this.issuer.revokedByUnstaging) {
      // Still working until no staged version holds it: revoked once its labels are gone.
      this.pendingRevoke.set(v.versionId, version);
      this.awaitingUnstaging.add(v.versionId);
    } else {
      this.pendingRevoke.delete(v.versionId);
      this.revoked.push(version);
    }
    return this.templateOf(value);
  }

  /** What a fresh token is minted from: the value itself, or for a notice the version it names. */
  private async templateOf(value: string | undefined): Promise<string | undefined> {
    if (value === undefined) return undefined;
    const notice = readQuarantineNotice(value);
    if (!notice) return value;
    if (this.mode === 'quarantine') return value;
    const restored = await this.deps.store.getValue(this.secret.arn, {
      versionId: notice.restoreFrom,
    });
    if (restored === undefined) {
      throw new Error(
        `expected version ${notice.restoreFrom} (named by the quarantine notice) to hold the value to reissue from, found it gone; put a new value in the console instead`,
      );
    }
    rememberSecret(this.seen, restored);
    return restored;
  }

  private async putNewVersion(
    secret: SecretDescription,
    template: string | undefined,
  ): Promise<void> {
    const { store, clock } = this.deps;
    const versionId = (this.deps.newVersionId ?? randomUUID)();
    const current = versionWith(secret, STAGE.current);
    let value: string;
    if (this.mode === 'quarantine') {
      this.stage = 'quarantine';
      const notice = template === undefined ? undefined : readQuarantineNotice(template);
      const restoreFrom = notice?.restoreFrom ?? current;
      if (!restoreFrom) throw new Error('expected an AWSCURRENT version to quarantine, found none');
      value = quarantineNotice({
        revokeId: this.revokeId,
        at: clock(),
        restoreFrom,
        stackName: this.stackName,
      });
    } else {
      this.stage = 'reissue';
      if (template === undefined) {
        throw new Error(
          'expected AWSCURRENT to hold a value to mint the fresh token from, found none',
        );
      }
      const ctx = { secretArn: this.secret.arn, secretName: this.secret.name, versionId };
      value = await this.issuer.mint({ ...ctx, current: template });
      rememberSecret(this.seen, value);
      const minted = value;
      try {
        if (this.issuer.activate)
          await this.issuer.activate({ ...ctx, pending: minted, current: template });
        await this.issuer.verify({ ...ctx, pending: minted });
        await store.putPending(this.secret.arn, versionId, minted);
      } catch (error) {
        // A fresh token no version holds would work and be seen by nobody: revoke it too.
        await this.issuer.revoke({ ...ctx, value: minted }).catch((revokeError: unknown) => {
          this.deps.log?.warn('revoke: could not revoke the fresh token it could not stage', {
            secretArn: this.secret.arn,
            error: describeError(revokeError, this.seen),
          });
        });
        throw error;
      }
      this.newVersionId = versionId;
      return;
    }
    rememberSecret(this.seen, value);
    await store.putPending(this.secret.arn, versionId, value);
    this.newVersionId = versionId;
  }

  /**
   * AWSCURRENT to the new version; AWSPREVIOUS and AWSPENDING off every other version. Each move
   * names the version it takes the label from, so a rotation that moved a label meanwhile makes it
   * fail (a stage conflict) rather than be undone blindly: then the labels are read afresh and the
   * moves retried. AWSPENDING comes off first, so a rotation's finishSecret that read the labels
   * before it still names the old AWSCURRENT and fails once ours has moved. Returns the labels as
   * read after the last move.
   */
  private async moveLabels(): Promise<SecretDescription> {
    const { store } = this.deps;
    const arn = this.secret.arn;
    const target = this.newVersionId!;
    for (let attempt = 1; ; attempt++) {
      const now = await store.describe(arn);
      try {
        const pending = versionWith(now, STAGE.pending);
        if (pending !== undefined && pending !== target) {
          await store.moveStage(arn, STAGE.pending, undefined, pending);
        }
        const current = versionWith(now, STAGE.current);
        if (current !== target) await store.moveStage(arn, STAGE.current, target, current);
        // Moving AWSCURRENT hands AWSPREVIOUS to the version it left: read where it is now.
        const after = current !== target ? await store.describe(arn) : now;
        const previous = versionWith(after, STAGE.previous);
        if (previous !== undefined) await store.moveStage(arn, STAGE.previous, undefined, previous);
        // The new version keeps no AWSPENDING (it was only the way in).
        if (versionWith(after, STAGE.pending) === target) {
          await store.moveStage(arn, STAGE.pending, undefined, target);
        }
        return await store.describe(arn);
      } catch (error) {
        if (!isStageConflict(error) || attempt >= MAX_LABEL_ATTEMPTS) throw error;
        this.deps.log?.warn('revoke: a label moved under us; reading the labels again', {
          secretArn: arn,
          attempt,
          error: describeError(error, this.seen),
        });
      }
    }
  }

  notRevoked(): RevokedVersion[] {
    return [...this.pendingRevoke.values()];
  }

  versionsByRole(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const v of this.revoked) out[roleOf(v.stages)] = v.versionId;
    if (this.newVersionId)
      out[this.mode === 'reissue' ? 'reissued' : 'quarantine'] = this.newVersionId;
    return out;
  }

  tokensByRole(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const v of this.revoked) out[roleOf(v.stages)] = v.token;
    return out;
  }
}

function roleOf(stages: string[]): string {
  if (stages.includes(STAGE.current)) return 'current';
  if (stages.includes(STAGE.previous)) return 'previous';
  if (stages.includes(STAGE.pending)) return 'pending';
  return 'other';
}
