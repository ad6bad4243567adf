// `status`: every opted-in secret with its kind, lifespan, token age, next rotation, last outcome
// and whether it is overdue. Overdue is the sweep's own judgement (planSecret), not a second rule.
import type { DynamoAuditLog } from '#adapters/dynamodb-audit-log';
import { DynamoManagedSet } from '#adapters/dynamodb-managed-set';
import { DynamoSweepCursorStore } from '#adapters/dynamodb-sweep-cursor';
import { DynamoTokenUses } from '#adapters/dynamodb-token-uses';
import { countUndeliveredAlerts } from '#adapters/sns-alerter';
import type { Checkpoint } from '#domain/audit-anchor';
import { describeError, NotFoundError } from '#domain/errors';
import { DEFAULT_KIND } from '#domain/kinds/registry';
import {
  DEFAULT_LIMITS,
  displayValue,
  formatDuration,
  HOUR_MS,
  MAX_LIFESPAN_MS,
  type PolicyLimits,
  parsePolicy,
} from '#domain/policy';
import type { AuditRecord, SecretDescription, TokenUses } from '#domain/ports';
import { cleanReason, isQuarantineVersionId, knownValues, versionWith } from '#domain/revoke/index';
import { formatScopes } from '#domain/scopes';
import { planSecret } from '#domain/sweep/plan';
import { STAGE, TAG } from '#domain/vocabulary';
import { choice } from '../args.ts';
import { CliError, type Connection, STACK_OUTPUT, type Stack } from '../aws.ts';
import { checkpointBucket, readLatestCheckpoint } from '../checkpoints.ts';
import { humanDuration, shortTime } from '../format.ts';
import type { Command, CommandContext } from '../main.ts';
import { mapConcurrent, outcomeOf } from '../records.ts';
import {
  type CheckpointStatus,
  checkpointStatus,
  declaredOf,
  type PreviousTokenStatus,
  previousTokenStatus,
  type ScopeStatus,
  scopeStatus,
} from '../status-evidence.ts';

/** Per-secret reads in flight at once: ListSecretVersionIds and one audit Query each. */
const CONCURRENCY = 8;
/** Newest audit records read per secret: the last outcome, and the sweep's last use check. */
const RECENT_RECORDS = 10;
/**
 * The sweep interval only moves when the sweep rotates early at the 4-hour floor; whether a
 * token is overdue (older than its lifespan) does not depend on it.
 */
const SWEEP_INTERVAL_MS = 15 * 60_000;

export interface SecretStatus {
  name: string;
  arn: string;
  kind: string;
  lifespan: string;
  grace: string | null;
  policyValid: boolean;
  /** When the policy tags are invalid: what is wrong, tag by tag. */
  problems?: string[];
  rotationAttached: boolean;
  tokenCreated: string | null;
  tokenAgeMs: number | null;
  nextRotation: string | null;
  lastOutcome: { outcome: string; event: string; step?: string; at: string } | null;
  /** null when it cannot be judged (an invalid policy, a revoke under way, no live version). */
  overdue: boolean | null;
  /** Its AWSCURRENT is a quarantine notice (read back): no valid token until a person acts. */
  quarantined: boolean;
  notes: string[];
  /** The newest checkpoint's head of this secret's chain; null: not anchored (or no bucket). */
  checkpoint: CheckpointStatus | null;
  /** The previous token still working, and whether it was used since its rotation. */
  previous: PreviousTokenStatus | null;
  /** Declared scopes and the last actual scopes read from the issuer; null: none declared. */
  scopes: ScopeStatus | null;
}

