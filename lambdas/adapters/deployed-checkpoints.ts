// writeCheckpoint's dependencies in a deployed function, from the environment the construct sets:
// CHECKPOINT_BUCKET_NAME (the AuditAnchor bucket) and CHECKPOINT_RETENTION_DAYS (default 400).
// Without a bucket there is nothing to anchor to, and the caller skips the checkpoint.
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as ENV from '#commons/env-names';
import { type CheckpointDeps, DEFAULT_RETENTION_DAYS } from '#domain/audit-anchor';
import { systemClock } from '#domain/ports';
import { dynamoChainHeads } from './dynamodb-chain-heads.ts';
import { S3CheckpointStore } from './s3-checkpoints.ts';

let s3: S3Client | undefined;

/**
 * One S3 client per container. A custom endpoint (the embedded local AWS, a compatible store)
 * is addressed path-style: it has no per-bucket host names.
 */
const s3Client = (env: NodeJS.ProcessEnv) =>
  (s3 ??= new S3Client({
    maxAttempts: 8,
    retryMode: 'adaptive',
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
  }));

export function deployedCheckpointDeps(
  tableName: string,
  dynamo: DynamoDBDocumentClient,
  env: NodeJS.ProcessEnv = process.env,
  client: S3Client = s3Client(env),
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
    store: new S3CheckpointStore({ bucket, client }),
    clock: systemClock,
    retentionDays: days,
  };
}
