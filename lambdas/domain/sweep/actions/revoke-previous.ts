// A previous token (AWSPREVIOUS) whose grace has run out is revoked at its issuer, then its label
// removed; `previous.revoked` is recorded only after the issuer confirmed. A previous version the
// live value still holds is left alone and said so (`previous.revoke.skipped`); a revoke that
// fails is alerted once per incident (`previous.revoke.failed`) and retried at every sweep.
// Kinds with a two-stage revoke are deactivated here and deleted later (delete-deactivated).
import { secretParts } from '../../errors.ts';
import type { Issuer, SecretDescription } from '../../ports.ts';
import { STAGE } from '../../vocabulary.ts';
import { type ActionContext, isNew, previousVersion, type SweepActionDef } from '../context.ts';
import { latest, ms } from '../facts.ts';
import { deleteAfterLabel, graceExtendedTime } from '../labels.ts';
import { type LiveCheck, revokeFailed, sameAsLive } from '../previous.ts';
import { afterRevoke, checkSwitchOver, type SwitchOver } from '../switch-over.ts';

/** `previous.revoked`: revoke AWSPREVIOUS at its issuer, then remove the label. */
export interface RevokePrevious {
  type: 'revoke-previous';
  versionId: string;
  graceEndedAt: Date;
  kind: string;
  /** Whether consumers switched: asked of the issuer before the revoke (switch-over.ts). */
  switchOver: SwitchOver;
}

/** A version whose token's grace has run out. */
export type PastGrace = Pick<RevokePrevious, 'versionId' | 'graceEndedAt' | 'kind'>;

/** What revoking one version did: how it was known not to be live, who confirmed, what is left. */
interface Revoked {
  tokenName?: string;
  identity: LiveCheck;
  revokedBy: string;
  deleteLabel?: string;
  /** The live value holds the token: not revoked, the label removed. */
  skipped?: boolean;
}

/**
 * Revokes the token `versionId` holds (read with `stage`, the label that marks it), then removes
 * that label; for `random` removing the label is the revoke. Throws on failure.
 */
async function revokeVersion(
  c: ActionContext,
  secret: SecretDescription,
  at: { versionId: string; stage: string; kind: string },
  known: string[],
  done: Revoked,
  read?: { value: string | undefined },
): Promise<void> {
  const { store, pace } = c.deps;
  const issuer = c.deps.issuerFor(at.kind, { arn: secret.arn, name: secret.name });
  const value = read
    ? read.value
    : await store.getValue(secret.arn, { versionId: at.versionId, stage: at.stage });
  if (value !== undefined) {
    known.push(...secretParts(value));
    done.tokenName = issuer.name(value);
    done.identity = await sameAsLive(c, secret, issuer, value, known);
    if (done.identity.shared) {
      // Not revoked, on purpose: the live value holds this token. Said so, never "revoked".
      await pace(() => store.moveStage(secret.arn, at.stage, undefined, at.versionId));
      done.skipped = true;
      return;
    }
    await revokeAtIssuer(c, secret, issuer, { ...at, value }, done);
  }
  // For `random` removing the label is the revoke: no staged version holds the token any more.
  await pace(() => store.moveStage(secret.arn, at.stage, undefined, at.versionId));
}

async function revokeAtIssuer(
  c: ActionContext,
  secret: SecretDescription,
  issuer: Issuer,
  at: { versionId: string; value: string },
  done: Revoked,
): Promise<void> {
  const ctx = {
    secretArn: secret.arn,
    secretName: secret.name,
    versionId: at.versionId,
    value: at.value,
  };
  if (issuer.deactivate) {
    await issuer.deactivate(ctx);
    // Two-stage revoke: the label is the only record of when to delete, and it sits on
    // the version before AWSPREVIOUS leaves it, so the token is never unaccounted for.
    const label = deleteAfterLabel(c.deps.clock(), issuer.deleteAfterMs ?? 0);
    done.deleteLabel = label;
    await c.deps.pace(() => c.deps.store.moveStage(secret.arn, label, at.versionId));
    done.revokedBy = `${issuer.kind} (deactivated)`;
    return;
  }
  // Where the contract cannot tell the tokens apart, the issuer gets the live value too
  // and decides (docs/custom-issuers.md); its confirmation is what counts as revoked.
  if (!issuer.revokedByUnstaging) done.revokedBy = issuer.kind;
  const { identity } = done;
  await issuer.revoke(
    identity.shared === undefined && identity.current !== undefined
      ? { ...ctx, current: identity.current }
      : ctx,
  );
}

