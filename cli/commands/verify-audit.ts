// `verify-audit [<secret>]`: checks one secret's hash chain, or every chain in the table, and
// names each break, including a chain that should exist and does not, or ends before the head
// recorded beside it (chains.ts expectedChainHeads). Exit code 1 when any chain is broken or
// missing, so a scheduled job can page on it.
import { choice } from '../args.ts';
import { STACK_OUTPUT } from '../aws.ts';
import {
  type ExpectedChain,
  expectedChainHead,
  expectedChainHeads,
  listChains,
  type VerifiedChain,
  verifyTrail,
} from '../chains.ts';
import type { Command } from '../main.ts';
import { mapConcurrent } from '../records.ts';
import { trailArn } from './audit.ts';

const CONCURRENCY = 8;

export const verifyAudit: Command = async (ctx) => {
  const format = choice(ctx.values.format, 'format', ['text', 'json'], 'text', 'verify-audit');
  const stack = await ctx.stack();
  const log = stack.audit(ctx.clock);
  const tableName = stack.require(STACK_OUTPUT.auditTable);
  const secretId = ctx.positionals[0];

  let arns: string[];
  let expected: Map<string, ExpectedChain>;
  if (secretId) {
    const arn = await trailArn(ctx, secretId);
    arns = [arn];
    // A secret deleted from Secrets Manager keeps its trail; only its tags are gone.
    const secret = await ctx.connection.store.describe(arn).catch(() => undefined);
    const one = await expectedChainHead(ctx.connection, log, tableName, arn, secret);
    expected = new Map(one ? [[arn, one]] : []);
  } else {
    ctx.progress('finding every chain in the audit table…');
    const found = await listChains(ctx.connection.dynamo, tableName, (page, count) =>
      ctx.progress(`scanned page ${page}: ${count} chains so far`),
    );
    expected = await expectedChainHeads(ctx.connection, tableName, found.heads, ctx.progress);
    arns = [...new Set([...found.arns, ...expected.keys()])];
  }
  let done = 0;
  const chains = await mapConcurrent(arns, CONCURRENCY, async (arn) => {
    const chain = await verifyTrail(log, arn, expected.get(arn));
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
  } else if (secretId && chains[0]?.report.total === 0 && chains[0].report.ok) {
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
  return broken.length === 0 ? 0 : 1;
};

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
