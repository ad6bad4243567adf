// The lifespan sweep: pages through every opted-in secret, plans each (plan.ts) and carries
// the plan out, paced under Secrets Manager's quotas, audited and alerted once per incident.
//
// Robustness rules: one secret's failure is recorded and the sweep moves on; nothing about one
// secret's tags or state can make the sweep throw; a sweep that reaches its deadline saves where
// it stopped (the page's NextToken and the position in it) and the next invocation carries on
// from there, so nobody is skipped forever however large the account.
//
// Audit and alert order. Actions (attach, rotate, revoke) are audited at every attempt, after
// the call and before the sweep reports it. Observations that persist across sweeps (policy
// invalid, rotation stuck, an overdue token a stuck rotation blocks, a previous token whose revoke
// keeps failing) are one incident each: the alert goes first and the audit record is written
// only when the alert was new, so a bad tag makes one record and one e-mail, not one per sweep.
//
// The detach gap. The listing filters on the lifespan tag, so it never sees a secret whose tag
// was removed; the tag event normally detaches those, but events can be lost. So every attach
// records the secret in the managed set (ports.ts ManagedSet), and after the listing each sweep
// walks that set: a member the listing did not show is described, detached if its tag is gone
// and the rotation attached to it is ours (another function's rotation is never touched), and
// forgotten; a deleted secret is forgotten. The walk runs under the same deadline and cursor.
// Only members not seen by this invocation's listing cost a call: in the usual sweep, which lists
// everyone in one invocation, that is exactly the secrets whose tag is gone.
//
// Revoke tags. A secret carrying token-rotation:revoke belongs to the revoke until it is done, so
// the sweep does nothing else to it. Its tag event starts the revoke; where that event never came
// (no CloudTrail trail) or the revoke stopped part-way, the tag stays, and the sweep hands the
// request to the revoke function (RevokeRequester, queued), once per tag value per sweep. The
// revoke checks that the tag is still there (gone: `ignored`, already done) and its lock makes a
// race with the tag event a `duplicate`, so handing over a tag the event path has in hand is safe.
import { createHash } from 'node:crypto';
import { describeError, secretParts } from '../errors.ts';
import type { Pace } from '../pacer.ts';
import { formatAge, type PolicyLimits } from '../policy.ts';
import type {
  Alert,
  Alerter,
  AuditEntry,
  AuditLog,
  Clock,
  Issuer,
  ManagedSet,
  PendingDelivery,
  RevokeRequester,
  SecretCatalog,
  SecretDescription,
  SecretStore,
  SweepCursor,
  SweepCursorStore,
} from '../ports.ts';
import { cleanReason, knownValues } from '../revoke.ts';
import { ALERT_SEVERITY, STAGE, TAG, type Trigger } from '../vocabulary.ts';
import { deleteAfterLabel, needsVersionDates, planSecret, type SweepAction } from './plan.ts';

export interface SweepDeps {
  catalog: SecretCatalog;
  store: SecretStore;
  audit: AuditLog;
  alerter: Alerter;
  /** `issuerFor` from #domain/issuers/index, or a fake. */
  issuerFor: (kindTag: string | undefined, secret: { arn: string; name: string }) => Issuer;
  clock: Clock;
  cursor: SweepCursorStore;
  /** Paces every Secrets Manager call but GetSecretValue (10,000/s) under the 50/s quotas. */
  pace: Pace;
  /** Where per-secret failures are logged (the Powertools logger in Lambda). */
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
  /** The secrets our rotation is attached to; without it, no detach pass (see the header). */
  managed?: ManagedSet;
  /** Hands revoke tags to the revoke function; without it, the sweep leaves them alone (see the header). */
  revokes?: RevokeRequester;
}

export interface SweepOptions {
  rotationFunctionArn: string;
  sweepIntervalMs: number;
  /** The stack's policy limits (maxLifespan); the defaults when not given. */
  limits?: PolicyLimits;
  /** Stop starting new secrets at this time; leave room for one secret's work after it. */
  deadline: Date;
  /**
   * Replaces the deadline check when given. In Lambda both read the same clock; under a test's
   * simulated clock, which stands still during a sweep, the invocation's own time runs out instead.
   */
  outOfTime?: () => boolean;
  trigger?: Trigger;
}

