// `evidence`: what an auditor takes away: every opted-in secret, every secret with records in the
// range and every chain that must exist, every rotation and revoke in the range, each chain
// verified in full against the heads verify-audit expects (chains.ts expectedChainHeads), and a
// header that says when, by whom (STS caller identity) and over what range. CSV or JSON, to stdout
// or a file. With a checkpoint bucket, every checkpoint with where it lies (bucket, key, version
// ID) and how long it is locked, and the chains judged against them as verify-audit does.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { DynamoAuditLog } from '#adapters/dynamodb-audit-log';
import { DEFAULT_KIND } from '#domain/kinds/registry';
import { displayValue } from '#domain/policy';
import type { AuditRecord, SecretDescription } from '#domain/ports';
import { TAG } from '#domain/vocabulary';
import { choice, sinceDate } from '../args.ts';
import { CliError, callerIdentity, STACK_OUTPUT, type Stack } from '../aws.ts';
import {
  expectedChainHeads,
  listChains,
  type VerifiedChain,
  verifyTrails,
  withAnchors,
} from '../chains.ts';
import { type CheckpointEvidence, checkpointBucket, readCheckpoints } from '../checkpoints.ts';
import { renderHtml } from '../evidence-html.ts';
import { csvRow, pairs, terminalSafe } from '../format.ts';
import type { Command, CommandContext } from '../main.ts';
import { triggerOf } from '../records.ts';
import { declaredOf, type ScopeStatus, scopeStatus } from '../status-evidence.ts';

const DEFAULT_RANGE = '90d';

type Category = 'rotation' | 'revoke' | 'policy';

/**
 * What each kept record is evidence of. A rotation's intermediate steps are left out: it
 * appears as its finishSecret success (the new token went live) or as its failure.
 */
function categoryOf(record: AuditRecord): Category | undefined {
  switch (record.event) {
    case 'step.succeeded':
      return record.step === 'finishSecret' ? 'rotation' : undefined;
    case 'step.started':
      return undefined;
    case 'rotation.failed':
    case 'rotation.stuck':
    case 'rotation.requested':
    case 'lifespan.overdue':
    case 'secretsmanager.rotation.failed':
    case 'secretsmanager.rotation.abandoned':
      return 'rotation';
    case 'previous.revoked':
    case 'previous.revoke.failed':
    case 'previous.revoke.skipped':
    case 'previous.deleted':
    case 'revoke.requested':
    case 'revoke.completed':
    case 'revoke.failed':
    case 'revoke.ignored':
    case 'revoke.handed-over':
      return 'revoke';
    default:
      return 'policy';
  }
}

const isRotation = (r: AuditRecord) => r.event === 'step.succeeded' && r.step === 'finishSecret';
const isRevoke = (r: AuditRecord) =>
  r.event === 'revoke.completed' || r.event === 'previous.revoked';

export interface SecretEvidence {
  secretName: string;
  secretArn: string;
  optedIn: boolean;
  kind: string;
  lifespan: string;
  chain: {
    /** `missing`: no records, yet the secret is managed or its chain head was recorded. */
    status: 'verified' | 'broken' | 'missing' | 'no records';
    records: number;
    verified: number;
    head: { seq: number; hash: string } | null;
    breaks: { kind: string; seq: number; message: string }[];
  };
  rotationsInRange: number;
  revokesInRange: number;
  /** Declared scopes (the tag now) and the newest actual scopes read in the range; null: none declared. */
  scopes: ScopeStatus | null;
}

export interface EventEvidence extends AuditRecord {
  category: Category;
  /** `verified`, or the kind of break found at this record. */
  chainStatus: string;
}

export const evidence: Command = async (ctx) => {
  const format = choice(ctx.values.format, 'format', ['csv', 'json'], 'csv', 'evidence');
  const to = ctx.clock();
  const from = sinceDate((ctx.values.since as string | undefined) ?? DEFAULT_RANGE, to, 'evidence');
  const outFile = ctx.values.out as string | undefined;

  const stack = await ctx.stack();
  const log = stack.audit(ctx.clock);
  const [identity, region] = await Promise.all([
    callerIdentity(ctx.connection),
    ctx.connection.region(),
  ]);
  const optedIn = await listOptedIn(ctx);
  const inRange = await readRange(ctx, log, from, to);
  const verified = await verifyChains(ctx, stack, log, optedIn, inRange);

  const report = buildReport(verified, optedIn, inRange, {
    title: 'token-rotation audit evidence',
    generatedAt: to.toISOString(),
    generatedBy: identity.arn,
    account: identity.account,
    region,
    stack: stack.name,
    auditTable: verified.tableName,
    checkpointBucket: verified.bucket ?? '',
    rangeFrom: from.toISOString(),
    rangeTo: to.toISOString(),
    tool: `token-rotation CLI ${version()}`,
  });
  const htmlFile = ctx.values.html as string | undefined;
  if (htmlFile) await writeFileOrFail(htmlFile, renderHtml(report, optedIn));
  // With --html alone, the page is the export; --out or --format asks for the table too.
  if (!htmlFile || outFile || ctx.values.format) await writeReport(ctx, report, format, outFile);
  if (htmlFile) ctx.progress(`wrote ${htmlFile}: the HTML report (open it in a browser)`);
  return warnings(ctx, report, verified.bucket);
};

