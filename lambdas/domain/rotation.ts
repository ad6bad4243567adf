// The Secrets Manager four-step rotation protocol (SPEC "Rotation"), for any token kind. Every
// step is safe to run again, and a failure leaves AWSCURRENT untouched, is audited, and is
// alerted once per rotation however often Secrets Manager retries it.
//
// Secrets Manager calls per successful rotation: 4 × DescribeSecret, GetSecretValue (current)
// and PutSecretValue in createSecret, GetSecretValue (pending) in testSecret, and one
// UpdateSecretVersionStage in finishSecret: 8, the budget (issue 2). setSecret reads nothing
// unless the kind has something to activate.

import { logger } from '#commons/logger';
import { describeError, RotationError, rememberSecret } from '#domain/errors';
import type { IssuerFor } from '#domain/kinds/registry';
import type {
  Alerter,
  AuditEntry,
  AuditLog,
  Clock,
  Issuer,
  IssuerContext,
  RevokeLock,
  RevokeLockStore,
  SecretDescription,
  SecretStore,
} from '#domain/ports';
import { REVOKE_STALE_MS, readQuarantineNotice } from '#domain/revoke/index';
import { ALERT_SEVERITY, STAGE, type Step, TAG, type Trigger } from '#domain/vocabulary';

export interface RotationRequest {
  /** The secret's ARN (or name), as Secrets Manager sends it. */
  secretId: string;
  /** The ClientRequestToken: the version ID of the rotation's AWSPENDING version. */
  token: string;
  step: Step;
  /** Passed on to PutSecretValue, which Secrets Manager then accepts from this rotation only. */
  rotationToken?: string;
  trigger: Trigger;
}

export interface RotationDeps {
  store: SecretStore;
  audit: AuditLog;
  alerter: Alerter;
  issuerFor: IssuerFor;
  clock: Clock;
  /**
   * The emergency revoke's lock, read by createSecret, setSecret and finishSecret so that a
   * rotation never undoes a revoke (see `revokeSince`). Absent: no revoke shares this secret's
   * table.
   */
  revokes?: Pick<RevokeLockStore, 'read'>;
}

/** What a failed step throws: its message is the scrubbed description Secrets Manager and the logs see. */
export class RotationStepFailed extends Error {
  override readonly name = 'RotationStepFailed';
  constructor(
    message: string,
    /** The failure's machine-readable reason (RotationError.reason), as audited. */
    readonly reason: string,
  ) {
    super(message);
  }
}

/** What one invocation knows, for its audit records and, on failure, its alert. */
interface StepState {
  arn: string;
  name: string;
  versions: Record<string, string>;
  tokens: Record<string, string>;
  detail: Record<string, string | boolean>;
  /** Every value read or written in this invocation: redacted from any error text. */
  seen: Set<string>;
  /** The staging labels as this invocation's DescribeSecret read them. */
  stagesRead?: Record<string, string[]>;
  /** Set before this invocation asks to move a label: from then on, the labels must be read again. */
  movingStage?: boolean;
  /** All steps but testSecret: the revoke lock as read before DescribeSecret (see `revokeSince`). */
  revokeBefore?: { lock: RevokeLock | undefined };
}

/**
 * An emergency revoke wins over a rotation. finishSecret moves AWSCURRENT from the version it read
 * in DescribeSecret, so Secrets Manager refuses the move once a revoke has moved AWSCURRENT since;
 * what remains is a revoke that started around that read, or that left the secret quarantined.
 * So the revoke's lock is read before DescribeSecret and again just before the step changes what
 * a revoke may already have dealt with (createSecret: after putting its value, which re-attaches
 * AWSPENDING; setSecret: before and after activating; finishSecret: before moving AWSCURRENT).
 * A revoke running at either read, a different revoke at each (one started and finished in
 * between), or a quarantine stops the step. A revoke that starts after the second read finds this
 * version and revokes it like any other (setSecret reads a third time, after activating, because
 * activating would bring back a token such a revoke revoked). Returns what was found, or undefined
 * when no revoke stands in the way.
 */
