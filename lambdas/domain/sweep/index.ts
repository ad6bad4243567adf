// The lifespan sweep: pages through every opted-in secret, plans each (plan.ts) and carries the
// plan out (actions/, one file per thing the sweep looks for), paced under Secrets Manager's
// quotas, audited and alerted once per incident. Then it walks the managed set (managed.ts).
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
import { describeError, errorCode } from '../errors.ts';
import type { PolicyLimits } from '../policy.ts';
import type { SecretCatalog, SecretDescription, SweepCursor, SweepCursorStore } from '../ports.ts';
import { TAG, type Trigger } from '../vocabulary.ts';
import { runAction, type SweepAction } from './actions/index.ts';
import { actionContext } from './context.ts';
import { walkManaged } from './managed.ts';
import { needsVersionDates, planSecret } from './plan.ts';
import {
  emptyReport,
  type Fail,
  failureRecorder,
  MAX_PENDING_ALERTS_PER_SWEEP,
  type SweepDeps,
  type SweepFailure,
  type SweepOptions,
  type SweepReport,
} from './report.ts';

export { tagRevokeRequestId } from './actions/revoke-requested.ts';
export {
  MAX_PENDING_ALERTS_PER_SWEEP,
  MAX_REPORTED_FAILURES,
  type SweepDeps,
  type SweepFailure,
  type SweepOptions,
  type SweepReport,
} from './report.ts';

const SCHEDULE_TRIGGER: Trigger = { source: 'schedule' };

type Execute = (secret: SecretDescription, action: SweepAction) => Promise<void>;

/** One pass's state, shared by the listing and the detach pass. */
interface Pass {
  deps: SweepDeps;
  ctx: { rotationFunctionArn: string; sweepIntervalMs: number; limits?: PolicyLimits };
  report: SweepReport;
  fail: Fail;
  execute: Execute;
  outOfTime: () => boolean;
  startedAt: string;
  /** Secrets this invocation's listing showed: the detach pass skips them. */
  seen: Set<string>;
}

export async function runSweep(deps: SweepDeps, options: SweepOptions): Promise<SweepReport> {
  const { clock, cursor } = deps;
  const report = emptyReport();
  const fail = failureRecorder(report, deps.log);
  const saved = await cursor.get();
  if (saved) report.resumedFrom = saved;
  const managedPhase = saved?.phase === 'managed';
  const c = actionContext(
    deps,
    options.rotationFunctionArn,
    options.trigger ?? SCHEDULE_TRIGGER,
    report,
    fail,
  );
  const pass: Pass = {
    deps,
    ctx: {
      rotationFunctionArn: options.rotationFunctionArn,
      sweepIntervalMs: options.sweepIntervalMs,
      ...(options.limits ? { limits: options.limits } : {}),
    },
    report,
    fail,
    execute: (secret, action) => runAction(c, secret, action),
    outOfTime: options.outOfTime ?? (() => clock().getTime() >= options.deadline.getTime()),
    startedAt: saved?.startedAt ?? clock().toISOString(),
    seen: new Set<string>(),
  };

  // First, so an outage of the listing or a short invocation never keeps an alert back.
  await deliverPendingAlerts(pass);
  if (!managedPhase) {
    const cut = await listPass(pass, saved?.nextToken, saved?.position ?? 0);
    if (cut) return stop(report, cursor, { ...cut, startedAt: pass.startedAt });
  }
  if (deps.managed) {
    const cut = await walkManaged(deps, deps.managed, {
      ...pass,
      after: managedPhase ? saved?.managedAfter : undefined,
    });
    if (cut) return stop(report, cursor, { ...cut, startedAt: pass.startedAt });
  }
  await cursor.clear();
  report.complete = true;
  return report;
}

/** Publishes alerts recorded earlier and still undelivered (the alert outbox). */
async function deliverPendingAlerts({ deps, report, outOfTime }: Pass): Promise<void> {
  if (!deps.alerter.deliverPending) return;
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

/**
 * Pages through the opted-in secrets from `token`, skipping the first `skip` of its page; returns
 * where it stopped when time ran out, undefined when it reached the last page.
 */
async function listPass(
  pass: Pass,
  token: string | undefined,
  skip: number,
): Promise<Omit<SweepCursor, 'startedAt'> | undefined> {
  const { deps, report } = pass;
  for (;;) {
    if (pass.outOfTime()) return { nextToken: token, position: skip };
    let page: Awaited<ReturnType<SecretCatalog['listTagged']>>;
    try {
      page = await deps.pace(() => deps.catalog.listTagged(TAG.lifespan, token), 'ListSecrets');
    } catch (error) {
      // A saved token Secrets Manager no longer accepts: start the pass again from the top
      // rather than fail at every invocation.
      if (token !== undefined && report.pages === 0 && errorCode(error) === 'invalid-next-token') {
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
      if (pass.outOfTime()) return { nextToken: token, position: i };
      const secret = page.secrets[i]!;
      report.secrets++;
      pass.seen.add(secret.arn);
      await sweepListed(pass, secret);
    }
    if (page.nextToken === undefined) return undefined;
    token = page.nextToken;
    skip = 0;
  }
}

/** Plans one listed secret (looking its version dates up only when the plan needs them) and acts. */
async function sweepListed(pass: Pass, secret: SecretDescription): Promise<void> {
  const { deps, report } = pass;
  let actions: SweepAction[];
  try {
    const now = deps.clock();
    let versionDates: Record<string, Date> | undefined;
    if (needsVersionDates(secret, { ...pass.ctx, now })) {
      report.versionDateLookups++;
      versionDates = await deps.pace(
        () => deps.catalog.versionDates(secret.arn),
        'ListSecretVersionIds',
      );
    }
    actions = planSecret(secret, { ...pass.ctx, now: deps.clock(), versionDates });
  } catch (error) {
    pass.fail(secret, 'plan', error);
    return;
  }
  for (const action of actions) {
    report.actions[action.type] = (report.actions[action.type] ?? 0) + 1;
    try {
      await pass.execute(secret, action);
    } catch (error) {
      pass.fail(secret, action.type, error);
    }
  }
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
  const report: SweepReport = { ...emptyReport(), complete: true, secrets: 1 };
  const fail = failureRecorder(report);
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
  const c = actionContext(deps, options.rotationFunctionArn, options.trigger, report, fail);
  for (const action of actions) {
    try {
      await runAction(c, secret, action);
    } catch (error) {
      fail(secret, action.type, error);
    }
  }
  return { actions, alertsSent: report.alertsSent, failures: report.failures };
}
