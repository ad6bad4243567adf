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
import { indexSecret, markVersionRevoked } from '../isolation/index.ts';
import type { PolicyLimits } from '../policy.ts';
import type { SecretCatalog, SecretDescription, SweepCursor, SweepCursorStore } from '../ports.ts';
import { TAG, type Trigger } from '../vocabulary.ts';
import { runAction, type SweepAction } from './actions/index.ts';
import { type ActionContext, actionContext } from './context.ts';
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
import { inParallel, SWEEP_CONCURRENCY } from './workers.ts';

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
/** Pages of ListSecrets read ahead, at most, to count the backlog after a cut-off. */
const BACKLOG_PAGES = 100;

type Execute = (secret: SecretDescription, action: SweepAction) => Promise<void>;

/** One pass's state, shared by the listing and the detach pass. */
interface Pass {
  deps: SweepDeps;
  ctx: { rotationFunctionArn: string; sweepIntervalMs: number; limits?: PolicyLimits };
  report: SweepReport;
  fail: Fail;
  execute: Execute;
  /** Secrets worked on at once. */
  concurrency: number;
  outOfTime: () => boolean;
  startedAt: string;
  /** Secrets this invocation's listing showed: the detach pass skips them. */
  seen: Set<string>;
  c: ActionContext;
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
    concurrency: options.concurrency ?? SWEEP_CONCURRENCY,
    outOfTime: options.outOfTime ?? (() => clock().getTime() >= options.deadline.getTime()),
    startedAt: saved?.startedAt ?? clock().toISOString(),
    seen: new Set<string>(),
    c,
  };
  if (deps.isolation) {
    const isolation = deps.isolation;
    c.tokenRevoked = async (secret, versionId) => {
      await markVersionRevoked(c, isolation, secret, versionId);
    };
    // A key that could not be read last time is read again now; one read is kept for good.
    deps.isolation.key.retry();
    report.isolation = { read: 0, recorded: 0, shared: 0, rotated: 0 };
  }

  // First, so an outage of the listing or a short invocation never keeps an alert back.
  await deliverPendingAlerts(pass);
  if (!managedPhase) {
    const cut = await listPass(pass, saved?.nextToken, {
      skip: saved?.position ?? 0,
      ...(saved?.doneOnPage && { done: saved.doneOnPage }),
    });
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
 * Pages through the opted-in secrets from `token`, skipping what of its page was done already,
 * and sweeps them `concurrency` at a time; returns where it stopped when time ran out (and counts
 * what the pass has left, the backlog), undefined when it reached the last page.
 */
async function listPass(
  pass: Pass,
  token: string | undefined,
  resume: Resume,
): Promise<Omit<SweepCursor, 'startedAt'> | undefined> {
  const cut: { at?: ListingCut } = {};
  await inParallel(pass.concurrency, listed(pass, token, resume, cut), (secret) =>
    sweepListed(pass, secret),
  );
  if (cut.at === undefined) {
    pass.report.backlog = 0;
    return undefined;
  }
  // Not when it started past its deadline: then it read nothing, and has no time to read.
  if (pass.report.pages > 0) await countBacklog(pass, cut.at);
  return cut.at.cursor;
}

/**
 * What of the first page was done by an earlier invocation: its ARNs when it saved them (skipped
 * wherever the page lists them now), else a count of the page's first secrets (older cursors).
 */
interface Resume {
  skip: number;
  done?: string[];
}

/** Where the listing stopped for lack of time: the cursor, and what is left of the page. */
interface ListingCut {
  cursor: { nextToken: string | undefined; position: number; doneOnPage?: string[] };
  leftOnPage: number;
  /** The pages after those: from this token (undefined: the first page); absent, none. */
  rest?: { token: string | undefined };
}

/**
 * The opted-in secrets from `token` on, one at a time and in listing order (a worker takes each
 * as it is yielded). Stops when time runs out, saying where in `cut`.
 */
async function* listed(
  pass: Pass,
  token: string | undefined,
  resume: Resume,
  cut: { at?: ListingCut },
): AsyncGenerator<SecretDescription> {
  const { deps, report } = pass;
  let skip = resume.done ? 0 : resume.skip;
  // This page's secrets done in this pass, by ARN: saved at a cut, since listed again the page
  // may leave some out or show others (ListSecrets is eventually consistent).
  let done = new Set(resume.done ?? []);
  const at = (position: number) => ({
    nextToken: token,
    position,
    ...(done.size > 0 && { doneOnPage: [...done] }),
  });
  for (;;) {
    if (pass.outOfTime()) {
      cut.at = { cursor: at(skip), leftOnPage: 0, rest: { token } };
      return;
    }
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
        done = new Set();
        continue;
      }
      throw error;
    }
    report.pages++;
    for (let i = skip; i < page.secrets.length; i++) {
      const secret = page.secrets[i]!;
      // A listing may show a secret twice (ListSecrets is eventually consistent): one look a pass,
      // and never two workers on one secret. Passing over one takes no time, so a resumed page's
      // done secrets never use up an invocation that then does nothing.
      if (pass.seen.has(secret.arn) || done.has(secret.arn)) {
        done.add(secret.arn);
        continue;
      }
      if (pass.outOfTime()) {
        const leftOnPage = page.secrets.length - i;
        const rest = page.nextToken === undefined ? {} : { rest: { token: page.nextToken } };
        cut.at = { cursor: at(i), leftOnPage, ...rest };
        return;
      }
      done.add(secret.arn);
      report.secrets++;
      pass.seen.add(secret.arn);
      yield secret;
    }
    if (page.nextToken === undefined) return;
    token = page.nextToken;
    skip = 0;
    done = new Set();
  }
}

/**
 * How many opted-in secrets this pass has yet to reach (report.backlog), read ahead in the listing
 * after a cut-off: at most BACKLOG_PAGES pages, a few seconds of ListSecrets' quota, taken only
 * when the sweep is behind. Beyond that the count is a lower bound (backlogAtLeast).
 */
async function countBacklog(pass: Pass, cut: ListingCut): Promise<void> {
  const { deps, report } = pass;
  let backlog = cut.leftOnPage;
  let more = cut.rest !== undefined;
  let token = cut.rest?.token;
  try {
    for (let pages = 0; more; pages++) {
      if (pages === BACKLOG_PAGES) {
        report.backlogAtLeast = true;
        break;
      }
      const from = token;
      const page = await deps.pace(
        () => deps.catalog.listTagged(TAG.lifespan, from),
        'ListSecrets',
      );
      backlog += page.secrets.length;
      token = page.nextToken;
      more = token !== undefined;
    }
    report.backlog = backlog;
  } catch (error) {
    deps.log?.warn('sweep: could not count the backlog', { error: describeError(error) });
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
  // After the actions, so that a rotation they started is indexed by the next sweep as it ends.
  if (deps.isolation && report.isolation) {
    const done = await indexSecret(pass.c, deps.isolation, secret);
    for (const k of ['read', 'recorded', 'shared', 'rotated'] as const)
      report.isolation[k] += done[k];
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
  if (at.doneOnPage !== undefined) saved.doneOnPage = at.doneOnPage;
  // For `status`: how far behind the pass is, as this invocation counted it.
  if (report.backlog !== undefined) saved.backlog = report.backlog;
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
    /** A tag event changed the declared scopes. */
    scopesChanged?: boolean;
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
      ...(options.scopesChanged && { scopesChanged: true }),
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