function revokeSince(
  before: RevokeLock | undefined,
  now: RevokeLock | undefined,
  at: Date,
): { found: string; reason: string } | undefined {
  // A revoke running longer than REVOKE_STALE_MS stopped without finishing (its function timed
  // out, or it could not release the lock): it no longer stands in the way, or one stuck lock
  // would refuse every rotation of the secret for good. The next revoke takes its lock over.
  const staleBefore = at.getTime() - REVOKE_STALE_MS;
  const stale = (lock: RevokeLock | undefined) =>
    lock?.state === 'running' && Date.parse(lock.startedAt) < staleBefore;
  const running = [before, now].find((lock) => lock?.state === 'running' && !stale(lock));
  if (running) {
    return {
      found: `revoke ${running.revokeId} (${running.mode}) running since ${running.startedAt}`,
      reason: 'revoke-in-progress',
    };
  }
  if (now && before?.revokeId !== now.revokeId) {
    return {
      found: `revoke ${now.revokeId} (${now.mode}) ${now.state} at ${now.finishedAt ?? now.startedAt}`,
      reason: 'revoke-in-progress',
    };
  }
  // The stronger request queued behind a revoke that stopped was never carried out: rotating now
  // would mint fresh tokens of a secret someone asked to quarantine.
  if (now?.queued && stale(now)) {
    const { queued } = now;
    return {
      found: `a ${queued.mode} request (${queued.trigger.source}${queued.trigger.principal ? ` by ${queued.trigger.principal}` : ''}, queued at ${queued.queuedAt}) behind revoke ${now.revokeId} (${now.mode}), which stopped without finishing (running since ${now.startedAt}); that ${queued.mode} was never carried out`,
      reason: 'revoke-stalled',
    };
  }
  if (now?.mode === 'quarantine') {
    return {
      found: `the secret quarantined by revoke ${now.revokeId} (${stale(now) ? 'stopped without finishing, running since' : `${now.state} at`} ${now.finishedAt ?? now.startedAt}); only a person restores it, with a revoke in mode reissue`,
      reason: 'quarantined',
    };
  }
  return undefined;
}

/** The second read of the revoke lock (see `revokeSince`): what stands in the way, if anything. */
async function revokeInTheWay(
  secret: SecretDescription,
  deps: RotationDeps,
  state: StepState,
): Promise<{ found: string; reason: string } | undefined> {
  if (!deps.revokes) return undefined;
  const now = await deps.revokes.read(secret.arn);
  return revokeSince(state.revokeBefore ? state.revokeBefore.lock : now, now, deps.clock());
}

function revokeRefusal(
  secret: SecretDescription,
  request: RotationRequest,
  what: { found: string; reason: string },
  outcome: string,
): RotationError {
  return new RotationError(
    secret.name,
    request.step,
    `expected no emergency revoke of this secret since this rotation step began, found ${what.found}; ${outcome}`,
    what.reason,
  );
}

/**
 * Revokes a token this step brought to life after a revoke got in the way. Where the issuer
 * refuses, the step fails naming the token (by its name, never its value) as still live, so a
 * person knows what to revoke by hand.
 */
async function revokeAgain(
  secret: SecretDescription,
  issuer: Issuer,
  request: RotationRequest,
  state: StepState,
  value: string,
  what: { found: string; reason: string },
  left: string,
): Promise<void> {
  try {
    await issuer.revoke({ ...issuerContext(secret, request), value });
  } catch (error) {
    throw new RotationError(
      secret.name,
      request.step,
      `expected no emergency revoke of this secret since this rotation step began, found ${what.found}; the new token (${state.tokens.pending}) was NOT revoked and is still live at the issuer (${describeError(error, state.seen)}); ${left}`,
      'token-not-revoked',
    );
  }
}

type Work = (
  secret: SecretDescription,
  issuer: Issuer,
  request: RotationRequest,
  deps: RotationDeps,
  state: StepState,
  // biome-ignore lint/suspicious/noConfusingVoidType: most steps return nothing; testSecret returns 'skipped' for Secrets Manager's configuration test
) => Promise<void | 'skipped'>;

