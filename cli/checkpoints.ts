// The anchored audit trail as the CLI reads it: every checkpoint in the stack's checkpoint bucket
// (`--checkpoint-bucket`, else the stack output CheckpointBucketName), the checkpoint chain
// checked, and the heads each chain was checkpointed at, for verify-audit and evidence.
import { S3Client } from '@aws-sdk/client-s3';
import { S3CheckpointStore } from '#adapters/s3-checkpoints';
import {
  type AnchoredHead,
  anchoredHeads,
  type Checkpoint,
  type CheckpointFinding,
  type CheckpointRef,
  verifyCheckpoints,
} from '#domain/audit-anchor';
import { explain, STACK_OUTPUT, type Stack } from './aws.ts';
import type { CommandContext } from './main.ts';

export interface CheckpointEvidence {
  bucket: string;
  /** Every readable checkpoint, oldest first, with where it lies and how long it is locked. */
  checkpoints: (Checkpoint & { ref: CheckpointRef })[];
  /** Objects under the prefix that are not checkpoints (counted among the findings). */
  unreadable: number;
  findings: CheckpointFinding[];
  /** Every (seq, hash) each chain was checkpointed at. */
  anchors: Map<string, AnchoredHead[]>;
}

/** The bucket the command should read checkpoints from, if the operator or the stack names one. */
export function checkpointBucket(ctx: CommandContext, stack: Stack): string | undefined {
  const flag = ctx.values['checkpoint-bucket'];
  if (typeof flag === 'string' && flag !== '') return flag;
  return stack.outputs[STACK_OUTPUT.checkpointBucket] || undefined;
}

/** The checkpoint store over the CLI's own client config (region, profile, endpoint). */
function openStore(ctx: CommandContext, bucket: string) {
  const target = ctx.connection.target;
  // A custom endpoint is path-style.
  const client = new S3Client({
    maxAttempts: 8,
    retryMode: 'adaptive',
    ...(target.region ? { region: target.region } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
  });
  return { client, store: new S3CheckpointStore({ bucket, client }) };
}

/** The newest checkpoint in `bucket` (status), found among the last two days' keys first. */
export async function readLatestCheckpoint(
  ctx: CommandContext,
  bucket: string,
): Promise<Checkpoint | undefined> {
  const { client, store } = openStore(ctx, bucket);
  try {
    const since = new Date(ctx.clock().getTime() - 2 * 86_400_000);
    return (await store.latest(since))?.checkpoint;
  } catch (error) {
    throw explain(error, ctx.connection);
  } finally {
    client.destroy();
  }
}

/** Reads and checks every checkpoint in `bucket` (ListObjectVersions, then GetObject of each). */
export async function readCheckpoints(
  ctx: CommandContext,
  bucket: string,
): Promise<CheckpointEvidence> {
  const { client, store } = openStore(ctx, bucket);
  ctx.progress(`reading the checkpoints in s3://${bucket}…`);
  let stored: Awaited<ReturnType<S3CheckpointStore['list']>>;
  try {
    stored = await store.list();
  } catch (error) {
    throw explain(error, ctx.connection);
  } finally {
    client.destroy();
  }
  const checkpoints = stored
    .flatMap((s) => (s.checkpoint ? [{ ...s.checkpoint, ref: s.ref }] : []))
    .sort((a, b) => a.seq - b.seq);
  ctx.progress(`${checkpoints.length} checkpoints read`);
  return {
    bucket,
    checkpoints,
    unreadable: stored.length - checkpoints.length,
    findings: verifyCheckpoints(stored),
    anchors: anchoredHeads(stored),
  };
}
