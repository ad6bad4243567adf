// The audit anchor, invoked by EventBridge Scheduler every sweep interval: writes one checkpoint
// of every audit chain's head to the AuditAnchor's Object Lock bucket (domain/audit-anchor.ts),
// alerting audit.chain-regressed first on each chain that went back since the previous one.
// Its own function, so the sweep carries no S3 client and no bucket grant.

import { deployedAuditAndAlerts } from '#adapters/deployed-audit-and-alerts';
import { deployedCheckpointDeps } from '#adapters/deployed-checkpoints';
import { knownChainHeads } from '#adapters/dynamodb-chain-heads';
import { DynamoManagedSet } from '#adapters/dynamodb-managed-set';
import { dynamoClient } from '#commons/clients';
import { ConfigError, loadConfig } from '#commons/config';
import { lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import { createMetrics, type MetricsSink, MetricUnit } from '#commons/metrics';
import { parseScheduleInput } from '#commons/schedule-input';
import { alertOf } from '#domain/alerts/catalog';
import { type CheckpointDeps, writeCheckpoint } from '#domain/audit-anchor';
import { describeError } from '#domain/errors';
import type { Alerter } from '#domain/ports';
import { secretNameFromArn } from '#domain/service-events';
import { managedArns } from '#domain/sweep/managed';

export interface AuditAnchorHandlerDeps {
  /** The chain heads, the checkpoint bucket, the clock and the retention. */
  checkpoint: CheckpointDeps;
  /** Where audit.chain-regressed goes (recorded in the outbox, then published). */
  alerter: Alerter;
  metrics?: MetricsSink;
}

/** The checkpoint this run wrote (its sequence number and the chains found behind), or why none. */
export type AnchorSummary = { seq: number; regressions: number } | { failed: string };

/**
 * Writes one checkpoint of every chain head, alerting first on each chain that is now behind the
 * previous checkpoint (records cut from the table together with their HEAD item). An alert that
 * can be neither recorded nor sent stops the checkpoint, so the next run finds the regression
 * again. A failed checkpoint is logged and returned here; the handler counts it
 * (CheckpointFailed) and fails the invocation, so the function's Errors alarm tells the operator
 * that records since the last checkpoint are not anchored yet.
 */
export async function anchorChains(deps: CheckpointDeps, alerter: Alerter): Promise<AnchorSummary> {
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
    logger.error('audit-anchor: the audit checkpoint could not be written', { error: failed });
    return { failed };
  }
}

export function createAuditAnchorHandler(
  deps: AuditAnchorHandlerDeps | (() => AuditAnchorHandlerDeps),
) {
  return lambdaHandler({
    name: 'audit-anchor',
    deps,
    failed: 'audit-anchor failed',
    metrics: (resolved) => resolved?.metrics,
    run: async (event, { deps: depsOf }): Promise<AnchorSummary> => {
      const resolved = depsOf();
      const { scheduledAt } = parseScheduleInput(event, 'audit-anchor');
      if (scheduledAt) logger.appendKeys({ scheduledAt });
      const summary = await anchorChains(resolved.checkpoint, resolved.alerter);
      if ('failed' in summary) {
        resolved.metrics?.addMetric('CheckpointFailed', MetricUnit.Count, 1);
        // Failed loudly: the invocation's error is what the function's Errors alarm e-mails (with
        // the runbook line), and the one async retry may find the bucket reachable again.
        throw new Error(`the audit checkpoint could not be written: ${summary.failed}`);
      } else {
        resolved.metrics?.addMetric('ChainRegressions', MetricUnit.Count, summary.regressions);
        logger.info(
          `audit-anchor: checkpoint ${summary.seq} written; ${summary.regressions} chains went back`,
          { checkpoint: summary },
        );
      }
      return summary;
    },
  });
}

/** The deployed handler, configured from the environment the AuditAnchor construct sets. */
export const handler = createAuditAnchorHandler(() => {
  const config = loadConfig();
  const dynamo = dynamoClient();
  const anchor = deployedCheckpointDeps(config.auditTableName, dynamo);
  if (!anchor) {
    throw new ConfigError('CHECKPOINT_BUCKET_NAME is not set: there is no bucket to anchor to');
  }
  const managed = new DynamoManagedSet(dynamo, config.auditTableName);
  return {
    // The managed secrets' chains and those anchored before: no table Scan.
    checkpoint: {
      ...anchor,
      heads: knownChainHeads(dynamo, config.auditTableName, () => managedArns(managed)),
    },
    alerter: deployedAuditAndAlerts(config, dynamo).alerter,
    metrics: createMetrics(),
  };
});