const STEP_WORK: Record<Step, Work> = {
  async createSecret(secret, issuer, request, deps, state) {
    const { store } = deps;
    if (issuer.mintCreates) {
      // Minting again would leave a second token at the issuer that no version holds: keep
      // what an earlier attempt of this version stored, as AWS's templates do.
      const stored = await store.getValue(secret.arn, {
        versionId: request.token,
        stage: STAGE.pending,
      });
      if (stored !== undefined) {
        rememberSecret(state.seen, stored);
        state.tokens.pending = issuer.name(stored);
        state.detail.pendingKept = true;
        return;
      }
    }
    const current = await readCurrent(store, secret, request, state);
    state.tokens.current = issuer.name(current);
    const pending = await issuer.mint({ ...issuerContext(secret, request), current });
    rememberSecret(state.seen, pending);
    // 'exists': an earlier attempt already put this version's value; keep it, as AWS's
    // templates do, rather than spending a call to read it first.
    const put = await store.putPending(secret.arn, request.token, pending, request.rotationToken);
    if (put === 'put') state.tokens.pending = issuer.name(pending);
    else state.detail.pendingKept = true;
    // Putting the value re-attaches AWSPENDING, even where a revoke had just taken it off: if one
    // ran meanwhile, revoke the token and then take the label off again, so nothing it missed
    // survives. In that order: a token whose revoke failed keeps its label, which is how the
    // revoke, the sweep and the next attempt find it; unlabelled, nothing would look at it again.
    const revoke = put === 'put' ? await revokeInTheWay(secret, deps, state) : undefined;
    if (revoke) {
      await revokeAgain(
        secret,
        issuer,
        request,
        state,
        pending,
        revoke,
        `AWSPENDING was left on version ${request.token} so that the revoke, the sweep or the next attempt finds it`,
      );
      try {
        await store.moveStage(secret.arn, STAGE.pending, undefined, request.token);
      } catch (error) {
        // Already off (the revoke got there first): nothing to undo.
        if (!(error instanceof Error && /not attached to version/i.test(error.message)))
          throw error;
      }
      throw revokeRefusal(
        secret,
        request,
        revoke,
        `the new token (${state.tokens.pending}) was revoked and AWSPENDING taken off version ${request.token}`,
      );
    }
  },

  // Activating brings a token to life at the issuer, so a revoke that dealt with this version since
  // the step began must stop it: before activating (a revoked token is never activated), and after
  // (a revoke that ran while it was activated revoked it first, so it is revoked again).
  async setSecret(secret, issuer, request, deps, state) {
    if (!issuer.activate) return;
    const { store } = deps;
    const pending = await readPending(store, secret, request, state);
    const current = await readCurrent(store, secret, request, state);
    state.tokens.pending = issuer.name(pending);
    const before = await revokeInTheWay(secret, deps, state);
    if (before) {
      throw revokeRefusal(
        secret,
        request,
        before,
        `the new token (${state.tokens.pending}) was not activated`,
      );
    }
    await issuer.activate({ ...issuerContext(secret, request), pending, current });
    const during = await revokeInTheWay(secret, deps, state);
    if (during) {
      await revokeAgain(
        secret,
        issuer,
        request,
        state,
        pending,
        during,
        `the revoke may have taken AWSPENDING off version ${request.token} already, so revoke it at the issuer by hand`,
      );
      throw revokeRefusal(
        secret,
        request,
        during,
        `the new token (${state.tokens.pending}) was activated while it ran, and revoked again`,
      );
    }
  },

  async testSecret(secret, issuer, request, { store }, state) {
    // RotateSecret without RotateImmediately (how rotation is attached) makes Secrets Manager
    // test the configuration: testSecret alone, on a fresh AWSPENDING that holds either no value
    // or a copy of AWSCURRENT (AWS documents neither). A real rotation's pending value is always
    // a new token that createSecret put before testSecret runs, so both shapes are the test.
    const value = await store.getValue(secret.arn, {
      versionId: request.token,
      stage: STAGE.pending,
    });
    if (value === undefined) return configurationTest(state);
    const pending = await readPending(store, secret, request, state, value);
    state.tokens.pending = issuer.name(pending);
    try {
      await issuer.verify({ ...issuerContext(secret, request), pending });
    } catch (error) {
      // Only on failure, so a successful rotation stays within its 8 calls.
      const current = await store.getValue(secret.arn, { stage: STAGE.current });
      if (current !== undefined) rememberSecret(state.seen, current);
      if (current === pending) return configurationTest(state);
      throw error;
    }
  },

  // Only AWSCURRENT moves (Secrets Manager moves AWSPREVIOUS and drops AWSPENDING itself);
  // the previous token keeps working through grace, then the sweep revokes it.
  async finishSecret(secret, _issuer, request, deps, state) {
    const { store } = deps;
    const revoke = await revokeInTheWay(secret, deps, state);
    if (revoke) throw revokeRefusal(secret, request, revoke, 'AWSCURRENT was left as it is');
    const from = versionWith(secret, STAGE.current);
    state.movingStage = true;
    await store.moveStage(secret.arn, STAGE.current, request.token, from);
    state.versions = from ? { current: request.token, previous: from } : { current: request.token };
  },
};

