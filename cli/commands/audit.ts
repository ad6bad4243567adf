// `audit`: the trail, newest first: one secret's history, or every record of a time range
// (optionally of one event type). DynamoDB Query only, through the audit log adapter.
import type { AuditRecord } from '#domain/ports';
import { AUDIT_EVENTS, type AuditEventType } from '#domain/vocabulary';
import { choice, sinceDate, UsageError } from '../args.ts';
import { findSecret } from '../aws.ts';
import { shortTime } from '../format.ts';
import type { Command } from '../main.ts';
import { detailOf, triggerOf } from '../records.ts';

const DEFAULT_RANGE = '7d';

export const audit: Command = async (ctx) => {
  const format = choice(ctx.values.format, 'format', ['table', 'json'], 'table', 'audit');
  const event = ctx.values.event as string | undefined;
  if (event !== undefined && !AUDIT_EVENTS.includes(event as AuditEventType)) {
    throw new UsageError(
      `--event must be one of the audit event types (${AUDIT_EVENTS.join(', ')}); got "${event}"`,
      'audit',
    );
  }
  const limitText = ctx.values.limit as string | undefined;
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new UsageError(`--limit must be a whole number above 0; got "${limitText}"`, 'audit');
  }
  const now = ctx.clock();
  const sinceText = ctx.values.since as string | undefined;
  const secretId = ctx.positionals[0];
  const from =
    sinceText || !secretId ? sinceDate(sinceText ?? DEFAULT_RANGE, now, 'audit') : undefined;

  const stack = await ctx.stack();
  const log = stack.audit(ctx.clock);
  let records: AuditRecord[];
  let scope: string;
  if (secretId) {
    const arn = await trailArn(ctx, secretId);
    records = await log.history(arn, { newestFirst: true });
    records = records.filter(
      (r) => (!from || Date.parse(r.at) >= from.getTime()) && (!event || r.event === event),
    );
    scope = `of ${secretId}${from ? ` since ${shortTime(from)}` : ''}`;
  } else {
    const range = from!;
    ctx.progress(`reading the trail from ${shortTime(range)} to ${shortTime(now)}…`);
    records = event
      ? await log.ofType(event as AuditEventType, range, now)
      : await log.between(range, now);
    records.reverse();
    scope = `since ${shortTime(range)}`;
  }
  if (limit !== undefined) records = records.slice(0, limit);

  if (format === 'json') {
    ctx.out(`${JSON.stringify(records, null, 2)}\n`);
    return 0;
  }
  if (records.length === 0) {
    ctx.out(`No audit records${event ? ` of type ${event}` : ''} ${scope}.\n`);
    return 0;
  }
  ctx.out(
    ctx.table(
      ['AT', 'SECRET', 'EVENT', 'STEP', 'OUTCOME', 'TRIGGER', 'DETAIL'],
      records.map((r) => [
        shortTime(r.at),
        r.secretName,
        r.event,
        r.step ?? '',
        r.outcome,
        triggerOf(r),
        detailOf(r),
      ]),
      96,
    ),
  );
  ctx.out(
    `\n${records.length} record${records.length === 1 ? '' : 's'}${event ? ` of type ${event}` : ''} ${scope}, newest first.\n`,
  );
  return 0;
};

/**
 * The ARN a secret's trail is kept under. A secret deleted from Secrets Manager keeps its
 * trail: given its ARN, the trail is still read.
 */
export async function trailArn(ctx: Parameters<Command>[0], secretId: string): Promise<string> {
  try {
    return (await findSecret(ctx.connection, secretId)).arn;
  } catch (error) {
    if (secretId.startsWith('arn:')) {
      const log = (await ctx.stack()).audit(ctx.clock);
      if ((await log.history(secretId, { limit: 1 })).length > 0) return secretId;
    }
    throw error;
  }
}
