// The CLI's commands, options and help text in one table, and argument parsing against it.
// A mistyped command or option is a UsageError: the CLI prints it with the usage and exits 2.
import { parseArgs } from 'node:util';
import { AUDIT_EVENTS } from '#domain/vocabulary';

export const BIN = 'token-rotation';
export const DEFAULT_STACK = 'TokenRotation';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose usage to print after the message, if one was recognised. */
    readonly command?: string,
  ) {
    super(message);
  }
}

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help: `--since <duration>`. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments: `<secret>` required, `[<secret>]` optional. */
  args: string;
  maxPositionals: number;
  minPositionals: number;
  options: Record<string, OptionSpec>;
  details: string[];
  examples: string[];
}

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  stack: {
    type: 'string',
    value: '<name>',
    help: `the deployed stack to work with (default ${DEFAULT_STACK})`,
  },
  region: {
    type: 'string',
    value: '<region>',
    help: 'AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, or your profile’s)',
  },
  endpoint: {
    type: 'string',
    value: '<url>',
    help: 'AWS-compatible endpoint, e.g. the embedded local AWS (default: AWS_ENDPOINT_URL)',
  },
  profile: {
    type: 'string',
    value: '<name>',
    help: 'the AWS profile of your config and credentials files (default: AWS_PROFILE)',
  },
  version: { type: 'boolean', help: 'print the version and exit' },
  quiet: { type: 'boolean', short: 'q', help: 'no progress lines on stderr' },
  wide: { type: 'boolean', help: 'tables show every cell in full, none cut to fit' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

const format = (choices: string, fallback: string): OptionSpec => ({
  type: 'string',
  value: choices.replace(/,/g, '|'),
  help: `output format (default ${fallback})`,
});

/** The anchored audit trail's bucket, when the stack does not name it (output CheckpointBucketName). */
const CHECKPOINT_BUCKET: OptionSpec = {
  type: 'string',
  value: '<bucket>',
  help: 'S3 bucket of the audit checkpoints (default: the stack output CheckpointBucketName)',
};

export const COMMANDS: Record<string, CommandSpec> = {
  status: {
    name: 'status',
    summary:
      'every opted-in secret: kind, lifespan, token age, next rotation, last outcome, overdue',
    args: '',
    minPositionals: 0,
    maxPositionals: 0,
    options: {
      format: format('table,json', 'table'),
      check: {
        type: 'boolean',
        help: 'exit 1 when any secret is quarantined, overdue or has an invalid policy, an alert is undelivered or the checkpoints are unreadable (for cron and CI)',
      },
      'checkpoint-bucket': CHECKPOINT_BUCKET,
    },
    details: [
      'Lists the secrets that carry token-rotation:lifespan (one ListSecrets call per 100),',
      'and describes the managed ones the listing left out (ListSecrets may lag by minutes),',
      'reads each live token’s age (ListSecretVersionIds) and its newest audit record.',
      'OVERDUE is "yes" when the live token is older than its lifespan, as the sweep judges it.',
      'Never reads a secret value.',
    ],
    examples: [`${BIN} status`, `${BIN} status --format json`, `${BIN} status --check --quiet`],
  },
  audit: {
    name: 'audit',
    summary: 'the audit trail, newest first: of one secret, or of a time range',
    args: '[<secret>]',
    minPositionals: 0,
    maxPositionals: 1,
    options: {
      since: {
        type: 'string',
        value: '<duration|date>',
        help: 'only records from this long ago (30m, 12h, 7d) or this ISO date on (default 7d without <secret>)',
      },
      event: {
        type: 'string',
        value: '<event>',
        help: 'only records of this event type (e.g. rotation.failed)',
      },
      limit: { type: 'string', value: '<n>', help: 'at most n records' },
      format: format('table,json', 'table'),
    },
    details: [
      'With <secret> (name or ARN): that secret’s history. Without: every secret’s records in',
      'the range. Reads with DynamoDB Query only.',
      `Event types: ${AUDIT_EVENTS.join(', ')}.`,
    ],
    examples: [
      `${BIN} audit prod/payments-api-key`,
      `${BIN} audit --since 7d --event rotation.failed`,
    ],
  },
  'verify-audit': {
    name: 'verify-audit',
    summary: 'check the audit trail’s hash chains; exit code 1 on a break',
    args: '[<secret>]',
    minPositionals: 0,
    maxPositionals: 1,
    options: { format: format('text,json', 'text'), 'checkpoint-bucket': CHECKPOINT_BUCKET },
    details: [
      'Recomputes every record’s hash and every link of each secret’s chain, and names any',
      'record that was edited, deleted, inserted or moved. Without <secret>, every chain in the',
      'table: finding them all reads the table once (DynamoDB Scan, keys only), so this is the one',
      'command that needs dynamodb:Scan on the audit table. With a checkpoint bucket, every',
      'checkpoint is checked (s3:ListBucketVersions, s3:GetObjectVersion) and each chain must',
      'reach every head a checkpoint recorded.',
    ],
    examples: [`${BIN} verify-audit`, `${BIN} verify-audit prod/payments-api-key`],
  },
  evidence: {
    name: 'evidence',
    summary: 'an export for auditors: every secret, rotation and revoke, with chain status',
    args: '',
    minPositionals: 0,
    maxPositionals: 0,
    options: {
      since: {
        type: 'string',
        value: '<duration|date>',
        help: 'start of the range: 90d, or an ISO date (default 90d)',
      },
      format: format('csv,json', 'csv'),
      out: { type: 'string', value: '<file>', help: 'write to this file instead of stdout' },
      html: {
        type: 'string',
        value: '<file>',
        help: 'write a self-contained HTML report: timelines, compliance, revokes, verification',
      },
      'checkpoint-bucket': CHECKPOINT_BUCKET,
    },
    details: [
      'Covers every opted-in secret and every secret with audit records in the range; each',
      'chain is verified in full. Rotation steps are summarised: a rotation appears as its',
      'finishSecret success or as its failure (audit <secret> shows every recorded step).',
      'The export says when it was made, by whom (STS GetCallerIdentity) and over what range.',
    ],
    examples: [
      `${BIN} evidence --since 90d --format csv --out evidence.csv`,
      `${BIN} evidence --since 2026-01-01 --format json`,
      `${BIN} evidence --since 90d --html evidence.html`,
    ],
  },
  revoke: {
    name: 'revoke',
    summary: 'emergency revoke through the deployed revoke function (as the console does)',
    args: '<secret>',
    minPositionals: 1,
    maxPositionals: 1,
    options: {
      reason: {
        type: 'string',
        value: '<text>',
        help: 'why (required; goes to the audit trail and the alert)',
      },
      quarantine: {
        type: 'boolean',
        help: 'leave the secret with no valid token until a person acts (default: reissue a fresh one)',
      },
      format: format('text,json', 'text'),
    },
    details: [
      'Invokes the stack’s revoke function with {"secretId", "reason", "mode"}: the same event',
      'the Lambda console’s Test tab sends. Every live token is revoked at its issuer, then in',
      'the default mode a fresh token is promoted at once.',
    ],
    examples: [
      `${BIN} revoke prod/payments-api-key --reason "leaked in build log #4411"`,
      `${BIN} revoke prod/payments-api-key --reason "key on pastebin" --quarantine`,
    ],
  },
  scan: {
    name: 'scan',
    summary:
      'find tokens in files, stdin or git history; say which secret each is and whether it is live',
    args: '[<path|ref>...]',
    minPositionals: 0,
    maxPositionals: 10_000,
    options: {
      git: {
        type: 'boolean',
        help: 'scan the history: every commit reachable from the refs given (default: every ref)',
      },
      staged: {
        type: 'boolean',
        help: 'scan the files staged for the next commit (the git index): for a pre-commit hook',
      },
      repo: {
        type: 'string',
        value: '<dir>',
        help: 'the repository for --git and --staged (default: the current directory)',
      },
      offline: {
        type: 'boolean',
        help: 'no AWS: recognise token-rotation tokens by their checksum only (liveness unknown)',
      },
      revoke: {
        type: 'boolean',
        help: 'raise an emergency revoke for each secret with a live finding, then read back',
      },
      format: format('table,json,sarif', 'table'),
      json: { type: 'boolean', help: 'the same as --format json' },
      sarif: {
        type: 'boolean',
        help: 'the same as --format sarif (SARIF 2.1.0, for code scanning)',
      },
      progress: {
        type: 'boolean',
        help: 'progress lines on stderr even when it is not a terminal (never on stdout)',
      },
    },
    details: [
      'Paths are files or directories (recursive; .git, binary files and files over 10 MB are',
      'skipped; symbolic links are followed only inside the directory); "-" reads stdin; no path',
      'scans the current directory. token-rotation `random` tokens are recognised offline by',
      'prefix and checksum (docs/token-format.md). With AWS access, every string of token shape',
      '(16-512 characters of A-Z a-z 0-9 _ + / = . -, two character classes, 8 distinct) is',
      'fingerprinted with the stack’s fingerprint key and looked up in the token index, and',
      'each indexed finding’s liveness is read back from Secrets Manager (DescribeSecret).',
      'Output names a token by fingerprint only, never its value.',
      'Exit codes: 0 no finding, or every finding proven revoked; 1 a finding is live or its',
      'liveness unknown (always so offline); 2 could not run.',
    ],
    examples: [
      `${BIN} scan .`,
      `${BIN} scan --git --sarif > token-scan.sarif`,
      `${BIN} scan --git main release/2026 --revoke`,
      `${BIN} scan --staged --offline`,
      `kubectl logs deploy/api | ${BIN} scan -`,
    ],
  },
};

export interface Parsed {
  command?: CommandSpec;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  help: boolean;
}

/** Parses argv (without node and the script). Throws UsageError for anything it does not know. */
export function parseCommandLine(argv: string[]): Parsed {
  const first = argv.findIndex((arg) => !arg.startsWith('-'));
  const name = first >= 0 ? argv[first] : undefined;
  const rest = first >= 0 ? [...argv.slice(0, first), ...argv.slice(first + 1)] : argv;

  if (name === 'help') {
    const topic = rest.find((arg) => !arg.startsWith('-'));
    if (topic && !COMMANDS[topic]) throw new UsageError(`unknown command "${topic}"`);
    return {
      command: topic ? COMMANDS[topic] : undefined,
      positionals: [],
      values: {},
      help: true,
    };
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (name !== undefined && !command) throw new UsageError(`unknown command "${name}"`);

  const options = { ...GLOBAL_OPTIONS, ...(command?.options ?? {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: Object.fromEntries(
        Object.entries(options).map(([key, spec]) => [
          key,
          spec.short ? { type: spec.type, short: spec.short } : { type: spec.type },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(usageMessage(error, command), command?.name);
  }
  const values = parsed.values as Parsed['values'];
  const help = values.help === true;
  if (!command) {
    if (help || values.version === true) return { positionals: [], values, help };
    throw new UsageError('no command given');
  }
  if (!help) {
    const count = parsed.positionals.length;
    if (count < command.minPositionals) {
      throw new UsageError(`${command.name} needs ${command.args}`, command.name);
    }
    if (count > command.maxPositionals) {
      const extra = parsed.positionals.slice(command.maxPositionals).join(' ');
      throw new UsageError(
        `${command.name} takes ${command.args || 'no arguments'}; unexpected: ${extra}`,
        command.name,
      );
    }
  }
  return { command, positionals: parsed.positionals, values, help };
}

/** parseArgs' errors, in our words (its own suggest `--` tricks that do not apply here). */
function usageMessage(error: unknown, command: CommandSpec | undefined): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^']*)'/.exec(message)?.[1] ?? '';
  const where = command ? ` for ${command.name}` : '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}${where}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /argument missing/.test(message)
      ? `option ${option.split(',')[0]} needs a value`
      : `option ${option.split(',')[0]} takes no value`;
  }
  return message;
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const left = Object.entries(options).map(
    ([key, spec]) =>
      `${spec.short ? `-${spec.short}, ` : '    '}--${key}${spec.value ? ` ${spec.value}` : ''}`,
  );
  const width = Math.max(...left.map((l) => l.length));
  return Object.values(options).map((spec, i) => `  ${left[i]!.padEnd(width)}  ${spec.help}`);
}

export function commandHelp(command: CommandSpec): string {
  return [
    `Usage: ${BIN} ${command.name}${command.args ? ` ${command.args}` : ''} [options]`,
    '',
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    '',
    ...command.details,
    '',
    'Options:',
    ...optionLines(command.options),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Examples:',
    ...command.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

export function generalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    `Usage: ${BIN} <command> [options]`,
    '',
    'Operate token-rotation: status, audit trail, evidence for auditors, emergency revoke, leak scan.',
    'Works against the deployed stack (found by name through CloudFormation) with the standard',
    'AWS credential chain, or against any AWS-compatible endpoint (--endpoint).',
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Exit codes: 0 done; 1 a problem found (a broken audit chain, a failed revoke);',
    '2 could not run (usage, credentials, stack or secret not found, AWS error).',
    '',
    `Run "${BIN} <command> --help" for a command's options.`,
    '',
  ].join('\n');
}

/** A short usage line, printed after a usage error. */
export function shortUsage(commandName?: string): string {
  const command = commandName ? COMMANDS[commandName] : undefined;
  if (command) {
    return `Usage: ${BIN} ${command.name}${command.args ? ` ${command.args}` : ''} [options]\nRun "${BIN} ${command.name} --help" for its options.\n`;
  }
  return `Usage: ${BIN} <command> [options]\nCommands: ${Object.keys(COMMANDS).join(', ')}\nRun "${BIN} --help" for more.\n`;
}

/** Reads a choice option, refusing anything not listed. */
export function choice<T extends string>(
  value: string | boolean | undefined,
  option: string,
  allowed: readonly T[],
  fallback: T,
  command: string,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new UsageError(
      `--${option} must be one of ${allowed.join(', ')}; got "${String(value)}"`,
      command,
    );
  }
  return value as T;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`: a duration back from `now` (`30m`, `12h`, `90d`) or an ISO date/time. */
export function sinceDate(value: string, now: Date, command: string): Date {
  const match = /^([1-9]\d{0,5})([mhd])$/.exec(value);
  if (match) {
    return new Date(now.getTime() - Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  }
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value)) {
    const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (!Number.isNaN(date.getTime())) {
      if (date.getTime() > now.getTime()) {
        throw new UsageError(`--since ${value} is in the future`, command);
      }
      return date;
    }
  }
  throw new UsageError(
    `--since must be a duration like 30m, 12h or 7d, or a date like 2026-01-31; got "${value}"`,
    command,
  );
}