/** The live value, remembered for redaction; a secret without one cannot be rotated from. */
async function readCurrent(
  store: SecretStore,
  secret: SecretDescription,
  request: RotationRequest,
  state: StepState,
): Promise<string> {
  const current = await store.getValue(secret.arn, { stage: STAGE.current });
  if (current === undefined) {
    throw new RotationError(
      secret.name,
      request.step,
      'expected AWSCURRENT to hold the live token, found no value',
      'no-value',
    );
  }
  rememberSecret(state.seen, current);
  // Read from the value, not the lock: the lock of a quarantine that stopped part-way, or was
  // taken over, no longer says so, and a notice must never be minted from into a fresh token.
  const notice = readQuarantineNotice(current);
  if (notice) {
    throw new RotationError(
      secret.name,
      request.step,
      `expected AWSCURRENT to hold the live token, found the quarantine notice of revoke ${notice.revokeId ?? '(unknown)'}; only a person restores it, with a revoke in mode reissue`,
      'quarantined',
    );
  }
  return current;
}

function configurationTest(state: StepState): 'skipped' {
  state.detail.configurationTest = true;
  return 'skipped';
}

async function readPending(
  store: SecretStore,
  secret: SecretDescription,
  request: RotationRequest,
  state: StepState,
  alreadyRead?: string,
): Promise<string> {
  const pending =
    alreadyRead ??
    (await store.getValue(secret.arn, { versionId: request.token, stage: STAGE.pending }));
  if (pending === undefined) {
    throw new RotationError(
      secret.name,
      request.step,
      `expected version ${request.token} (AWSPENDING) to hold the new token, found no value (createSecret has not put one)`,
      'no-value',
    );
  }
  rememberSecret(state.seen, pending);
  return pending;
}

function issuerContext(secret: SecretDescription, request: RotationRequest): IssuerContext {
  return { secretArn: secret.arn, secretName: secret.name, versionId: request.token };
}

function versionWith(secret: SecretDescription, stage: string): string | undefined {
  return Object.entries(secret.versions).find(([, stages]) => stages.includes(stage))?.[0];
}

/**
 * AWS's templates' opening checks. 'done' when the version is already AWSCURRENT, which
 * includes the finished state where AWSPENDING was left on the AWSCURRENT version.
 */
