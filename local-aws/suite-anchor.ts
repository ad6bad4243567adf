// The audit anchor as the stack deploys it (infra/audit-anchor.ts): a bucket with Object Lock in
// COMPLIANCE mode, and the audit-anchor function writing a checkpoint of every chain head to it
// every sweep interval.
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { knownChainHeads } from '#adapters/dynamodb-chain-heads';
import { S3CheckpointStore } from '#adapters/s3-checkpoints';
import type { CheckpointDeps } from '#domain/audit-anchor';
import type { ManagedSet } from '#domain/ports';
import { managedArns } from '#domain/sweep/managed';
import type { LocalAws } from './index.ts';
import { S3RestClient } from './s3-rest.ts';

/** Creates the checkpoint bucket: Object Lock on, COMPLIANCE for one day by default. */
export async function createCheckpointBucket(aws: LocalAws, bucket: string): Promise<void> {
  const s3 = new S3RestClient({
    region: aws.region,
    endpoint: aws.endpoint,
    credentials: aws.clientConfig.credentials,
  });
  await s3.send({
    method: 'PUT',
    bucket,
    headers: { 'x-amz-bucket-object-lock-enabled': 'true' },
  });
  await s3.send({
    method: 'PUT',
    bucket,
    query: { 'object-lock': '' },
    body: '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>',
  });
}

/** The audit anchor's checkpoint dependencies, as handlers/audit-anchor.ts builds them. */
export function localCheckpointDeps(
  aws: LocalAws,
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  bucket: string,
  managed?: ManagedSet,
): CheckpointDeps {
  return {
    heads: knownChainHeads(dynamo, tableName, async () => (managed ? managedArns(managed) : [])),
    store: new S3CheckpointStore({
      bucket,
      client: new S3Client({ ...aws.clientConfig, forcePathStyle: true }),
    }),
    clock: aws.clock.now,
  };
}
