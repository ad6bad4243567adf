// The lifespan sweep, invoked by EventBridge Scheduler every sweep interval: checks the event,
// sets the invocation's deadline from its remaining time, runs one sweep (domain/sweep/),
// emits the metrics the alarms and dashboard read, and logs a one-line summary.

import { deployedCheckpointDeps } from '#adapters/deployed-checkpoints';
import { deployedSweepDeps } from '#adapters/deployed-sweep';
import { knownChainHeads } from '#adapters/dynamodb-chain-heads';
import { DynamoSweepCursorStore } from '#adapters/dynamodb-sweep-cursor';
import { onFirstCall } from '#adapters/on-first-call';
import { dynamoClient } from '#commons/clients';
import { lifespanSettings, loadConfig } from '#commons/config';
import * as ENV from '#commons/env-names';
import { lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import { createMetrics, METRIC_NAMES, type MetricsSink, MetricUnit } from '#commons/metrics';
import { alertOf } from '#domain/alerts/catalog';
import { type CheckpointDeps, writeCheckpoint } from '#domain/audit-anchor';
import { describeError, ValidationError } from '#domain/errors';
import type { PolicyLimits } from '#domain/policy';
import type { RevokeRequester } from '#domain/ports';
import { secretNameFromArn } from '#domain/service-events';
import { runSweep, type SweepDeps, type SweepReport } from '#domain/sweep/index';
import { managedArns } from '#domain/sweep/managed';
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
  /**
   * Where each run anchors the chain heads (the AuditAnchor bucket); none when the stack has no
   * bucket, and then no checkpoint is written.
   */
  checkpoint?: CheckpointDeps;
}

/** What the sweep handler returns (and logs): the report without the failure list. */
export type SweepSummary = Omit<SweepReport, 'failures'> & {
  overdue: number;
  /** The checkpoint this run wrote (its sequence number), or why it wrote none. */
  checkpoint?: { seq: number; regressions: number } | { failed: string };
};

/**
 * The scheduler's input. Anything but an object (or nothing, from a console Test) is refused:
 * the sweep takes no parameters, so a string or array means it was wired to the wrong source.
 */
export function parseSweepEvent(event: unknown): { scheduledAt?: string } {
  if (event === undefined || event === null) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new ValidationError(
      '(all opted-in secrets)',
      'sweep',
      `expected the scheduler's input (an object, or nothing), found ${Array.isArray(event) ? 'an array' : `a ${typeof event}`}`,
      'invalid-event',
    );
  }
  const { scheduledAt } = event as Record<string, unknown>;
  if (scheduledAt === undefined) return {};
  if (typeof scheduledAt !== 'string' || Number.isNaN(Date.parse(scheduledAt))) {
    throw new ValidationError(
      '(all opted-in secrets)',
      'sweep',
      'expected scheduledAt to be an ISO-8601 time when present',
      'invalid-event',
    );
  }
  return { scheduledAt };
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
      if (resolved.checkpoint) {
        summary.checkpoint = await anchorChains(resolved.checkpoint, resolved.sweep.alerter);
      }
      emitMetrics(resolved.metrics, report, summary);
      for (const failure of report.failures.slice(0, 10)) {
        logger.warn('sweep: a secret failed', { ...failure });
      }
      logger.info(oneLine(summary), { sweep: summary });
      return summary;
    },
  });
}

/**
 * Writes one checkpoint of every chain head, alerting first on each chain that is now behind the
 * previous checkpoint (records cut from the table together with their HEAD item). An alert that
 * can be neither recorded nor sent stops the checkpoint, so the next run finds the regression
 * again. A failed checkpoint does not fail the sweep, whose rotations and revokes matter more:
 * it is logged and counted (CheckpointFailed), and the next run writes one that covers this
 * interval too.
 */
async function anchorChains(
  deps: CheckpointDeps,
  alerter: SweepDeps['alerter'],
): Promise<NonNullable<SweepSummary['checkpoint']>> {
  try {
    const written = await writeCheckpoint(deps, {
      beforePut: async (regressions, previous) => {
        for (const regression of regressions) {
          await alerter.send(
            alertOf('audit.chain-regressed', {
              secret: { arn: regression.secretArn, name: secretNameFromArn(regression.secretArn) },
              trigger: { source: 'schedule' },
              message: regression.message,
              checkpoint: previous
                ? `${previous.key} (version ${previous.versionId})`
                : 'the previous checkpoint',
            }),
          );
        }
      },
    });
    return { seq: written.checkpoint.seq, regressions: written.regressions.length };
  } catch (error) {
    const failed = describeError(error);
    logger.error('sweep: the audit checkpoint could not be written', { error: failed });
    return { failed };
  }
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
  if (summary.checkpoint && 'failed' in summary.checkpoint) {
    metrics?.addMetric('CheckpointFailed', MetricUnit.Count, 1);
  }
  if (summary.checkpoint && 'regressions' in summary.checkpoint) {
    metrics?.addMetric('ChainRegressions', MetricUnit.Count, summary.checkpoint.regressions);
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
  const anchor = deployedCheckpointDeps(config.auditTableName, dynamo);
  // Each run anchors the managed secrets' chains and those anchored before: no table Scan.
  const checkpoint = anchor && {
    ...anchor,
    heads: knownChainHeads(dynamo, config.auditTableName, async () =>
      deployed.managed ? managedArns(deployed.managed) : [],
    ),
  };
  return {
    ...lifespan,
    metrics: createMetrics(),
    sweep: {
      ...deployed,
      cursor: new DynamoSweepCursorStore(dynamo, config.auditTableName),
      ...(revokes && { revokes }),
    },
    ...(checkpoint && { checkpoint }),
  };
});
