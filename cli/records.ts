// Audit records as the CLI's commands show them: the outcome a person reads, the trigger, the
// detail column; and a bounded-concurrency map for per-secret work.
import type { AuditRecord } from '#domain/ports';
import { pairs } from './format.ts';

/** `rotated`, `rotating (testSecret)`, or the event type: what the record says happened. */
export function outcomeOf(record: AuditRecord): string {
  if (record.event === 'step.succeeded' && record.step === 'finishSecret') return 'rotated';
  // Secrets Manager testing the configuration when rotation was attached: no rotation runs.
  if (record.detail?.configurationTest === true) return 'configuration tested';
  if (record.event === 'step.started' || record.event === 'step.succeeded') {
    return `rotating (${record.step ?? 'step'})`;
  }
  return record.event;
}

/** `schedule`, `tag by arn:aws:iam::…:user/alice`, `console`. */
export function triggerOf(record: AuditRecord): string {
  const trigger = record.trigger ?? { source: 'unknown' };
  return trigger.principal ? `${trigger.source} by ${trigger.principal}` : trigger.source;
}

/** The error, else the details, else the token names: the one cell that says why. */
export function detailOf(record: AuditRecord): string {
  if (record.error) return record.error;
  const detail = pairs(record.detail);
  const tokens = pairs(record.tokens);
  return [detail, tokens].filter(Boolean).join(' ');
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of results. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