export const status: Command = async (ctx) => {
  const format = choice(ctx.values.format, 'format', ['table', 'json'], 'table', 'status');
  const stack = await ctx.stack();
  const audit = stack.audit(ctx.clock);
  const limits = stackLimits(stack);

  const table = stack.require(STACK_OUTPUT.auditTable);
  const secrets = await listOptedIn(ctx, table);
  const { checkpoint: anchor, unreadable } = await latestCheckpoint(ctx, stack);
  const uses = new DynamoTokenUses(ctx.connection.dynamo, table);
  const rows = await statusRows(ctx, audit, limits, secrets, { anchor, uses });
  const undelivered = await countUndeliveredAlerts(ctx.connection.dynamo, table);
  const undeliveredLine =
    undelivered > 0
      ? `${undelivered} alert${undelivered === 1 ? '' : 's'} recorded but not yet delivered: SNS did not accept ${undelivered === 1 ? 'it' : 'them'}, and every sweep tries again.\n`
      : '';
  // Shown with the undelivered alerts (under the table, or on stderr beside the JSON).
  const notes = undeliveredLine + unreadable + (await sweepBehindLine(ctx, table));

  // What `--check` fails on: each needs a person (cron and CI read the exit code).
  const attention = rows.filter((row) => needsAttention(row) !== undefined);
  const checked =
    ctx.values.check === true && (attention.length > 0 || undelivered > 0 || unreadable) ? 1 : 0;
  if (format === 'json') {
    ctx.out(`${JSON.stringify(rows, null, 2)}\n`);
    // The JSON stays the list of secrets it has always been; the count goes where a person sees it.
    if (notes) ctx.progress(notes.trimEnd());
    return checked;
  }
  if (rows.length === 0) {
    ctx.out(
      `No secret carries ${TAG.lifespan} in stack ${stack.name}'s region: nothing is managed yet.\n${notes}`,
    );
    return checked;
  }
  ctx.out(statusTable(ctx, rows, unreadable ? 'unreadable' : anchor !== undefined));
  ctx.out(summaryLine(rows, notes));
  if (checked && attention.length > 0) {
    ctx.out(
      `status --check: ${attention.length} secret${attention.length === 1 ? ' needs' : 's need'} attention: ${attention.map((row) => `${row.name} (${needsAttention(row)})`).join(', ')}.\n`,
    );
  }
  if (checked && unreadable) ctx.out(`status --check: ${unreadable}`);
  if (checked && undelivered > 0) {
    ctx.out(`status --check: ${undeliveredLine}`);
  }
  return checked;
};

/**
 * A line when the sweep is part-way through a pass (its saved cursor): since when, and how many
 * secrets it had yet to reach when its last invocation ended. Empty when it is not behind.
 */
async function sweepBehindLine(ctx: CommandContext, table: string): Promise<string> {
  let cursor: Awaited<ReturnType<DynamoSweepCursorStore['get']>>;
  try {
    cursor = await new DynamoSweepCursorStore(ctx.connection.dynamo, table).get();
  } catch (error) {
    return `The sweep's progress could not be read: ${describeError(error)}\n`;
  }
  if (cursor === undefined) return '';
  const since = humanDuration(ctx.clock().getTime() - new Date(cursor.startedAt).getTime());
  const left = cursor.backlog === undefined ? '' : `, ${cursor.backlog} secrets still to reach`;
  return `The sweep is part-way through a pass started ${since} ago${left}: its next invocation carries on.\n`;
}

/**
 * Every secret opted in to rotation (tagged with a lifespan), by name: what ListSecrets lists,
 * and the members of the sweep's managed set it left out. ListSecrets may leave out a secret
 * changed in the last minutes (every rotation changes one); the managed set is read consistently
 * and DescribeSecret is consistent, so a secret the suite manages never drops out of status.
 */
async function listOptedIn(ctx: CommandContext, table: string): Promise<SecretDescription[]> {
  const secrets: SecretDescription[] = [];
  let nextToken: string | undefined;
  let page = 0;
  do {
    const listed = await ctx.connection.catalog.listTagged(TAG.lifespan, nextToken);
    secrets.push(...listed.secrets);
    nextToken = listed.nextToken;
    page += 1;
    ctx.progress(`listed page ${page}: ${secrets.length} opted-in secrets so far`);
  } while (nextToken);
  const listed = new Set(secrets.map((secret) => secret.arn));
  const managed = new DynamoManagedSet(ctx.connection.dynamo, table);
  let after: string | undefined;
  do {
    const members = await managed.page(after);
    const missed = members.members.filter((member) => !listed.has(member.arn));
    for (const secret of await mapConcurrent(missed, CONCURRENCY, (m) => optedIn(ctx, m.arn))) {
      if (secret) secrets.push(secret);
    }
    after = members.last;
  } while (after !== undefined);
  secrets.sort((a, b) => a.name.localeCompare(b.name));
  return secrets;
}

