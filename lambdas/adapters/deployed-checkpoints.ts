// writeCheckpoint's dependencies in a deployed function, from the environment the construct sets:
// CHECKPOINT_BUCKET_NAME (the AuditAnchor bucket) and CHECKPOINT_RETENTION_DAYS (default 400).
// Without a bucket there is nothing to anchor to, and the caller skips the checkpoint. The S3
// store (and the S3 client) is imported on its first call (on-first-call.ts).
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as ENV from '#commons/env-names';
import { type CheckpointDeps, DEFAULT_RETENTION_DAYS } from '#domain/audit-anchor';
import { systemClock } from '#domain/ports';
import { dynamoChainHeads } from './dynamodb-chain-heads.ts';
import { onFirstCall } from './on-first-call.ts';

export function deployedCheckpointDeps(
  tableName: string,
  dynamo: DynamoDBDocumentClient,
  env: NodeJS.ProcessEnv = process.env,
  client?: S3Client,
): CheckpointDeps | undefined {
  const bucket = env[ENV.CHECKPOINT_BUCKET_NAME]?.trim();
  if (!bucket) return undefined;
  const days = Number(env[ENV.CHECKPOINT_RETENTION_DAYS]?.trim() || DEFAULT_RETENTION_DAYS);
  if (!Number.isInteger(days) || days < 1) {
    throw new Error(
      `${ENV.CHECKPOINT_RETENTION_DAYS} must be a whole number of days ≥ 1, found "${env[ENV.CHECKPOINT_RETENTION_DAYS]}"`,
    );
  }
  return {
    heads: dynamoChainHeads(dynamo, tableName),
    store: onFirstCall(async () => {
      const s3 = await import('./s3-checkpoints.ts');
      return client
        ? new s3.S3CheckpointStore({ bucket, client })
        : s3.deployedCheckpointStore(bucket, env);
    }, ['latest', 'put', 'list']),
    clock: systemClock,
    retentionDays: days,
  };
}
