// `verify-audit [<secret>]`: checks one secret's hash chain, or every chain in the table, and
// names each break. Exit code 1 when any chain is broken, so a scheduled job can page on it.
import { choice } from '../args.ts';
import { STACK_OUTPUT } from '../aws.ts';
import { listChains, type VerifiedChain, verifyTrail } from '../chains.ts';
import type { Command } from '../main.ts';
import { mapConcurrent } from '../records.ts';
import { trailArn } from './audit.ts';

const CONCURRENCY = 8;

export const verifyAudit: Command = async (ctx) => {
  const format = choice(ctx.values.format, 'format', ['text', 'json'], 'text', 'verify-audit');
  const stack = await ctx.stack();
  const log = stack.audit(ctx.clock);
  const secretId = ctx.positionals[0];

  let arns: string[];
  if (secretId) {
    arns = [await trailArn(ctx, secretId)];
  } else {
    ctx.progress('finding every chain in the audit table…');
    arns = await listChains(
      ctx.connection.dynamo,
      stack.require(STACK_OUTPUT.auditTable),
      (page, found) => ctx.progress(`scanned page ${page}: ${found} chains so far`),
    );
  }
  let done = 0;
  const chains = await mapConcurrent(arns, CONCURRENCY, async (arn) => {
    const chain = await verifyTrail(log, arn);
    done += 1;
    if (arns.length > 1 && (done % 25 === 0 || done === arns.length)) {
      ctx.progress(`verified ${done} of ${arns.length} chains`);
    }
    return chain;
  });
  chains.sort((a, b) => a.secretName.localeCompare(b.secretName));
  const broken = chains.filter((chain) => !chain.report.ok);

  if (format === 'json') {
    ctx.out(
      `${JSON.stringify({ ok: broken.length === 0, chains: chains.map(asJson) }, null, 2)}\n`,
    );
  } else if (secretId && chains[0]?.report.total === 0) {
    ctx.out(`No audit records for ${secretId}: there is no chain to verify.\n`);
  } else {
    for (const chain of chains) ctx.out(describe(chain));
    const records = chains.reduce((sum, chain) => sum + chain.report.total, 0);
    ctx.out(
      `\n${chains.length} chain${chains.length === 1 ? '' : 's'}, ${records} records: ${
        broken.length === 0 ? 'every chain verifies.' : `${broken.length} broken.`
      }\n`,
    );
  }
  return broken.length === 0 ? 0 : 1;
};

function describe({ secretName, report }: VerifiedChain): string {
  if (report.ok) {
    const head = report.head ? `, head #${report.head.seq} ${report.head.hash.slice(0, 12)}` : '';
    return `✓ ${secretName}: ${report.total} records verified${head}\n`;
  }
  const lines = report.breaks.map((b) => `    ${b.kind}: ${b.message}\n`).join('');
  return `✗ ${secretName}: BROKEN: ${report.verified} of ${report.total} records verified, ${report.breaks.length} break${report.breaks.length === 1 ? '' : 's'} (${report.secretArn})\n${lines}`;
}

const asJson = ({ secretName, report }: VerifiedChain) => ({ secretName, ...report });