export interface SweepFailure {
  secretArn: string;
  secretName: string;
  /** The action that failed, or `plan` when the secret could not be planned. */
  action: SweepAction['type'] | 'plan' | 'alert' | 'managed';
  error: string;
}

export interface SweepReport {
  /** True when the sweep reached the last page; false when it saved a cursor at its deadline. */
  complete: boolean;
  /** Where this invocation started, when it carried on from an earlier one. */
  resumedFrom?: SweepCursor;
  /** Where it stopped, when incomplete. */
  stoppedAt?: SweepCursor;
  pages: number;
  secrets: number;
  /** ListSecretVersionIds calls: the candidates that needed exact version dates. */
  versionDateLookups: number;
  actions: Partial<Record<SweepAction['type'], number>>;
  alertsSent: number;
  /** New alerts recorded whose publish failed: delivered by a later sweep. */
  alertsQueued: number;
  /** Alerts recorded earlier and still undelivered, delivered by this sweep (absent: not tried). */
  pendingAlerts?: PendingDelivery;
  failureCount: number;
  /** The first failures (at most MAX_REPORTED_FAILURES), scrubbed. */
  failures: SweepFailure[];
  /** The detach pass over the managed set (present when the sweep has one). */
  managed?: { pages: number; members: number; described: number; forgotten: number };
}

export const MAX_REPORTED_FAILURES = 50;
/** Undelivered alerts one sweep publishes at most (more wait for the next sweep). */
export const MAX_PENDING_ALERTS_PER_SWEEP = 200;
const SCHEDULE_TRIGGER: Trigger = { source: 'schedule' };

/** ListSecrets rejects a stale or foreign NextToken with one of these. */
const isBadToken = (error: unknown) =>
  error instanceof Error &&
  /InvalidNextToken|ValidationException|InvalidParameter/i.test(`${error.name} ${error.message}`);

/** What the kind's contract says about a previous value and the live one (undefined: it cannot tell). */
type LiveCheck =
  | { shared: true | false; by: string; current?: string }
  | { shared: undefined; current?: string };

/** A new incident: published now, or recorded and on its way (the alert's outbox). */
const isNew = (outcome: string) => outcome === 'sent' || outcome === 'queued';

const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;

/** DescribeSecret of a secret that no longer exists (deleted after its recovery window). */
const isGone = (error: unknown) =>
  error instanceof Error && /ResourceNotFound/.test(`${error.name} ${error.message}`);

