// The rotation's audit records: one per step that changed something, its outcome; a record that
// cannot be written fails the step, so no rotation goes unrecorded.

import { describeError, RotationError } from '#domain/errors';
import type { AuditEntry } from '#domain/ports';
import type { RotationDeps, RotationRequest, StepState } from './types.ts';

/** The name inside a Secrets Manager ARN (minus AWS's 6-character suffix), for records written before DescribeSecret answered. */
export function nameOf(secretId: string): string {
  const match = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$/.exec(secretId);
  return match?.[1] ?? secretId;
}

export async function record(
  deps: RotationDeps,
  request: RotationRequest,
  state: StepState,
  entry: Pick<AuditEntry, 'event' | 'outcome'> & Partial<AuditEntry>,
): Promise<void> {
  const hasTokens = Object.keys(state.tokens).length > 0;
  const hasDetail = Object.keys(state.detail).length > 0;
  const audited: AuditEntry = {
    secretArn: state.arn,
    secretName: state.name,
    step: request.step,
    versions: { ...state.versions },
    ...(hasTokens && { tokens: { ...state.tokens } }),
    ...(hasDetail && { detail: { ...state.detail } }),
    trigger: request.trigger,
    ...entry,
  };
  const tokenSeen = state.tokenSeen;
  if (!tokenSeen) {
    await deps.audit.append(audited);
    return;
  }
  try {
    // The minted token's index item, in the same write (minted-index.ts).
    await deps.audit.append(audited, { tokenSeen });
  } catch (error) {
    // The index must never cost a rotation its record: a write refused as a whole (no grant on
    // the index, an item it will not take) is made again without the item; the sweep indexes it.
    if (!refusedOutright(error)) throw error;
    state.tokenSeen = undefined;
    await deps.audit.append(audited);
  }
}

/** Refused before anything was written, whatever is tried again the same way. */
const refusedOutright = (error: unknown) =>
  ['AccessDeniedException', 'ValidationException'].includes(
    ((error as { cause?: Error })?.cause ?? (error as Error))?.name ?? '',
  );

/** Audits a step's progress; a failed write fails the step, so no rotation goes unrecorded. */
export async function recordOrFail(
  deps: RotationDeps,
  request: RotationRequest,
  state: StepState,
  entry: Pick<AuditEntry, 'event' | 'outcome'>,
): Promise<void> {
  try {
    await record(deps, request, state, entry);
  } catch (error) {
    throw new RotationError(
      state.name,
      request.step,
      `expected to write the ${entry.event} audit record, found the write failed (${describeError(error, state.seen)})`,
      'audit-unavailable',
    );
  }
}