/** Every secret opted in to rotation (tagged with a lifespan), by ARN. */
async function listOptedIn(ctx: CommandContext): Promise<Map<string, SecretDescription>> {
  const optedIn = new Map<string, SecretDescription>();
  let nextToken: string | undefined;
  let page = 0;
  do {
    const listed = await ctx.connection.catalog.listTagged(TAG.lifespan, nextToken);
    for (const secret of listed.secrets) optedIn.set(secret.arn, secret);
    nextToken = listed.nextToken;
    ctx.progress(`listed page ${++page}: ${optedIn.size} opted-in secrets so far`);
  } while (nextToken);
  return optedIn;
}

async function readRange(
  ctx: CommandContext,
  log: DynamoAuditLog,
  from: Date,
  to: Date,
): Promise<AuditRecord[]> {
  const days = Math.floor(to.getTime() / 86_400_000) - Math.floor(from.getTime() / 86_400_000) + 1;
  ctx.progress(`reading ${days} day${days === 1 ? '' : 's'} of the audit trail…`);
  return log.between(from, to);
}

interface VerifiedChains {
  tableName: string;
  bucket: string | undefined;
  anchored: CheckpointEvidence | undefined;
  /** Every secret the evidence covers: opted in, with records in the range, or with a chain. */
  arns: string[];
  chains: Map<string, VerifiedChain>;
}

/** Every chain verified in full against the head verify-audit expects of it. */
async function verifyChains(
  ctx: CommandContext,
  stack: Stack,
  log: DynamoAuditLog,
  optedIn: Map<string, SecretDescription>,
  inRange: AuditRecord[],
): Promise<VerifiedChains> {
  // As verify-audit judges them: a chain cut short of its recorded head, or deleted outright, is
  // broken, not "verified" or "no records".
  const tableName = stack.require(STACK_OUTPUT.auditTable);
  ctx.progress('finding the chain heads recorded in the audit table…');
  const found = await listChains(ctx.connection.dynamo, tableName);
  const expected = await expectedChainHeads(
    ctx.connection,
    tableName,
    found.heads,
    ctx.progress,
    optedIn.values(),
  );
  const bucket = checkpointBucket(ctx, stack);
  const anchored = bucket ? await readCheckpoints(ctx, bucket) : undefined;
  if (anchored) withAnchors(expected, anchored.anchors);

  const arns = [
    ...new Set([...optedIn.keys(), ...inRange.map((r) => r.secretArn), ...expected.keys()]),
  ];
  const verified = await verifyTrails(log, arns, expected, ctx.progress);
  const chains = new Map(arns.map((arn, i) => [arn, verified[i]!]));
  return { tableName, bucket, anchored, arns, chains };
}

export interface Report {
  metadata: Record<string, string>;
  summary: Record<string, number>;
  secrets: SecretEvidence[];
  events: EventEvidence[];
  checkpoints: CheckpointRow[];
  checkpointFindings: CheckpointEvidence['findings'];
  /** The secrets whose chain is broken or missing. */
  broken: SecretEvidence[];
}

function buildReport(
  { arns, chains, anchored }: VerifiedChains,
  optedIn: Map<string, SecretDescription>,
  inRange: AuditRecord[],
  metadata: Record<string, string>,
): Report {
  const secrets: SecretEvidence[] = arns
    .map((arn) => secretEvidence(arn, optedIn.get(arn), chains.get(arn)!, inRange))
    .sort((a, b) => a.secretName.localeCompare(b.secretName));
  const events = eventEvidence(inRange, chains);
  const broken = secrets.filter((s) => s.chain.status === 'broken' || s.chain.status === 'missing');
  const summary = {
    secrets: secrets.length,
    optedIn: secrets.filter((s) => s.optedIn).length,
    rotations: inRange.filter(isRotation).length,
    rotationFailures: inRange.filter((r) => r.event === 'rotation.failed').length,
    revokes: inRange.filter(isRevoke).length,
    events: events.length,
    chainsVerified: secrets.filter((s) => s.chain.status === 'verified').length,
    chainsBroken: broken.length,
    chainsMissing: secrets.filter((s) => s.chain.status === 'missing').length,
    checkpoints: anchored?.checkpoints.length ?? 0,
    checkpointProblems: anchored?.findings.length ?? 0,
  };
  const checkpoints = anchored ? checkpointEvidence(anchored) : [];
  const checkpointFindings = anchored?.findings ?? [];
  return { metadata, summary, secrets, events, checkpoints, checkpointFindings, broken };
}