export async function runSweep(deps: SweepDeps, options: SweepOptions): Promise<SweepReport> {
  const { catalog, clock, cursor, pace } = deps;
  const trigger = options.trigger ?? SCHEDULE_TRIGGER;
  const report: SweepReport = {
    complete: false,
    pages: 0,
    secrets: 0,
    versionDateLookups: 0,
    actions: {},
    alertsSent: 0,
    alertsQueued: 0,
    failureCount: 0,
    failures: [],
  };
  const fail = (
    secret: SecretDescription,
    action: SweepFailure['action'],
    error: unknown,
    known: string[] = [],
  ) => {
    const failure = {
      secretArn: secret.arn,
      secretName: secret.name,
      action,
      error: describeError(error, known),
    };
    report.failureCount++;
    if (report.failures.length < MAX_REPORTED_FAILURES) report.failures.push(failure);
    deps.log?.warn('sweep: action failed', { ...failure });
  };

  const saved = await cursor.get();
  if (saved) report.resumedFrom = saved;
  const startedAt = saved?.startedAt ?? clock().toISOString();
  const managedPhase = saved?.phase === 'managed';
  let token = managedPhase ? undefined : saved?.nextToken;
  let skip = managedPhase ? 0 : (saved?.position ?? 0);
  const outOfTime = options.outOfTime ?? (() => clock().getTime() >= options.deadline.getTime());
  /** Secrets this invocation's listing showed: the detach pass skips them. */
  const seen = new Set<string>();

  const ctx = {
    rotationFunctionArn: options.rotationFunctionArn,
    sweepIntervalMs: options.sweepIntervalMs,
    ...(options.limits ? { limits: options.limits } : {}),
  };
  const execute = executor(deps, options.rotationFunctionArn, trigger, report, fail);

  // First, so an outage of the listing or a short invocation never keeps an alert back.
  if (deps.alerter.deliverPending) {
    try {
      report.pendingAlerts = await deps.alerter.deliverPending({
        limit: MAX_PENDING_ALERTS_PER_SWEEP,
        outOfTime,
      });
    } catch (error) {
      deps.log?.warn('sweep: could not look for undelivered alerts', {
        error: describeError(error),
      });
    }
  }

  for (; !managedPhase; ) {
    if (outOfTime()) {
      return stop(report, cursor, { nextToken: token, position: skip, startedAt });
    }
    let page: Awaited<ReturnType<SecretCatalog['listTagged']>>;
    try {
      page = await pace(() => catalog.listTagged(TAG.lifespan, token));
    } catch (error) {
      // A saved token Secrets Manager no longer accepts: start the pass again from the top
      // rather than fail at every invocation.
      if (token !== undefined && report.pages === 0 && isBadToken(error)) {
        deps.log?.warn('sweep: saved cursor rejected, starting from the first page', {
          error: describeError(error),
        });
        token = undefined;
        skip = 0;
        continue;
      }
      throw error;
    }
    report.pages++;
    for (let i = skip; i < page.secrets.length; i++) {
      if (outOfTime()) {
        return stop(report, cursor, { nextToken: token, position: i, startedAt });
      }
      const secret = page.secrets[i]!;
      report.secrets++;
      seen.add(secret.arn);
      let actions: SweepAction[];
      try {
        const now = clock();
        let versionDates: Record<string, Date> | undefined;
        if (needsVersionDates(secret, { ...ctx, now })) {
          report.versionDateLookups++;
          versionDates = await pace(() => catalog.versionDates(secret.arn));
        }
        actions = planSecret(secret, { ...ctx, now: clock(), versionDates });
      } catch (error) {
        fail(secret, 'plan', error);
        continue;
      }
      for (const action of actions) {
        report.actions[action.type] = (report.actions[action.type] ?? 0) + 1;
        try {
          await execute(secret, action);
        } catch (error) {
          fail(secret, action.type, error);
        }
      }
    }
    if (page.nextToken === undefined) break;
    token = page.nextToken;
    skip = 0;
  }
  if (deps.managed) {
    const cut = await walkManaged(deps, deps.managed, {
      ctx,
      seen,
      after: managedPhase ? saved?.managedAfter : undefined,
      outOfTime,
      execute,
      fail,
      report,
    });
    if (cut) return stop(report, cursor, { ...cut, startedAt });
  }
  await cursor.clear();
  report.complete = true;
  return report;
}

async function stop(
  report: SweepReport,
  cursor: SweepCursorStore,
  at: SweepCursor,
): Promise<SweepReport> {
  const saved: SweepCursor = { position: at.position, startedAt: at.startedAt };
  if (at.nextToken !== undefined) saved.nextToken = at.nextToken;
  if (at.phase !== undefined) saved.phase = at.phase;
  if (at.managedAfter !== undefined) saved.managedAfter = at.managedAfter;
  await cursor.put(saved);
  report.stoppedAt = saved;
  return report;
}

type Fail = (
  secret: SecretDescription,
  action: SweepFailure['action'],
  error: unknown,
  known?: string[],
) => void;

