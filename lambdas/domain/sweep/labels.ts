// The suite's timed staging labels: a prefix from vocabulary.ts followed by an ISO time to the
// second (`token-rotation:delete-after:2025-03-08T10:00:00Z`). Whoever stages one writes it here,
// and the sweep reads it back here, so both sides agree on the format.
import {
  DELETE_AFTER_LABEL_PREFIX,
  GRACE_EXTENDED_LABEL_PREFIX,
  REVOKE_AFTER_LABEL_PREFIX,
} from '../vocabulary.ts';

const secondsIso = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The delete-after label for a token deactivated now, to be deleted `afterMs` later. */
export function deleteAfterLabel(now: Date, afterMs: number): string {
  return `${DELETE_AFTER_LABEL_PREFIX}${secondsIso(new Date(now.getTime() + afterMs))}`;
}

/**
 * The revoke-after label for a version that lost AWSPREVIOUS before its grace ended (staged by
 * finishSecret): the sweep revokes its token once `graceEndsAt` has passed.
 */
export function revokeAfterLabel(graceEndsAt: Date): string {
  return `${REVOKE_AFTER_LABEL_PREFIX}${secondsIso(graceEndsAt)}`;
}

/** When a revoke-after label's grace ends; undefined for any other label. */
export function revokeAfterTime(label: string): Date | undefined {
  return labelTime(label, REVOKE_AFTER_LABEL_PREFIX);
}

/** The label of a previous token's grace extended until `until` (its token still in use). */
export function graceExtendedLabel(until: Date): string {
  return `${GRACE_EXTENDED_LABEL_PREFIX}${secondsIso(until)}`;
}

/** When a grace-extended label's extension ends; undefined for any other label. */
export function graceExtendedTime(label: string): Date | undefined {
  return labelTime(label, GRACE_EXTENDED_LABEL_PREFIX);
}

/**
 * The time a timed label with this prefix names; undefined when the label has another prefix.
 * An unreadable time reads as the epoch: due now rather than never.
 */
export function labelTime(label: string, prefix: string): Date | undefined {
  if (!label.startsWith(prefix)) return undefined;
  const at = new Date(label.slice(prefix.length));
  return Number.isNaN(at.getTime()) ? new Date(0) : at;
}