/** Each kept record in the range, with the chain break found at it, if any. */
function eventEvidence(
  inRange: AuditRecord[],
  chains: Map<string, VerifiedChain>,
): EventEvidence[] {
  const events: EventEvidence[] = [];
  for (const record of inRange) {
    const category = categoryOf(record);
    if (!category) continue;
    const breaks =
      chains.get(record.secretArn)?.report.breaks.filter((b) => b.seq === record.seq) ?? [];
    events.push({
      ...record,
      category,
      chainStatus: breaks.length === 0 ? 'verified' : breaks.map((b) => b.kind).join('+'),
    });
  }
  return events;
}

async function writeReport(
  ctx: CommandContext,
  report: Report,
  format: string,
  outFile: string | undefined,
): Promise<void> {
  const { metadata, summary, secrets, events, checkpoints, checkpointFindings } = report;
  const text =
    format === 'json'
      ? `${JSON.stringify({ metadata, summary, secrets, events, checkpoints, checkpointFindings }, null, 2)}\n`
      : toCsv(metadata, summary, secrets, events, checkpoints, checkpointFindings);
  if (outFile) {
    // As on a terminal: whoever opens the file may `cat` it.
    await writeFileOrFail(outFile, terminalSafe(text));
    ctx.progress(
      `wrote ${outFile}: ${summary.secrets} secrets, ${summary.rotations} rotations, ${summary.revokes} revokes, ${summary.events} events`,
    );
  } else {
    ctx.out(text);
  }
}

async function writeFileOrFail(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text, 'utf8');
  } catch (error) {
    throw new CliError(`cannot write ${file}: ${(error as Error).message}`);
  }
}

/** Warns of checkpoint problems and broken chains; the exit code: 1 if either was found. */
function warnings(ctx: CommandContext, report: Report, bucket: string | undefined): number {
  const { checkpointFindings, broken } = report;
  if (checkpointFindings.length > 0) {
    ctx.progress(
      `warning: ${checkpointFindings.length} problem${checkpointFindings.length === 1 ? '' : 's'} with the checkpoints in s3://${bucket}; see the checkpoint rows and run verify-audit`,
    );
  }
  if (broken.length > 0) {
    ctx.progress(
      `warning: ${broken.length} audit chain${broken.length === 1 ? ' is' : 's are'} broken (${broken.map((s) => (s.chain.status === 'missing' ? `${s.secretName}: missing` : s.secretName)).join(', ')}); see the chain columns and run verify-audit`,
    );
    return 1;
  }
  return checkpointFindings.length > 0 ? 1 : 0;
}

/** A checkpoint as the auditor checks it with the AWS CLI: where it lies and how long it is locked. */
export interface CheckpointRow {
  seq: number;
  at: string;
  hash: string;
  previousHash: string;
  chains: number;
  bucket: string;
  key: string;
  versionId: string;
  lockMode: string | null;
  retainUntil: string | null;
}

const checkpointEvidence = ({ checkpoints }: CheckpointEvidence): CheckpointRow[] =>
  checkpoints.map((c) => ({
    seq: c.seq,
    at: c.at,
    hash: c.hash,
    previousHash: c.previousHash,
    chains: c.heads.length,
    bucket: c.ref.bucket,
    key: c.ref.key,
    versionId: c.ref.versionId,
    lockMode: c.ref.lockMode ?? null,
    retainUntil: c.ref.retainUntil ?? null,
  }));