/** Carries out one action on one secret; throws on failure (the caller records it and moves on). */
function executor(
  deps: Omit<SweepDeps, 'cursor'>,
  rotationFunctionArn: string,
  trigger: Trigger,
  report: SweepReport,
  fail: Fail,
) {
  const { audit, catalog, pace, store } = deps;
  const entry = (
    secret: SecretDescription,
    e: Omit<AuditEntry, 'secretArn' | 'secretName' | 'trigger'>,
  ): AuditEntry => ({
    secretArn: secret.arn,
    secretName: secret.name,
    trigger,
    ...e,
  });
  /** Sends an alert; a failing alerter is recorded but never stops the action it accompanies. */
  const alert = async (
    secret: SecretDescription,
    a: Omit<Alert, 'secretArn' | 'secretName' | 'severity' | 'trigger'>,
  ) => {
    try {
      const outcome = await deps.alerter.send({
        ...a,
        secretArn: secret.arn,
        secretName: secret.name,
        severity: ALERT_SEVERITY[a.event] ?? 'warning',
        trigger,
      });
      if (outcome === 'sent') report.alertsSent++;
      if (outcome === 'queued') report.alertsQueued++;
      return outcome;
    } catch (error) {
      // Neither recorded nor published: nothing marks the incident, so the next sweep alerts again.
      fail(secret, 'alert', error);
      return 'failed' as const;
    }
  };
  /** Runs an API call and audits its outcome either way. */
  const audited = async (
    secret: SecretDescription,
    e: Omit<AuditEntry, 'secretArn' | 'secretName' | 'trigger' | 'outcome'>,
    call: () => Promise<unknown>,
  ) => {
    try {
      await call();
    } catch (error) {
      await audit.append(entry(secret, { ...e, outcome: 'failed', error: describeError(error) }));
      throw error;
    }
    await audit.append(entry(secret, { ...e, outcome: 'succeeded' }));
  };
  const lifespanOf = (secret: SecretDescription) => secret.tags[TAG.lifespan] ?? '';
  /** Tag requests handed over by this sweep: each once, however often the secret comes up. */
  const handedOver = new Set<string>();

  return async (secret: SecretDescription, action: SweepAction): Promise<void> => {
    switch (action.type) {
      case 'attach':
      case 'update-schedule': {
        const { schedule } = action;
        const lambdaArn = rotationFunctionArn;
        await audited(
          secret,
          {
            event: action.type === 'attach' ? 'rotation.attached' : 'rotation.updated',
            detail: {
              lifespan: lifespanOf(secret),
              schedule: schedule.scheduleExpression,
              window: schedule.duration,
              ...(action.type === 'update-schedule' && action.found?.scheduleExpression
                ? { previousSchedule: action.found.scheduleExpression }
                : {}),
            },
          },
          () =>
            pace(() =>
              catalog.rotate(secret.arn, {
                lambdaArn,
                scheduleExpression: schedule.scheduleExpression,
                duration: schedule.duration,
                immediately: false,
              }),
            ),
        );
        // Recorded after the attach, so a failed attach leaves no member; update records too,
        // which enrols secrets attached before the managed set existed.
        await deps.managed?.add({ arn: secret.arn, name: secret.name });
        return;
      }
      case 'detach':
        await audited(secret, { event: 'rotation.detached' }, () =>
          pace(() => catalog.cancelRotation(secret.arn)),
        );
        await deps.managed?.remove(secret.arn);
        return;
      case 'lifespan-overdue': {
        const age = formatAge(action.ageMs);
        const lifespan = lifespanOf(secret);
        const sent = await alert(secret, {
          event: 'lifespan.overdue',
          incident: action.versionId,
          versionId: action.versionId,
          summary: `The live token is ${age} old, over its lifespan of ${lifespan}.`,
          reason: action.rotateNow
            ? 'Its rotation did not happen in time; the sweep has started one now.'
            : 'A rotation is stuck, so a new one cannot start until it is resolved.',
          nextSteps: action.rotateNow
            ? [
                'Check that the rotation completes (no rotation.failed alert follows).',
                'Look at the audit trail of this secret for the last rotations.',
              ]
            : [
                'Resolve the stuck rotation (see the rotation.stuck alert): finish or cancel it.',
                'Then the next sweep rotates the secret.',
              ],
        });
        const detail = { ageHours: hours(action.ageMs), lifespan, rotating: action.rotateNow };
        // Once per incident: a secret whose rotation keeps failing to start (another function's,
        // which RotateSecret may refuse us) would otherwise add a record at every sweep. When the
        // sweep rotates it now, the overdue is recorded even if the alert could not be sent.
        if (isNew(sent) || (sent === 'failed' && action.rotateNow)) {
          await audit.append(
            entry(secret, {
              event: 'lifespan.overdue',
              outcome: 'reported',
              versions: { current: action.versionId },
              detail,
            }),
          );
        }
        if (!action.rotateNow) return;
        // Every attempt is an action and is audited, whatever its outcome.
        await audited(
          secret,
          {
            event: 'rotation.requested',
            versions: { current: action.versionId },
            detail: { reason: 'lifespan.overdue' },
          },
          () => pace(() => catalog.rotate(secret.arn, { immediately: true })),
        );
        return;
      }
      case 'rotate-early':
        await audited(
          secret,
          {
            event: 'rotation.requested',
            versions: { current: action.versionId },
            detail: {
              reason: 'lifespan-floor',
              ageHours: hours(action.ageMs),
              lifespan: lifespanOf(secret),
            },
          },
          () => pace(() => catalog.rotate(secret.arn, { immediately: true })),
        );
        return;
      case 'rotation-stuck': {
        const sent = await alert(secret, {
          event: 'rotation.stuck',
          incident: action.versionId,
          versionId: action.versionId,
          summary: `A rotation started ${formatAge(action.pendingForMs)} ago has not finished (AWSPENDING is left on version ${action.versionId}).`,
          reason: 'The rotation function failed or was interrupted at one of its steps.',
          nextSteps: [
            'Look for a rotation.failed alert or audit record for this secret.',
            'Fix the cause, then rotate the secret again from the console, or remove AWSPENDING from that version.',
          ],
        });
        if (isNew(sent)) {
          await audit.append(
            entry(secret, {
              event: 'rotation.stuck',
              outcome: 'reported',
              versions: { pending: action.versionId },
              detail: { pendingHours: hours(action.pendingForMs) },
            }),
          );
        }
        return;
      }
      case 'revoke-previous':
        await revokePrevious(secret, action);
        return;
      case 'delete-deactivated':
        await deleteDeactivated(secret, action);
        return;
      case 'policy-invalid': {
        const problems = action.problems.map((p) => p.message);
        const sent = await alert(secret, {
          event: 'policy.invalid',
          incident: action.fingerprint,
          summary:
            'The token-rotation tags on this secret are invalid; nothing was changed on the secret.',
          reason: problems.join(' '),
          nextSteps: [
            'Correct the tags in the Secrets Manager console (the token-rotation README lists each tag and its allowed values).',
            'The next sweep applies the corrected policy.',
          ],
        });
        if (isNew(sent)) {
          await audit.append(
            entry(secret, {
              event: 'policy.invalid',
              outcome: 'reported',
              detail: {
                fingerprint: action.fingerprint,
                problems: problems.join(' ').slice(0, 1000),
              },
            }),
          );
        }
        return;
      }
      case 'revoke-requested':
        await handOverRevoke(secret, action);
        return;
      case 'foreign-rotation':
        return;
    }
  };

  /** Queues the revoke a revoke tag asks for on the revoke function (see the header). */
  async function handOverRevoke(
    secret: SecretDescription,
    action: Extract<SweepAction, { type: 'revoke-requested' }>,
  ) {
    const requester = deps.revokes;
    if (!requester) return;
    const requestId = tagRevokeRequestId(secret);
    if (handedOver.has(requestId)) return;
    handedOver.add(requestId);
    const reason = cleanReason(
      secret.tags[TAG.revoke] ?? action.reason,
      await knownValues(store, secret, deps.log),
    );
    await audited(
      secret,
      { event: 'revoke.handed-over', detail: { reason, mode: 'reissue', requestId } },
      () => requester.requestRevoke({ secretArn: secret.arn, reason, requestId }),
    );
  }

  async function revokePrevious(
    secret: SecretDescription,
    action: Extract<SweepAction, { type: 'revoke-previous' }>,
  ) {
    const known: string[] = [];
    const versions = { previous: action.versionId };
    let tokenName: string | undefined;
    let deleteLabel: string | undefined;
    let identity: LiveCheck = { shared: false, by: 'no value held by the version' };
    let revokedBy = 'the label removed';
    try {
      const issuer = deps.issuerFor(action.kind, { arn: secret.arn, name: secret.name });
      const value = await store.getValue(secret.arn, {
        versionId: action.versionId,
        stage: STAGE.previous,
      });
      if (value !== undefined) {
        known.push(...secretParts(value));
        tokenName = issuer.name(value);
        identity = await sameAsLive(secret, issuer, value, known);
        const ctx = {
          secretArn: secret.arn,
          secretName: secret.name,
          versionId: action.versionId,
          value,
        };
        if (identity.shared) {
          // Not revoked, on purpose: the live value holds this token. Said so, never "revoked".
          await pace(() =>
            store.moveStage(secret.arn, STAGE.previous, undefined, action.versionId),
          );
          await skipped(secret, action, tokenName, identity.by);
          return;
        }
        if (issuer.deactivate) {
          await issuer.deactivate(ctx);
          // Two-stage revoke: the label is the only record of when to delete, and it sits on
          // the version before AWSPREVIOUS leaves it, so the token is never unaccounted for.
          deleteLabel = deleteAfterLabel(deps.clock(), issuer.deleteAfterMs ?? 0);
          const label = deleteLabel;
          await pace(() => store.moveStage(secret.arn, label, action.versionId));
          revokedBy = `${issuer.kind} (deactivated)`;
        } else {
          // Where the contract cannot tell the tokens apart, the issuer gets the live value too
          // and decides (docs/custom-issuers.md); its confirmation is what counts as revoked.
          if (!issuer.revokedByUnstaging) revokedBy = issuer.kind;
          await issuer.revoke(
            identity.shared === undefined && identity.current !== undefined
              ? { ...ctx, current: identity.current }
              : ctx,
          );
        }
      }
      // For `random` removing the label is the revoke: no staged version holds the token any more.
      await pace(() => store.moveStage(secret.arn, STAGE.previous, undefined, action.versionId));
    } catch (error) {
      throw await revokeFailed(secret, error, known, {
        incident: action.versionId,
        versions,
        tokenName,
        summary: `The previous token (version ${action.versionId}) outlived its grace and could not be revoked.`,
        meanwhile: 'Until then the previous token still works.',
      });
    }
    await audit.append(
      entry(secret, {
        event: 'previous.revoked',
        outcome: 'succeeded',
        versions,
        ...(tokenName ? { tokens: { previous: tokenName } } : {}),
        detail: {
          graceEndedAt: action.graceEndedAt.toISOString(),
          kind: action.kind,
          // Who confirmed the revoke, and how the token was known not to be the live one: the
          // kind's contract, or the issuer's own decision when it was given both values.
          revokedBy,
          notLiveBy: identity.shared === false ? identity.by : 'the issuer, given the live value',
          ...(deleteLabel && { deactivated: true, deleteAfter: deleteLabel }),
        },
      }),
    );
  }

  /** A previous token left alone because the live value holds it: alerted and audited once. */
  async function skipped(
    secret: SecretDescription,
    action: Extract<SweepAction, { type: 'revoke-previous' }>,
    tokenName: string | undefined,
    by: string,
  ) {
    const reason = `The live value (AWSCURRENT) holds the same token, by its ${by}: revoking it would revoke the live token.`;
    const sent = await alert(secret, {
      event: 'previous.revoke.skipped',
      incident: action.versionId,
      versionId: action.versionId,
      summary: `The previous version ${action.versionId} was not revoked after its grace: it holds the live token.`,
      reason,
      nextSteps: [
        'Usually someone saved the secret again with the same token (e.g. edited another field in the console): nothing to do.',
        'If the token should have changed, rotate the secret now from the Secrets Manager console.',
      ],
    });
    if (isNew(sent) || sent === 'failed') {
      await audit.append(
        entry(secret, {
          event: 'previous.revoke.skipped',
          outcome: 'skipped',
          versions: { previous: action.versionId },
          ...(tokenName ? { tokens: { previous: tokenName } } : {}),
          detail: { reason, kind: action.kind, graceEndedAt: action.graceEndedAt.toISOString() },
        }),
      );
    }
  }

  /**
   * Whether the live value (AWSCURRENT) holds the same token as `value` (someone stored the same
   * key in a new version, e.g. edited a notes field in the console): by identical values, or by
   * the kind's contract (Issuer.tokenOf). Undefined where the contract cannot tell: never guessed
   * from the values' shape.
   */
  async function sameAsLive(
    secret: SecretDescription,
    issuer: Issuer,
    value: string,
    known: string[],
  ): Promise<LiveCheck> {
    const current = await store.getValue(secret.arn, { stage: STAGE.current });
    if (current === undefined) return { shared: false, by: 'no live value' };
    known.push(...secretParts(current));
    if (current === value) return { shared: true, by: 'whole value', current };
    const previousToken = issuer.tokenOf?.(value);
    const liveToken = issuer.tokenOf?.(current);
    if (!previousToken || !liveToken) return { shared: undefined, current };
    return {
      shared: previousToken.id === liveToken.id,
      by:
        previousToken.by === liveToken.by
          ? previousToken.by
          : `${previousToken.by} and ${liveToken.by}`,
      current,
    };
  }

  /**
   * A previous token that could not be revoked (or deleted): alerted once per incident, audited
   * when the incident is new, and returned as the scrubbed error the sweep reports as a failure.
   */
  async function revokeFailed(
    secret: SecretDescription,
    error: unknown,
    known: string[],
    failure: {
      incident: string;
      versions: Record<string, string>;
      tokenName: string | undefined;
      summary: string;
      meanwhile: string;
      detail?: Record<string, string>;
    },
  ): Promise<Error> {
    const message = describeError(error, known);
    const sent = await alert(secret, {
      event: 'previous.revoke.failed',
      incident: failure.incident,
      versionId: failure.versions.previous,
      summary: failure.summary,
      reason: message,
      nextSteps: [
        'Fix the cause (the issuer, its permissions); the sweep retries at every run.',
        failure.meanwhile,
      ],
    });
    if (isNew(sent)) {
      await audit.append(
        entry(secret, {
          event: 'previous.revoke.failed',
          outcome: 'failed',
          versions: failure.versions,
          ...(failure.tokenName ? { tokens: { previous: failure.tokenName } } : {}),
          error: message,
          ...(failure.detail ? { detail: failure.detail } : {}),
        }),
      );
    }
    return new Error(message);
  }

  /** The second stage of a two-stage revoke: delete the deactivated token, then drop its label. */
  async function deleteDeactivated(
    secret: SecretDescription,
    action: Extract<SweepAction, { type: 'delete-deactivated' }>,
  ) {
    const known: string[] = [];
    const versions = { previous: action.versionId };
    let tokenName: string | undefined;
    let shared = false;
    try {
      const issuer = deps.issuerFor(action.kind, { arn: secret.arn, name: secret.name });
      const value = await store.getValue(secret.arn, { versionId: action.versionId });
      if (value !== undefined) {
        known.push(...secretParts(value));
        tokenName = issuer.name(value);
        shared = (await sameAsLive(secret, issuer, value, known)).shared === true;
        if (!shared) {
          await issuer.revoke({
            secretArn: secret.arn,
            secretName: secret.name,
            versionId: action.versionId,
            value,
          });
        }
      }
      await pace(() => store.moveStage(secret.arn, action.label, undefined, action.versionId));
    } catch (error) {
      throw await revokeFailed(secret, error, known, {
        incident: `${action.versionId}:delete`,
        versions,
        tokenName,
        summary: `The deactivated previous token (version ${action.versionId}) was due for deletion and could not be deleted.`,
        meanwhile: 'The token stays deactivated meanwhile: it does not work.',
        detail: { stage: 'delete' },
      });
    }
    await audit.append(
      entry(secret, {
        event: 'previous.deleted',
        outcome: 'succeeded',
        versions,
        ...(tokenName ? { tokens: { previous: tokenName } } : {}),
        detail: {
          dueAt: action.dueAt.toISOString(),
          kind: action.kind,
          ...(shared && { sharedWithCurrent: true }),
        },
      }),
    );
  }
}

