// `token-rotation <command>`: the operator CLI. Parses the command line, connects to the stack
// (an account or any AWS-compatible endpoint) and runs one thin command over the same adapters
// the Lambdas use. Results go to stdout, progress and errors to stderr; see generalHelp for exit codes.
import { readFileSync } from 'node:fs';
import { type Clock, systemClock } from '#domain/ports';
import {
  commandHelp,
  DEFAULT_STACK,
  generalHelp,
  type Parsed,
  parseCommandLine,
  shortUsage,
  UsageError,
} from './args.ts';
import type { Connection, Stack } from './aws.ts';
import { renderTable, terminalSafe } from './format.ts';

export interface Output {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** "Now" for ages, ranges and overdue; the embedded local AWS's clock in tests. */
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** What `scan -` reads. Default: the process's stdin. */
  stdin?: AsyncIterable<Buffer | string>;
}

/** What a command gets: its arguments, the connection, the stack (looked up once), and output. */
export interface CommandContext {
  positionals: string[];
  values: Parsed['values'];
  connection: Connection;
  stack(): Promise<Stack>;
  clock: Clock;
  out(text: string): void;
  /** A progress line on stderr (not with --quiet): for anything that takes more than a moment. */
  progress(text: string): void;
  /** A table for `out`: long cells cut at `max` characters, unless `--wide` asks for them whole. */
  table(header: string[], rows: string[][], max?: number): string;
  /** The input stream (`scan -`). */
  stdin: AsyncIterable<Buffer | string>;
  /** Whether stderr is a terminal (progress for long scans shows only there, or when asked). */
  stderrIsTty: boolean;
}

/** A command returns its exit code: 0 done, 1 a problem found. */
export type Command = (ctx: CommandContext) => Promise<number>;

/** This package's version, as `--version` prints it. */
export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

// Loaded when run: the AWS SDK behind them is most of the CLI, and `--version` or `--help` (or a
// mistyped option) needs none of it, so they answer at once.
const HANDLERS: Record<string, () => Promise<Command>> = {
  status: async () => (await import('./commands/status.ts')).status,
  audit: async () => (await import('./commands/audit.ts')).audit,
  'verify-audit': async () => (await import('./commands/verify-audit.ts')).verifyAudit,
  evidence: async () => (await import('./commands/evidence.ts')).evidence,
  revoke: async () => (await import('./commands/revoke.ts')).revoke,
  scan: async () => (await import('./commands/scan.ts')).scan,
};

export async function run(argv: string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  let parsed: Parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(
      `token-rotation: ${terminalSafe(error.message)}\n\n${shortUsage(error.command)}`,
    );
    return 2;
  }
  const { command, values, positionals } = parsed;
  if (values.version === true && !parsed.help) {
    io.stdout.write(`token-rotation ${VERSION}\n`);
    return 0;
  }
  if (parsed.help || !command) {
    io.stdout.write(command ? commandHelp(command) : generalHelp());
    return 0;
  }

  const { CliError, connect, explain, findStack } = await import('./aws.ts');
  const handler = await HANDLERS[command.name]!();
  const str = (key: string) =>
    typeof values[key] === 'string' ? (values[key] as string) : undefined;
  const connection = connect({
    stack: str('stack') ?? DEFAULT_STACK,
    // The AWS CLI reads AWS_DEFAULT_REGION too; the SDK only AWS_REGION, so pass it on.
    region: str('region') ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined),
    profile: str('profile'),
    endpoint: str('endpoint') ?? (env.AWS_ENDPOINT_URL || undefined),
  });
  let stack: Promise<Stack> | undefined;
  const ctx: CommandContext = {
    positionals,
    values,
    connection,
    stack: () => {
      stack ??= findStack(connection);
      return stack;
    },
    clock: io.clock ?? systemClock,
    // Every line reaches a terminal through here: what an attacker put in the trail is shown, not obeyed.
    out: (text) => void io.stdout.write(terminalSafe(text)),
    progress: (text) => {
      if (values.quiet !== true) io.stderr.write(`${terminalSafe(text)}\n`);
    },
    table: (header, rows, max) =>
      renderTable(header, rows, values.wide === true ? Number.POSITIVE_INFINITY : max),
    stdin: io.stdin ?? process.stdin,
    stderrIsTty: (io.stderr as { isTTY?: boolean }).isTTY === true,
  };
  try {
    return await handler(ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(
        `token-rotation: ${terminalSafe(error.message)}\n\n${shortUsage(error.command)}`,
      );
      return 2;
    }
    const failure = error instanceof CliError ? error : explain(error, connection);
    io.stderr.write(`token-rotation ${command.name}: ${terminalSafe(failure.message)}\n`);
    return failure.exitCode;
  } finally {
    connection.close();
  }
}