function checkStaging(secret: SecretDescription, request: RotationRequest): 'done' | 'pending' {
  const { step, token } = request;
  if (!secret.rotationEnabled) {
    throw new RotationError(
      secret.name,
      step,
      'expected rotation to be enabled on the secret, found it disabled',
      'rotation-disabled',
    );
  }
  const stages = secret.versions[token];
  if (!stages) {
    throw new RotationError(
      secret.name,
      step,
      `expected version ${token} to be a version of the secret, found no such version`,
      'unknown-version',
    );
  }
  if (stages.includes(STAGE.current)) return 'done';
  if (!stages.includes(STAGE.pending)) {
    const found =
      stages.length > 0 ? `it staged as ${stages.join(', ')}` : 'it has no staging labels';
    throw new RotationError(
      secret.name,
      step,
      `expected version ${token} to be AWSPENDING, found ${found}`,
      'not-pending',
    );
  }
  return 'pending';
}

/** The name inside a Secrets Manager ARN (minus AWS's 6-character suffix), for records written before DescribeSecret answered. */
function nameOf(secretId: string): string {
  const match = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$/.exec(secretId);
  return match?.[1] ?? secretId;
}

async function record(
  deps: RotationDeps,
  request: RotationRequest,
  state: StepState,
  entry: Pick<AuditEntry, 'event' | 'outcome'> & Partial<AuditEntry>,
): Promise<void> {
  const hasTokens = Object.keys(state.tokens).length > 0;
  const hasDetail = Object.keys(state.detail).length > 0;
  await deps.audit.append({
    secretArn: state.arn,
    secretName: state.name,
    step: request.step,
    versions: { ...state.versions },
    ...(hasTokens && { tokens: { ...state.tokens } }),
    ...(hasDetail && { detail: { ...state.detail } }),
    trigger: request.trigger,
    ...entry,
  });
}

/** Audits a step's progress; a failed write fails the step, so no rotation goes unrecorded. */
async function recordOrFail(
  deps: RotationDeps,
  request: RotationRequest,
  state: StepState,
  entry: Pick<AuditEntry, 'event' | 'outcome'>,
): Promise<void> {
  try {
    await record(deps, request, state, entry);
  } catch (error) {
    throw new RotationError(
      state.name,
      request.step,
      `expected to write the ${entry.event} audit record, found the write failed (${describeError(error, state.seen)})`,
      'audit-unavailable',
    );
  }
}

/** Runs one rotation step for `request.token`. Throws RotationStepFailed (already audited and alerted) on failure. */
export async function rotateStep(request: RotationRequest, deps: RotationDeps): Promise<void> {
  const state: StepState = {
    arn: request.secretId,
    name: nameOf(request.secretId),
    versions: { pending: request.token },
    tokens: {},
    detail: {},
    seen: new Set(),
  };
  try {
    // The ARN Secrets Manager sends is the lock's key; a name would find no lock to compare.
    const guarded = request.step !== 'testSecret';
    if (guarded && deps.revokes && request.secretId.startsWith('arn:')) {
      state.revokeBefore = { lock: await deps.revokes.read(request.secretId) };
    }
    const secret = await deps.store.describe(request.secretId);
    state.stagesRead = secret.versions;
    state.arn = secret.arn;
    state.name = secret.name;
    const current = versionWith(secret, STAGE.current);
    if (current === request.token) state.versions = { current };
    else if (current) state.versions.current = current;

    // One record per step, its outcome, written before the step reports success; a failure is
    // recorded by reportFailure. Nothing an auditor asks needs a record of a step beginning.
    if (checkStaging(secret, request) === 'done') {
      await recordOrFail(deps, request, state, { event: 'step.succeeded', outcome: 'skipped' });
      return;
    }
    const issuer = deps.issuerFor(secret.tags[TAG.kind], secret);
    const outcome =
      (await STEP_WORK[request.step](secret, issuer, request, deps, state)) ?? 'succeeded';
    await recordOrFail(deps, request, state, { event: 'step.succeeded', outcome });
  } catch (error) {
    throw await reportFailure(error, request, deps, state);
  }
}

