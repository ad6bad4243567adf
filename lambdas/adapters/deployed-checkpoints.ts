// writeCheckpoint's dependencies in a deployed function, from the environment the construct sets:
// CHECKPOINT_BUCKET_NAME (the AuditAnchor bucket) and CHECKPOINT_RETENTION_DAYS (default 400).
// Without a bucket there is nothing to anchor to, and the caller skips the checkpoint.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type CheckpointDeps, DEFAULT_RETENTION_DAYS } from '#domain/audit-anchor';
import { systemClock } from '#domain/ports';
import { dynamoChainHeads } from './dynamodb-chain-heads.ts';
import { S3CheckpointStore } from './s3-checkpoints.ts';
import { s3RestClientLike } from './s3-rest.ts';

export function deployedCheckpointDeps(
  tableName: string,
  dynamo: DynamoDBDocumentClient,
  env: NodeJS.ProcessEnv = process.env,
): CheckpointDeps | undefined {
  const bucket = env.CHECKPOINT_BUCKET_NAME?.trim();
  if (!bucket) return undefined;
  const days = Number(env.CHECKPOINT_RETENTION_DAYS?.trim() || DEFAULT_RETENTION_DAYS);
  if (!Number.isInteger(days) || days < 1) {
    throw new Error(
      `CHECKPOINT_RETENTION_DAYS must be a whole number of days ≥ 1, found "${env.CHECKPOINT_RETENTION_DAYS}"`,
    );
  }
  return {
    heads: dynamoChainHeads(dynamo, tableName),
    store: new S3CheckpointStore({ bucket, client: s3RestClientLike(dynamo, env) }),
    clock: systemClock,
    retentionDays: days,
  };
}
