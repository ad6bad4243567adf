// What the actions that revoke a previous token share (revoke-previous, delete-deactivated):
// telling whether the live value holds the same token, and reporting a revoke that failed.
import { describeError, secretParts } from '../errors.ts';
import type { Issuer, SecretDescription } from '../ports.ts';
import { asStagesAfter, stagesAfterFailure } from '../stages.ts';
import { STAGE } from '../vocabulary.ts';
import { type ActionContext, isNew, previousVersion } from './context.ts';

/** What the kind's contract says about a previous value and the live one (undefined: it cannot tell). */
export type LiveCheck =
  | { shared: true | false; by: string; current?: string }
  | { shared: undefined; current?: string };

/**
 * Whether the live value (AWSCURRENT) holds the same token as `value` (someone stored the same
 * key in a new version, e.g. edited a notes field in the console): by identical values, or by
 * the kind's contract (Issuer.tokenOf). Undefined where the contract cannot tell: never guessed
 * from the values' shape.
 */
export async function sameAsLive(
  c: ActionContext,
  secret: SecretDescription,
  issuer: Issuer,
  value: string,
  known: string[],
): Promise<LiveCheck> {
  const current = await c.deps.store.getValue(secret.arn, { stage: STAGE.current });
  if (current === undefined) return { shared: false, by: 'no live value' };
  known.push(...secretParts(current));
  if (current === value) return { shared: true, by: 'whole value', current };
  const previousToken = issuer.tokenOf?.(value);
  const liveToken = issuer.tokenOf?.(current);
  if (!previousToken || !liveToken) return { shared: undefined, current };
  return {
    shared: previousToken.id === liveToken.id,
    by:
      previousToken.by === liveToken.by
        ? previousToken.by
        : `${previousToken.by} and ${liveToken.by}`,
    current,
  };
}

/**
 * A previous token that could not be revoked (or deleted): alerted once per incident, audited
 * when the incident is new, and returned as the scrubbed error the sweep reports as a failure.
 */
export async function revokeFailed(
  c: ActionContext,
  secret: SecretDescription,
  error: unknown,
  known: string[],
  failure: {
    versionId: string;
    /** `revoke`: after grace; `delete`: the second stage of a two-stage revoke. */
    stage: 'revoke' | 'delete';
    tokenName: string | undefined;
  },
): Promise<Error> {
  const message = describeError(error, known);
  const { versionId, stage } = failure;
  // Where the labels stand now, read back: the revoke may have failed after a label moved.
  const after = await stagesAfterFailure(c.deps.store, secret.arn, known);
  const sent = await c.alert(secret, 'previous.revoke.failed', {
    versionId,
    stage,
    error: message,
    stagesAfter: asStagesAfter(after),
  });
  if (isNew(sent)) {
    await c.deps.audit.append(
      c.entry(secret, {
        event: 'previous.revoke.failed',
        outcome: 'failed',
        ...previousVersion(versionId, failure.tokenName),
        error: message,
        detail: { ...(stage === 'delete' ? { stage } : {}), stagesAfter: after.text },
      }),
    );
  }
  return new Error(message);
}