/** A previous token left alone because the live value holds it: alerted and audited once. */
async function skipped(
  c: ActionContext,
  secret: SecretDescription,
  action: PastGrace,
  tokenName: string | undefined,
  by: string,
) {
  const reason = `The live value (AWSCURRENT) holds the same token, by its ${by}: revoking it would revoke the live token.`;
  const sent = await c.alert(secret, 'previous.revoke.skipped', {
    versionId: action.versionId,
    by,
  });
  if (isNew(sent) || sent === 'failed') {
    await c.deps.audit.append(
      c.entry(secret, {
        event: 'previous.revoke.skipped',
        outcome: 'skipped',
        ...previousVersion(action.versionId, tokenName),
        detail: { reason, kind: action.kind, graceEndedAt: action.graceEndedAt.toISOString() },
      }),
    );
  }
}

/**
 * Revokes a previous token past its grace, read by `stage`, and records the outcome:
 * `previous.revoked` after the issuer confirmed, `previous.revoke.skipped` or (thrown)
 * `previous.revoke.failed`.
 */
export async function revokePastGrace(
  c: ActionContext,
  secret: SecretDescription,
  action: PastGrace,
  stage: string,
  detail: Record<string, string> = {},
  /** The version's value when the caller already read it (by `stage`). */
  read?: { value: string | undefined },
): Promise<void> {
  const known: string[] = [];
  const done: Revoked = {
    identity: { shared: false, by: 'no value held by the version' },
    revokedBy: 'the label removed',
  };
  try {
    const { versionId, kind } = action;
    await revokeVersion(c, secret, { versionId, kind, stage }, known, done, read);
    if (done.skipped) {
      const by = done.identity.shared ? done.identity.by : '';
      await skipped(c, secret, action, done.tokenName, by);
      return;
    }
  } catch (error) {
    throw await revokeFailed(c, secret, error, known, {
      versionId: action.versionId,
      stage: 'revoke',
      tokenName: done.tokenName,
    });
  }
  const { tokenName, identity, revokedBy, deleteLabel } = done;
  await c.deps.audit.append(
    c.entry(secret, {
      event: 'previous.revoked',
      outcome: 'succeeded',
      ...previousVersion(action.versionId, tokenName),
      detail: {
        graceEndedAt: action.graceEndedAt.toISOString(),
        kind: action.kind,
        // Who confirmed the revoke, and how the token was known not to be the live one: the
        // kind's contract, or the issuer's own decision when it was given both values.
        revokedBy,
        notLiveBy: identity.shared === false ? identity.by : 'the issuer, given the live value',
        ...(deleteLabel && { deactivated: true, deleteAfter: deleteLabel }),
        ...detail,
      },
    }),
  );
  await c.tokenRevoked?.(secret, action.versionId);
}

export const revokePrevious: SweepActionDef<RevokePrevious> = {
  plan: (s) => {
    // Another function's rotation owns its previous versions (an RDS alternating-users secret, say).
    if (s.state !== 'enforced' || s.foreign || s.currentSince === undefined) return [];
    if (s.previous === undefined || s.previous === s.current) return [];
    const liveUntil = latest(s.currentSince, ms(s.secret.lastRotatedDate))!;
    const graceEndsAt = liveUntil + s.policy.graceMs;
    if (s.now < graceEndsAt) return [];
    // A grace extended because the token was still used: revoked when the extension ends.
    const extendedBy = (s.secret.versions[s.previous] ?? []).find(
      (label) => graceExtendedTime(label) !== undefined,
    );
    if (extendedBy && graceExtendedTime(extendedBy)!.getTime() > s.now) return [];
    return [
      {
        type: 'revoke-previous',
        versionId: s.previous,
        graceEndedAt: new Date(graceEndsAt),
        kind: s.policy.kind,
        switchOver: {
          replacedAt: new Date(liveUntil),
          // The stack's bound (one more grace period by default), never past the lifespan.
          extendMs: s.policy.graceExtensionMs,
          ...(extendedBy && { extendedBy }),
        },
      },
    ];
  },
  run: async (c, secret, action) => {
    const check = await checkSwitchOver(c, secret, action);
    if (check.extended) return;
    await revokePastGrace(c, secret, action, STAGE.previous, check.detail, check.read);
    await afterRevoke(c, secret, action, check);
  },
};