function secretEvidence(
  arn: string,
  secret: SecretDescription | undefined,
  { secretName, report }: VerifiedChain,
  inRange: AuditRecord[],
): SecretEvidence {
  const mine = inRange.filter((r) => r.secretArn === arn);
  return {
    secretName: secret?.name ?? secretName,
    secretArn: arn,
    optedIn: secret !== undefined,
    kind: secret ? displayValue(secret.tags[TAG.kind] ?? DEFAULT_KIND) : '',
    lifespan: secret ? displayValue(secret.tags[TAG.lifespan] ?? '') : '',
    chain: {
      status: report.ok
        ? report.total === 0
          ? 'no records'
          : 'verified'
        : report.total === 0
          ? 'missing'
          : 'broken',
      records: report.total,
      verified: report.verified,
      head: report.head ?? null,
      breaks: report.breaks.map((b) => ({ kind: b.kind, seq: b.seq, message: b.message })),
    },
    rotationsInRange: mine.filter(isRotation).length,
    revokesInRange: mine.filter(isRevoke).length,
    scopes: secret ? scopeStatus(declaredOf(secret), [...mine].reverse()) : null,
  };
}

/** A secret row's scope columns: declared, the newest actual reading, and its drift. */
function scopeFields(scopes: ScopeStatus | null) {
  if (!scopes) return {};
  const r = scopes.reading;
  return {
    declared_scopes: scopes.declared.join(' '),
    actual_scopes: r ? `${r.actual} (read ${r.at} by ${r.by})` : 'not read in range',
    scope_drift: r
      ? r.drift
        ? `${r.refused ? 'refused new token' : 'live token'}: extra ${r.extra}`
        : 'none'
      : '',
  };
}

const COLUMNS = [
  'record',
  'secret_name',
  'secret_arn',
  'at',
  'event',
  'outcome',
  'step',
  'versions',
  'tokens',
  'trigger',
  'error',
  'detail',
  'seq',
  'hash',
  'chain_status',
  'opted_in',
  'kind',
  'lifespan',
  'chain_records',
  'rotations',
  'revokes',
  'checkpoint_bucket',
  'checkpoint_key',
  'checkpoint_version',
  'lock_mode',
  'retain_until',
  'declared_scopes',
  'actual_scopes',
  'scope_drift',
];

/**
 * Metadata first, as `# key,value` lines (spreadsheet tools and csv readers with a comment
 * character skip them), then one table: a `secret` row per secret, then every event in time order.
 */
function toCsv(
  metadata: Record<string, string>,
  summary: Record<string, number>,
  secrets: SecretEvidence[],
  events: EventEvidence[],
  checkpoints: CheckpointRow[],
  findings: { kind: string; key: string; message: string }[],
): string {
  let out = '';
  for (const [key, value] of Object.entries({ ...metadata, ...summary })) {
    out += `# ${csvRow([key, value]).trimEnd()}\r\n`;
  }
  out += csvRow(COLUMNS);
  const row = (fields: Partial<Record<(typeof COLUMNS)[number], unknown>>) =>
    csvRow(COLUMNS.map((column) => fields[column]));
  for (const s of secrets) {
    const breaks = s.chain.breaks.map((b) => `${b.kind} at ${b.seq}: ${b.message}`).join(' | ');
    out += row({
      record: 'secret',
      secret_name: s.secretName,
      secret_arn: s.secretArn,
      chain_status: breaks ? `${s.chain.status}: ${breaks}` : s.chain.status,
      opted_in: s.optedIn,
      kind: s.kind,
      lifespan: s.lifespan,
      chain_records: s.chain.records,
      rotations: s.rotationsInRange,
      revokes: s.revokesInRange,
      hash: s.chain.head?.hash,
      seq: s.chain.head?.seq,
      ...scopeFields(s.scopes),
    });
  }
  for (const e of events) {
    out += row({
      record: e.category,
      secret_name: e.secretName,
      secret_arn: e.secretArn,
      at: e.at,
      event: e.event,
      outcome: e.outcome,
      step: e.step,
      versions: pairs(e.versions),
      tokens: pairs(e.tokens),
      trigger: triggerOf(e),
      error: e.error,
      detail: pairs(e.detail),
      seq: e.seq,
      hash: e.hash,
      chain_status: e.chainStatus,
    });
  }
  for (const c of checkpoints) {
    const problems = findings.filter((f) => f.key === c.key);
    out += row({
      record: 'checkpoint',
      at: c.at,
      seq: c.seq,
      hash: c.hash,
      chain_status: problems.length
        ? problems.map((f) => `${f.kind}: ${f.message}`).join(' | ')
        : 'verified',
      chain_records: c.chains,
      checkpoint_bucket: c.bucket,
      checkpoint_key: c.key,
      checkpoint_version: c.versionId,
      lock_mode: c.lockMode,
      retain_until: c.retainUntil,
    });
  }
  return out;
}

function version(): string {
  try {
    const manifest = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return String(JSON.parse(manifest).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}
