// `verify-audit [<secret>]`: checks one secret's hash chain, or every chain in the table, and
// names each break, including a chain that should exist and does not, or ends before the head
// recorded beside it (chains.ts expectedChainHeads). Exit code 1 when any chain is broken or
// missing, so a scheduled job can page on it. With a checkpoint bucket (the anchored audit trail),
// every checkpoint is checked too, and each chain must reach every head a checkpoint recorded:
// a chain cut short together with its HEAD item no longer passes.
import { choice } from '../args.ts';
import { STACK_OUTPUT } from '../aws.ts';
import {
  type ExpectedChain,
  expectedChainHead,
  expectedChainHeads,
  listChains,
  type VerifiedChain,
  verifyTrails,
  withAnchors,
} from '../chains.ts';
import { type CheckpointEvidence, checkpointBucket, readCheckpoints } from '../checkpoints.ts';
import type { Command } from '../main.ts';
import { trailArn } from './audit.ts';

export const verifyAudit: Command = async (ctx) => {
  const format = choice(ctx.values.format, 'format', ['text', 'json'], 'text', 'verify-audit');
  const stack = await ctx.stack();
  const log = stack.audit(ctx.clock);
  const tableName = stack.require(STACK_OUTPUT.auditTable);
  const secretId = ctx.positionals[0];
  const bucket = checkpointBucket(ctx, stack);
  const anchored = bucket ? await readCheckpoints(ctx, bucket) : undefined;

  let arns: string[];
  let expected: Map<string, ExpectedChain>;
  if (secretId) {
    const arn = await trailArn(ctx, secretId);
    arns = [arn];
    // A secret deleted from Secrets Manager keeps its trail; only its tags are gone.
    const secret = await ctx.connection.store.describe(arn).catch(() => undefined);
    const one = await expectedChainHead(ctx.connection, log, tableName, arn, secret);
    expected = new Map(one ? [[arn, one]] : []);
    if (anchored) withAnchors(expected, anchored.anchors, arn);
  } else {
    ctx.progress('finding every chain in the audit table…');
    const found = await listChains(ctx.connection.dynamo, tableName, (page, count) =>
      ctx.progress(`scanned page ${page}: ${count} chains so far`),
    );
    expected = await expectedChainHeads(ctx.connection, tableName, found.heads, ctx.progress);
    if (anchored) withAnchors(expected, anchored.anchors);
    arns = [...new Set([...found.arns, ...expected.keys()])];
  }
  // One secret's chain is read in one go: no progress to tell.
  const chains = await verifyTrails(log, arns, expected, arns.length > 1 ? ctx.progress : () => {});
  chains.sort((a, b) => a.secretName.localeCompare(b.secretName));
  const broken = chains.filter((chain) => !chain.report.ok);
  const ok = broken.length === 0 && (anchored?.findings.length ?? 0) === 0;

  if (format === 'json') {
    const checkpoints = anchored ? checkpointsJson(anchored) : null;
    ctx.out(`${JSON.stringify({ ok, chains: chains.map(asJson), checkpoints }, null, 2)}\n`);
    return ok ? 0 : 1;
  }
  if (secretId && chains[0]?.report.total === 0 && chains[0].report.ok) {
    ctx.out(`No audit records for ${secretId}: there is no chain to verify.\n`);
  } else {
    for (const chain of chains) ctx.out(describe(chain));
    const records = chains.reduce((sum, chain) => sum + chain.report.total, 0);
    const missing = broken.filter((chain) => chain.report.total === 0).length;
    ctx.out(
      `\n${chains.length} chain${chains.length === 1 ? '' : 's'}, ${records} records: ${
        broken.length === 0
          ? 'every chain verifies.'
          : `${broken.length} broken${missing ? ` (${missing} missing)` : ''}.`
      }\n`,
    );
  }
  ctx.out(anchored ? describeCheckpoints(anchored) : NO_CHECKPOINTS);
  return ok ? 0 : 1;
};

const NO_CHECKPOINTS =
  'No checkpoint bucket (--checkpoint-bucket, or the stack output CheckpointBucketName): a chain cut short together with its HEAD item cannot be told from a short one.\n';

function describeCheckpoints({ bucket, checkpoints, findings }: CheckpointEvidence): string {
  const newest = checkpoints.at(-1);
  const where = newest
    ? `, newest #${newest.seq} at ${newest.at.replace(/\.\d{3}Z$/, 'Z')}, locked until ${newest.ref.retainUntil ?? '(not locked)'}`
    : '';
  if (findings.length === 0) {
    return `✓ checkpoints in s3://${bucket}: ${checkpoints.length} verified${where}\n`;
  }
  const lines = findings.map((f) => `    ${f.kind}: ${f.message}\n`).join('');
  return `✗ checkpoints in s3://${bucket}: ${findings.length} problem${findings.length === 1 ? '' : 's'} in ${checkpoints.length} checkpoints${where}\n${lines}`;
}

const checkpointsJson = ({ bucket, checkpoints, findings }: CheckpointEvidence) => ({
  bucket,
  ok: findings.length === 0,
  count: checkpoints.length,
  newest: checkpoints.at(-1)
    ? { seq: checkpoints.at(-1)!.seq, at: checkpoints.at(-1)!.at, ...checkpoints.at(-1)!.ref }
    : null,
  findings,
});

function describe({ secretName, report }: VerifiedChain): string {
  if (report.ok) {
    const head = report.head ? `, head #${report.head.seq} ${report.head.hash.slice(0, 12)}` : '';
    return `✓ ${secretName}: ${report.total} records verified${head}\n`;
  }
  const lines = report.breaks.map((b) => `    ${b.kind}: ${b.message}\n`).join('');
  const state = report.total === 0 ? 'MISSING' : 'BROKEN';
  return `✗ ${secretName}: ${state}: ${report.verified} of ${report.total} records verified, ${report.breaks.length} break${report.breaks.length === 1 ? '' : 's'} (${report.secretArn})\n${lines}`;
}

const asJson = ({ secretName, report }: VerifiedChain) => ({ secretName, ...report });