/** Audits and alerts a failed step; returns the scrubbed error to throw. Never throws itself. */
async function reportFailure(
  error: unknown,
  request: RotationRequest,
  deps: RotationDeps,
  state: StepState,
): Promise<RotationStepFailed> {
  const text = describeError(error, state.seen);
  const reason = error instanceof RotationError ? error.reason : 'error';
  const log = { secretArn: state.arn, step: request.step, versionId: request.token };
  // A step can fail after its change landed (finishSecret's UpdateSecretVersionStage applied but
  // its answer lost, or the audit write after it failed): what the alert says about AWSCURRENT
  // comes from reading the stages now, never from which step failed.
  const after = await stagesAfterFailure(deps, state);
  try {
    await record(deps, request, state, {
      event: 'rotation.failed',
      outcome: 'failed',
      error: text,
      detail: {
        ...state.detail,
        reason,
        ...(after.read && after.reread && { stagesAfter: after.text }),
      },
    });
  } catch (auditError) {
    logger.error('could not audit a failed rotation step', {
      ...log,
      error: describeError(auditError, state.seen),
    });
  }
  try {
    await deps.alerter.send({
      event: 'rotation.failed',
      severity: ALERT_SEVERITY['rotation.failed'] ?? 'high',
      secretArn: state.arn,
      secretName: state.name,
      incident: failureIncident(request, after),
      summary: `Rotation of ${state.name} failed at ${request.step}`,
      reason: text,
      versionId: request.token,
      nextSteps: [...liveTokenSteps(after, request.token), ...nextSteps(reason)],
      trigger: request.trigger,
    });
  } catch (alertError) {
    logger.error('could not alert a failed rotation step', {
      ...log,
      error: describeError(alertError, state.seen),
    });
  }
  return new RotationStepFailed(text, reason);
}

/**
 * An incident is what a person must know to act: which rotation (its version ID, the same across
 * Secrets Manager's retries), the step that failed and where AWSCURRENT stands afterwards. Retries
 * of one failure at one step are one incident (one e-mail); a later failure that leaves the live
 * token somewhere else (finishSecret failing after AWSCURRENT moved to the new token, where an
 * earlier testSecret failure left it unchanged) is another, and its e-mail is sent.
 */
function failureIncident(request: RotationRequest, after: StagesAfter): string {
  const live = !after.read
    ? 'unknown'
    : after.current === request.token
      ? 'moved'
      : after.current
        ? `unchanged:${after.current}`
        : 'none';
  return `${request.token}:${request.step}:current-${live}`;
}

/** The staging labels as DescribeSecret shows them after a failure, or why they could not be read. */
type StagesAfter =
  | { read: true; reread: boolean; current?: string; text: string }
  | { read: false; text: string };

async function stagesAfterFailure(deps: RotationDeps, state: StepState): Promise<StagesAfter> {
  try {
    // Until this invocation asks to move a label, the labels it read are the ones its failure
    // left (reading them again would cost a call); after, only a fresh read tells. Where the
    // opening DescribeSecret itself failed, nothing was moved and the alert says they are unknown.
    if (!state.stagesRead) {
      return { read: false, text: 'they could not be read (DescribeSecret failed)' };
    }
    const reread = state.movingStage === true;
    const versions = reread ? (await deps.store.describe(state.arn)).versions : state.stagesRead;
    const staged = Object.entries(versions).filter(([, stages]) => stages.length > 0);
    const text =
      staged.length === 0
        ? 'no version carries a staging label'
        : staged.map(([id, stages]) => `${stages.join(', ')} on version ${id}`).join('; ');
    return {
      read: true,
      reread,
      current: versionWith({ versions } as SecretDescription, STAGE.current),
      text,
    };
  } catch (error) {
    return {
      read: false,
      text: `they could not be read (${describeError(error, state.seen)})`,
    };
  }
}

/** The first things a reader needs: which token consumers get now, and the labels as read. */
function liveTokenSteps(after: StagesAfter, rotationVersion: string): string[] {
  return [liveToken(after, rotationVersion), `Stages read after the failure: ${after.text}.`];
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

function nextSteps(reason: string): string[] {
  const byReason: Record<string, string[]> = {
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
  return (
    byReason[reason] ?? [
      "Check the rotation function's logs for this version ID, and the secret's history in the audit trail.",
      AFTER,
    ]
  );
}