/**
 * Names one tag request (RevokeRequester): the secret, the tag's value, and the last revoke
 * (token-rotation:last-revoked), which every completed revoke moves on. Hex, 32 characters.
 */
export function tagRevokeRequestId(secret: Pick<SecretDescription, 'arn' | 'tags'>): string {
  return createHash('sha256')
    .update(
      `${secret.arn}\n${secret.tags[TAG.lastRevoked] ?? ''}\n${secret.tags[TAG.revoke] ?? ''}`,
      'utf8',
    )
    .digest('hex')
    .slice(0, 32);
}

// ---- one secret, outside a sweep (the tag-event handler) ----

/** What `sweepSecret` did: the actions planned and carried out, and what failed. */
export interface SecretSweepReport {
  actions: SweepAction[];
  alertsSent: number;
  failures: SweepFailure[];
}

/**
 * Plans one secret, as described now, and carries out the actions of the types in `only` (all
 * when absent), with the sweep's audit, alert and pacing rules. Never throws for the secret's
 * sake: failures are returned.
 */
export async function sweepSecret(
  deps: Omit<SweepDeps, 'cursor'>,
  secret: SecretDescription,
  options: {
    rotationFunctionArn: string;
    sweepIntervalMs: number;
    limits?: PolicyLimits;
    trigger: Trigger;
    only?: readonly SweepAction['type'][];
  },
): Promise<SecretSweepReport> {
  const report: SweepReport = {
    complete: true,
    pages: 0,
    secrets: 1,
    versionDateLookups: 0,
    actions: {},
    alertsSent: 0,
    alertsQueued: 0,
    failureCount: 0,
    failures: [],
  };
  const fail: Fail = (s, action, error, known = []) => {
    report.failureCount++;
    report.failures.push({
      secretArn: s.arn,
      secretName: s.name,
      action,
      error: describeError(error, known),
    });
  };
  let actions: SweepAction[] = [];
  try {
    actions = planSecret(secret, {
      now: deps.clock(),
      rotationFunctionArn: options.rotationFunctionArn,
      sweepIntervalMs: options.sweepIntervalMs,
      ...(options.limits ? { limits: options.limits } : {}),
    }).filter((a) => options.only === undefined || options.only.includes(a.type));
  } catch (error) {
    fail(secret, 'plan', error);
  }
  const execute = executor(deps, options.rotationFunctionArn, options.trigger, report, fail);
  for (const action of actions) {
    try {
      await execute(secret, action);
    } catch (error) {
      fail(secret, action.type, error);
    }
  }
  return { actions, alertsSent: report.alertsSent, failures: report.failures };
}