/** The secret as DescribeSecret has it now, while it exists and is opted in. */
async function optedIn(ctx: CommandContext, arn: string): Promise<SecretDescription | undefined> {
  try {
    const secret = await ctx.connection.store.describe(arn);
    return secret.deleted || secret.tags[TAG.lifespan] === undefined ? undefined : secret;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** Each secret's status, from its versions, its newest audit record and, if revoked, its values. */
async function statusRows(
  ctx: CommandContext,
  audit: DynamoAuditLog,
  limits: PolicyLimits,
  secrets: SecretDescription[],
  evidence: { anchor: Checkpoint | undefined; uses: TokenUses },
): Promise<SecretStatus[]> {
  let done = 0;
  return mapConcurrent(secrets, CONCURRENCY, async (secret) => {
    const [versionDates, newest] = await Promise.all([
      ctx.connection.catalog.versionDates(secret.arn),
      audit.history(secret.arn, { newestFirst: true, limit: RECENT_RECORDS }),
    ]);
    const previous = await previousTokenStatus(secret, versionDates, newest, evidence.uses);
    done += 1;
    if (done % 50 === 0 || (done === secrets.length && secrets.length >= 50)) {
      ctx.progress(`checked ${done} of ${secrets.length} secrets`);
    }
    const [quarantined, known] = await Promise.all([
      isQuarantined(ctx.connection, secret, newest[0]),
      secret.tags[TAG.revoke] === undefined ? undefined : valuesToScrub(ctx.connection, secret),
    ]);
    return {
      ...statusOf(secret, versionDates, newest[0], ctx.clock(), limits, {
        quarantined,
        ...(known ? { known } : {}),
      }),
      checkpoint: checkpointStatus(evidence.anchor, secret.arn),
      previous,
      scopes: scopeStatus(declaredOf(secret), newest),
    };
  });
}

/**
 * The newest checkpoint, when the stack has a checkpoint bucket. Unreadable: not fatal, but said
 * under the table (every ANCHORED cell then reads `unreadable`), and `--check` fails on it.
 */
async function latestCheckpoint(
  ctx: CommandContext,
  stack: Stack,
): Promise<{ checkpoint?: Checkpoint; unreadable: string }> {
  const bucket = checkpointBucket(ctx, stack);
  if (!bucket) return { unreadable: '' };
  try {
    const checkpoint = await readLatestCheckpoint(ctx, bucket);
    return { ...(checkpoint && { checkpoint }), unreadable: '' };
  } catch (error) {
    const why = describeError(error);
    return {
      unreadable: `The newest checkpoint in s3://${bucket} could not be read (${why}): which records are anchored is unknown.\n`,
    };
  }
}

function previousCell(row: SecretStatus, now: number): string {
  const p = row.previous;
  if (!p) return '-';
  if (p.use === 'used' && p.lastUsed) {
    const at = Date.parse(p.lastUsed.at);
    const when = Number.isNaN(at) ? p.lastUsed.at : `${humanDuration(now - at)} ago`;
    return `USED ${when}${p.lastUsed.by ? ` by ${p.lastUsed.by}` : ''}`;
  }
  if (p.use === 'unreadable') return `unreadable: ${p.error ?? 'unknown error'}`;
  if (p.use === 'unknown') return 'a use recorded; rotation time unknown';
  return p.use === 'none recorded' ? 'no use since rotation' : 'not checked yet';
}

/** Declared and actual scopes; DRIFT when the last reading found the token broader. */
function scopesCell(row: SecretStatus, now: number): string {
  const scopes = row.scopes;
  if (!scopes) return '-';
  const declared = `declared ${formatScopes(scopes.declared)}`;
  const r = scopes.reading;
  if (!r) return `${declared}; actual not read yet`;
  const when = `${humanDuration(now - Date.parse(r.at))} ago`;
  if (!r.drift) return `${declared}; actual ${r.actual} (read ${when})`;
  const what = r.refused ? 'new token REFUSED' : 'DRIFT';
  return `${what}: extra ${r.extra} (${declared}; actual ${r.actual}, read ${when})`;
}

function checkpointCell(row: SecretStatus, now: number, anchored: boolean | 'unreadable'): string {
  if (anchored === 'unreadable') return 'unreadable';
  if (!anchored) return '-';
  const c = row.checkpoint;
  return c ? `#${c.chainSeq}, ${humanDuration(now - Date.parse(c.at))} ago` : 'not yet';
}

function statusTable(
  ctx: CommandContext,
  rows: SecretStatus[],
  anchored: boolean | 'unreadable',
): string {
  const now = ctx.clock().getTime();
  return ctx.table(
    [
      'SECRET',
      'KIND',
      'LIFESPAN',
      'TOKEN AGE',
      'NEXT ROTATION',
      'LAST OUTCOME',
      'OVERDUE',
      'PREVIOUS TOKEN',
      'ANCHORED',
      'SCOPES',
      'NOTES',
    ],
    rows.map((row) => [
      row.name,
      row.kind,
      row.lifespan,
      row.tokenAgeMs === null ? '-' : humanDuration(row.tokenAgeMs),
      nextRotationCell(row, now),
      row.lastOutcome
        ? `${row.lastOutcome.outcome} ${humanDuration(now - Date.parse(row.lastOutcome.at))} ago`
        : '-',
      row.overdue === null ? '-' : row.overdue ? 'yes' : 'no',
      previousCell(row, now),
      checkpointCell(row, now, anchored),
      scopesCell(row, now),
      row.notes.join('; '),
    ]),
  );
}

function summaryLine(rows: SecretStatus[], undeliveredLine: string): string {
  const overdue = rows.filter((row) => row.overdue).length;
  const invalid = rows.filter((row) => !row.policyValid).length;
  const quarantined = rows.filter((row) => row.quarantined).length;
  return `\n${rows.length} opted-in secret${rows.length === 1 ? '' : 's'}: ${overdue} overdue${invalid ? `, ${invalid} with an invalid policy` : ''}${quarantined ? `, ${quarantined} quarantined` : ''}.\n${undeliveredLine}`;
}

/**
 * The policy limits the stack's functions enforce, so that status judges a tag as they do. A stack
 * deployed before maxLifespan existed has no such output and enforced only the 365-day bound.
 */
function stackLimits(stack: Pick<Stack, 'outputs'>): PolicyLimits {
  const hours = Number(stack.outputs[STACK_OUTPUT.maxLifespanHours]);
  return Number.isInteger(hours) && hours > 0
    ? { maxLifespanMs: hours * HOUR_MS }
    : { maxLifespanMs: MAX_LIFESPAN_MS };
}

/** The newest audit records a quarantined secret leaves behind it (besides the revoke's own). */
const AFTER_QUARANTINE = new Set(['rotation.failed', 'lifespan.overdue']);

/**
 * Whether the secret's AWSCURRENT is a quarantine notice now, read back from Secrets Manager: the
 * audit trail moves on after a quarantine (a failed rotation, an overdue lifespan), and a later
 * reissue ends it. A revoke puts the notice under a version ID of its own kind
 * (quarantine-notice.ts), so DescribeSecret tells it and no value is read: the auditor's policy
 * has no GetSecretValue. DescribeSecret, not the listing, which may be minutes behind. Only a
 * secret that was ever revoked (the revoke sets last-revoked; the newest record covers a revoke
 * that failed before tagging) or whose listing shows a notice's ID can hold a notice, so every
 * other secret costs no call.
 */
async function isQuarantined(
  connection: Pick<Connection, 'store'>,
  secret: SecretDescription,
  newest: AuditRecord | undefined,
): Promise<boolean> {
  const listed = versionWith(secret, STAGE.current);
  const mayHoldNotice =
    (listed !== undefined && isQuarantineVersionId(listed)) ||
    secret.tags[TAG.lastRevoked] !== undefined ||
    (newest !== undefined &&
      (newest.event.startsWith('revoke.') || AFTER_QUARANTINE.has(newest.event)));
  if (!mayHoldNotice || secret.deleted) return false;
  let described: Pick<SecretDescription, 'versions'>;
  try {
    described = await connection.store.describe(secret.arn);
  } catch (error) {
    throw new CliError(
      `${secret.name}: status: cannot tell whether a revoke quarantined it: DescribeSecret failed: ${describeError(error)}. status needs secretsmanager:DescribeSecret on opted-in secrets.`,
    );
  }
  const current = versionWith(described, STAGE.current);
  return current !== undefined && isQuarantineVersionId(current);
}

/**
 * The secret's values, to scrub its revoke tag's reason of them as the revoke does before it
 * records one (the person asking often pastes the leaked token); undefined when any labelled
 * version could not be read, for then the reason cannot be shown safely.
 */
async function valuesToScrub(
  connection: Pick<Connection, 'store'>,
  secret: SecretDescription,
): Promise<Set<string> | undefined> {
  let unread = false;
  const known = await knownValues(connection.store, secret, {
    warn: () => {
      unread = true;
    },
  });
  return unread ? undefined : known;
}

/** The revoke tag's reason scrubbed of `known`, or only its length when they are not known. */
function revokeNote(reason: string, known: ReadonlySet<string> | undefined): string {
  if (known) return `emergency revoke requested: ${cleanReason(reason, known)}`;
  const length = [...reason.trim()].length;
  return `emergency revoke requested (its ${length}-character reason is not shown: the secret's values could not be read to scrub it of them)`;
}

/** Why a secret needs a person now, or undefined. */
function needsAttention(row: SecretStatus): string | undefined {
  if (row.quarantined) return 'quarantined';
  if (row.overdue) return 'overdue';
  if (row.problems !== undefined) return 'invalid policy';
  if (row.scopes?.reading?.drift) return 'scope drift';
  return undefined;
}

function nextRotationCell(row: SecretStatus, now: number): string {
  if (!row.rotationAttached) return 'not attached';
  if (!row.nextRotation) return '-';
  const wait = Date.parse(row.nextRotation) - now;
  return `${shortTime(row.nextRotation)} (${wait <= 0 ? 'due' : `in ${humanDuration(wait)}`})`;
}

export function statusOf(
  secret: SecretDescription,
  versionDates: Record<string, Date>,
  newest: AuditRecord | undefined,
  now: Date,
  limits: PolicyLimits = DEFAULT_LIMITS,
  observed: { quarantined: boolean; known?: ReadonlySet<string> } = { quarantined: false },
): SecretStatus {
  const parsed = parsePolicy(secret, limits);
  const current = Object.entries(secret.versions).find(([, stages]) =>
    stages.includes(STAGE.current),
  )?.[0];
  const created = current ? versionDates[current] : undefined;
  const notes: string[] = [];
  const row: SecretStatus = {
    name: secret.name,
    arn: secret.arn,
    kind: displayValue(secret.tags[TAG.kind] ?? DEFAULT_KIND),
    lifespan: displayValue(secret.tags[TAG.lifespan] ?? ''),
    grace: null,
    policyValid: parsed.ok,
    rotationAttached: secret.rotationEnabled,
    tokenCreated: created ? created.toISOString() : null,
    tokenAgeMs: created ? now.getTime() - created.getTime() : null,
    nextRotation:
      secret.rotationEnabled && secret.nextRotationDate
        ? secret.nextRotationDate.toISOString()
        : null,
    lastOutcome: newest
      ? {
          outcome: outcomeOf(newest),
          event: newest.event,
          ...(newest.step ? { step: newest.step } : {}),
          at: newest.at,
        }
      : null,
    overdue: null,
    quarantined: observed.quarantined,
    notes,
    checkpoint: null,
    previous: null,
    scopes: null,
  };
  if (row.quarantined) {
    notes.push('quarantined: no valid token until a person runs the revoke with mode reissue');
  }

  if (!parsed.ok) {
    if (!parsed.optedOut) {
      row.problems = parsed.problems.map((problem) => problem.message);
      notes.push(`invalid policy: ${row.problems.join('; ')}`);
    }
  } else {
    row.grace = formatDuration(parsed.policy.graceMs);
    if (!secret.rotationEnabled)
      notes.push('rotation not attached yet (the next sweep attaches it)');
    // The plan's own rotation function is the secret's: the CLI judges age, it does not attach.
    const actions = planSecret(secret, {
      now,
      rotationFunctionArn: secret.rotationLambdaArn ?? '',
      sweepIntervalMs: SWEEP_INTERVAL_MS,
      limits,
      versionDates,
    });
    for (const action of actions) {
      if (action.type === 'lifespan-overdue') row.overdue = true;
      if (action.type === 'rotation-stuck') {
        notes.push(`rotation stuck for ${humanDuration(action.pendingForMs)}`);
      }
      if (action.type === 'revoke-requested')
        notes.push(revokeNote(secret.tags[TAG.revoke] ?? action.reason, observed.known));
      if (action.type === 'revoke-previous') notes.push('previous token past its grace');
    }
    const judged = created !== undefined && parsed.policy.revokeReason === undefined;
    if (judged && row.overdue === null) row.overdue = false;
  }
  if (!current) notes.push('no live version (AWSCURRENT)');
  return row;
}
