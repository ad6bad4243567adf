// `scan [<path|ref>...] [--git|--staged] [--offline] [--revoke] [--json|--sarif]`: finds tokens
// in files, stdin or git history (the work is in cli/scan/) and prints where, which secret and
// whether live, never the token. Exit 0 only when every finding is proven revoked.
import { choice, UsageError } from '../args.ts';
import type { Command } from '../main.ts';
import { VERSION } from '../main.ts';
import { exitCodeOf } from '../scan/findings.ts';
import { runScan, type ScanSource } from '../scan/index.ts';
import { toJson, toSarif, toText } from '../scan/report.ts';

export const scan: Command = async (ctx) => {
  const { values, positionals } = ctx;
  const shorthands = [values.json === true && 'json', values.sarif === true && 'sarif'].filter(
    (f): f is string => typeof f === 'string',
  );
  if (shorthands.length > 1 || (shorthands.length === 1 && values.format !== undefined)) {
    throw new UsageError('give one output format: --format, --json or --sarif', 'scan');
  }
  const format = choice(
    shorthands[0] ?? values.format,
    'format',
    ['table', 'json', 'sarif'],
    'table',
    'scan',
  );
  if (values.git === true && values.staged === true) {
    throw new UsageError('--git scans history and --staged the index: give one', 'scan');
  }
  if (values.revoke === true && values.offline === true) {
    throw new UsageError('--revoke needs AWS to find the secrets: it cannot be --offline', 'scan');
  }
  const repo = typeof values.repo === 'string' ? values.repo : '.';
  if (values.repo !== undefined && values.git !== true && values.staged !== true) {
    throw new UsageError('--repo goes with --git or --staged', 'scan');
  }
  let source: ScanSource;
  if (values.git === true) source = { kind: 'git', repo, refs: positionals };
  else if (values.staged === true) {
    if (positionals.length > 0) throw new UsageError('--staged takes no paths', 'scan');
    source = { kind: 'staged', repo };
  } else if (positionals.includes('-')) {
    if (positionals.length > 1) throw new UsageError('"-" (stdin) goes alone', 'scan');
    source = { kind: 'stdin' };
  } else source = { kind: 'paths', paths: positionals.length > 0 ? positionals : ['.'] };

  // Progress only where a person watches (or when asked), and never on stdout.
  const showProgress = values.quiet !== true && (values.progress === true || ctx.stderrIsTty);
  const report = await runScan(
    { source, offline: values.offline === true, revoke: values.revoke === true },
    {
      connection: ctx.connection,
      stack: ctx.stack,
      stdin: ctx.stdin,
      progress: (text) => {
        if (showProgress) ctx.progress(text);
      },
    },
  );
  if (format === 'json') ctx.out(toJson(report));
  else if (format === 'sarif') ctx.out(toSarif(report, VERSION));
  else ctx.out(toText(report, ctx.table, ctx.values.wide === true));
  const failedRevoke = report.revokes?.some(
    (r) => r.outcome !== 'completed' && r.outcome !== 'duplicate',
  );
  return failedRevoke ? 1 : exitCodeOf(report.findings);
};