// ---- the detach pass over the managed set (see the header) ----

interface WalkContext {
  ctx: { rotationFunctionArn: string; sweepIntervalMs: number; limits?: PolicyLimits };
  seen: Set<string>;
  /** Resume after this member (an ARN). */
  after: string | undefined;
  outOfTime: () => boolean;
  execute: (secret: SecretDescription, action: SweepAction) => Promise<void>;
  fail: Fail;
  report: SweepReport;
}

/** Walks the managed set; returns where it stopped when time ran out, undefined when done. */
async function walkManaged(
  deps: SweepDeps,
  managed: ManagedSet,
  walk: WalkContext,
): Promise<Omit<SweepCursor, 'startedAt'> | undefined> {
  const stats = { pages: 0, members: 0, described: 0, forgotten: 0 };
  walk.report.managed = stats;
  let after = walk.after;
  const cut = () => ({
    phase: 'managed' as const,
    position: 0,
    ...(after !== undefined ? { managedAfter: after } : {}),
  });
  for (;;) {
    if (walk.outOfTime()) return cut();
    const page = await managed.page(after);
    stats.pages++;
    for (const member of page.members) {
      if (walk.outOfTime()) return cut();
      stats.members++;
      if (!walk.seen.has(member.arn)) {
        try {
          await checkMember(member);
        } catch (error) {
          walk.fail(
            { arn: member.arn, name: member.name, rotationEnabled: false, versions: {}, tags: {} },
            'managed',
            error,
          );
        }
      }
      after = member.arn;
    }
    if (page.last === undefined) return undefined;
    after = page.last;
  }

  async function checkMember(member: { arn: string; name: string }): Promise<void> {
    let secret: SecretDescription | undefined;
    stats.described++;
    try {
      // DescribeSecret shares GetSecretValue's 10,000/s quota: not paced under the 50/s ones.
      secret = await deps.store.describe(member.arn);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
    if (!secret || secret.deleted) {
      await managed.remove(member.arn);
      stats.forgotten++;
      return;
    }
    // Still opted in: an earlier invocation of this pass listed it, or it was tagged since.
    if (secret.tags[TAG.lifespan] !== undefined) return;
    const actions = planSecret(secret, { ...walk.ctx, now: deps.clock() });
    for (const action of actions) {
      walk.report.actions[action.type] = (walk.report.actions[action.type] ?? 0) + 1;
      await walk.execute(secret, action);
    }
    // No action: rotation is off, or belongs to another function now. Nothing of ours is left.
    if (actions.length === 0) {
      await managed.remove(member.arn);
      stats.forgotten++;
    } else if (actions.some((a) => a.type === 'detach')) {
      stats.forgotten++;
    }
  }
}
