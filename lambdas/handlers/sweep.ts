// The lifespan sweep, invoked by EventBridge Scheduler every sweep interval: checks the event,
// sets the invocation's deadline from its remaining time, runs one sweep (domain/sweep/),
// emits the metrics the alarms and dashboard read, and logs a one-line summary.

import { deployedSweepDeps } from '#adapters/deployed-sweep';
import { DynamoSweepCursorStore } from '#adapters/dynamodb-sweep-cursor';
import { onFirstCall } from '#adapters/on-first-call';
import { dynamoClient } from '#commons/clients';
import { lifespanSettings, loadConfig } from '#commons/config';
import * as ENV from '#commons/env-names';
import { lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import { createMetrics, METRIC_NAMES, type MetricsSink, MetricUnit } from '#commons/metrics';
import { parseScheduleInput } from '#commons/schedule-input';
import type { PolicyLimits } from '#domain/policy';
import type { RevokeRequester } from '#domain/ports';
import { runSweep, type SweepDeps, type SweepReport } from '#domain/sweep/index';
import type { SweepAction } from '#domain/sweep/plan';

/**
 * Time kept back from the invocation for the secrets in hand when the deadline passes (up to the
 * sweep's concurrency): their calls may back off on throttling (the pacer waits up to 8 s a try),
 * the backlog is counted (a few seconds of ListSecrets) and the cursor must be saved.
 */
export const SAFETY_MARGIN_MS = 120_000;
/** Assumed when there is no Lambda context (a direct call): Lambda's longest invocation. */
const DEFAULT_REMAINING_MS = 15 * 60_000;

/** Metric per sweep action (besides OverdueSecrets and SweepCompleted, which alarms read). */
export const ACTION_METRICS: Partial<Record<SweepAction['type'], string>> = {
  attach: 'RotationsAttached',
  'update-schedule': 'SchedulesUpdated',
  detach: 'RotationsDetached',
  'rotate-early': 'EarlyRotations',
  'rotation-stuck': 'StuckRotations',
  'revoke-previous': 'PreviousRevoked',
  'policy-invalid': 'InvalidPolicies',
};

export interface SweepHandlerDeps {
  sweep: SweepDeps;
  rotationFunctionArn: string;
  sweepIntervalMs: number;
  /** The stack's policy limits (maxLifespan); the defaults when not given. */
  limits?: PolicyLimits;
  metrics?: MetricsSink;
  /** Milliseconds on a monotonic clock, for the invocation's own time. Default performance.now. */
  elapsed?: () => number;
  safetyMarginMs?: number;
}

/** What the sweep handler returns (and logs): the report without the failure list. */
export type SweepSummary = Omit<SweepReport, 'failures'> & { overdue: number };

/** The scheduler's input (#commons/schedule-input): an object, or nothing. */
export function parseSweepEvent(event: unknown): { scheduledAt?: string } {
  return parseScheduleInput(event, 'sweep');
}

function summarise(report: SweepReport): SweepSummary {
  const { failures: _failures, ...rest } = report;
  return { ...rest, overdue: report.actions['lifespan-overdue'] ?? 0 };
}

function oneLine(s: SweepSummary): string {
  const actions = Object.entries(s.actions)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  const backlog =
    s.backlog === undefined
      ? ''
      : `, ${s.backlogAtLeast ? 'at least ' : ''}${s.backlog} secrets to go`;
  const where = s.complete
    ? 'complete'
    : `stopped at its deadline (the next sweep carries on${backlog})`;
  const managed = s.managed
    ? `, managed set ${s.managed.members} (${s.managed.described} described, ${s.managed.forgotten} forgotten)`
    : '';
  return `sweep ${where}: ${s.secrets} secrets on ${s.pages} pages${managed}; ${actions || 'no actions'}; ${s.overdue} overdue; ${s.failureCount} failures`;
}

export function createSweepHandler(deps: SweepHandlerDeps | (() => SweepHandlerDeps)) {
  return lambdaHandler({
    name: 'sweep',
    deps,
    // The listing itself failed (or the cursor could not be read): nobody was swept. The
    // missing SweepCompleted raises the alarm after two intervals.
    failed: 'sweep failed',
    metrics: (resolved) => resolved?.metrics,
    run: async (event, { deps: depsOf, context }): Promise<SweepSummary> => {
      const resolved = depsOf();
      const { scheduledAt } = parseSweepEvent(event);
      if (scheduledAt) logger.appendKeys({ scheduledAt });
      const elapsed = resolved.elapsed ?? (() => performance.now());
      const margin = resolved.safetyMarginMs ?? SAFETY_MARGIN_MS;
      const budgetMs = (context?.getRemainingTimeInMillis() ?? DEFAULT_REMAINING_MS) - margin;
      const endsAt = elapsed() + budgetMs;
      const report = await runSweep(resolved.sweep, {
        rotationFunctionArn: resolved.rotationFunctionArn,
        sweepIntervalMs: resolved.sweepIntervalMs,
        ...(resolved.limits ? { limits: resolved.limits } : {}),
        deadline: new Date(resolved.sweep.clock().getTime() + budgetMs),
        outOfTime: () => elapsed() >= endsAt,
      });
      const summary = summarise(report);
      emitMetrics(resolved.metrics, report, summary);
      for (const failure of report.failures.slice(0, 10)) {
        logger.warn('sweep: a secret failed', { ...failure });
      }
      logger.info(oneLine(summary), { sweep: summary });
      return summary;
    },
  });
}

function emitMetrics(metrics: MetricsSink | undefined, report: SweepReport, summary: SweepSummary) {
  metrics?.addMetric(METRIC_NAMES.overdueSecrets, MetricUnit.Count, summary.overdue);
  metrics?.addMetric(METRIC_NAMES.sweepCompleted, MetricUnit.Count, report.complete ? 1 : 0);
  for (const [type, name] of Object.entries(ACTION_METRICS)) {
    const count = report.actions[type as SweepAction['type']] ?? 0;
    if (count > 0) metrics?.addMetric(name, MetricUnit.Count, count);
  }
  metrics?.addMetric('SweepFailures', MetricUnit.Count, report.failureCount);
  // Opted-in secrets the pass has yet to reach: above zero, the next invocation carries on.
  if (report.backlog !== undefined) {
    metrics?.addMetric(METRIC_NAMES.sweepBacklog, MetricUnit.Count, report.backlog);
  }
}

/**
 * The revoke function the sweep hands revoke tags to (REVOKE_FUNCTION_ARN, set by the construct),
 * or none: without it the sweep leaves revoke tags to their tag events, as before.
 */
export function revokeRequesterFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): RevokeRequester | undefined {
  const functionArn = env[ENV.REVOKE_FUNCTION_ARN]?.trim();
  if (!functionArn) return undefined;
  // The Lambda client is loaded when the sweep first finds a revoke tag (on-first-call.ts).
  return onFirstCall(
    async () =>
      (await import('#adapters/lambda-revoke-requester')).deployedRevokeRequester(functionArn),
    ['requestRevoke'],
  );
}

/** The deployed handler, configured from the environment the CDK construct sets. */
export const handler = createSweepHandler(() => {
  const config = loadConfig();
  const lifespan = lifespanSettings(config);
  const dynamo = dynamoClient();
  const revokes = revokeRequesterFromEnv();
  const deployed = deployedSweepDeps(config, dynamo);
  return {
    ...lifespan,
    metrics: createMetrics(),
    sweep: {
      ...deployed,
      cursor: new DynamoSweepCursorStore(dynamo, config.auditTableName),
      ...(revokes && { revokes }),
    },
  };
});
