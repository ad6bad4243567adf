// Consumer switch-over: before a previous token is revoked after its grace, the sweep asks its
// issuer whether the token was used since the rotation that replaced it (Issuer.lastUsed: IAM's
// GetAccessKeyLastUsed for access keys). A use means a consumer has not switched, and revoking
// now would break it without warning. So the grace is extended once (a grace-extended label on
// the version marks it, and its end), `previous.still-used` is audited and alerted with who still
// uses it; when the extension ends the token is revoked whether or not it is still used, and the
// alert says so. Security wins at the bound: an extension is never renewed.
//
// An issuer that cannot say (no lastUsed, or its answer failed) never delays a revoke: the token
// is revoked at the end of its grace as before, and the record says the use was not known.
import { describeError, scrub, secretParts } from '../errors.ts';
import type { SecretDescription, TokenUse } from '../ports.ts';
import { STAGE } from '../vocabulary.ts';
import { type ActionContext, isNew } from './context.ts';
import { graceExtendedLabel } from './labels.ts';
import { sameAsLive } from './previous.ts';

/** What the plan knows of a previous token's switch-over. */
export interface SwitchOver {
  /** When the token stopped being live: uses after this are consumers that did not switch. */
  replacedAt: Date;
  /** How much longer the token may live if still used: the policy's graceExtensionMs. */
  extendMs: number;
  /** The grace-extended label already on the version (its extension has ended). */
  extendedBy?: string;
}

/** What the check found, for the revoke that follows. */
export type SwitchOverCheck =
  | { extended: true }
  | {
      extended: false;
      stillUsed?: TokenUse;
      detail: Record<string, string>;
      /** The previous version's value as read here, so the revoke need not read it again. */
      read?: { value: string | undefined };
    };

/** At most this many characters of an issuer's "used by" text reach an alert or the audit. */
const USED_BY_MAX = 200;

/**
 * The issuer's description of a caller, made safe to print: the token's own values scrubbed,
 * control characters replaced, and cut to a bounded length.
 */
function printable(by: string, known: string[]): string {
  const text = scrub(by, known).replace(/[\p{Cc}\p{Cf}]/gu, '?');
  return text.length > USED_BY_MAX ? `${text.slice(0, USED_BY_MAX - 1)}…` : text || 'unknown';
}

const isoSeconds = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Asks the issuer whether the previous token `versionId` was used since `replacedAt`; extends its
 * grace once when it was and the bound allows. Never throws for the issuer's answer: a failed
 * check is recorded in the detail and the revoke goes ahead.
 */
export async function checkSwitchOver(
  c: ActionContext,
  secret: SecretDescription,
  action: { versionId: string; kind: string; switchOver: SwitchOver },
): Promise<SwitchOverCheck> {
  const issuer = c.deps.issuerFor(action.kind, { arn: secret.arn, name: secret.name });
  if (!issuer.lastUsed) return { extended: false, detail: {} };
  const { versionId, switchOver } = action;
  const value = await c.deps.store.getValue(secret.arn, { versionId, stage: STAGE.previous });
  const read = { value };
  if (value === undefined) return { extended: false, detail: {}, read };
  const known = secretParts(value);
  let use: TokenUse | undefined;
  try {
    use = await issuer.lastUsed({
      secretArn: secret.arn,
      secretName: secret.name,
      versionId,
      value,
    });
  } catch (error) {
    const detail = { lastUsed: `unknown: ${describeError(error, known)}` };
    return { extended: false, detail, read };
  }
  if (!use || use.at.getTime() <= switchOver.replacedAt.getTime()) {
    const detail = { lastUsed: use ? isoSeconds(use.at) : 'never, as the issuer records it' };
    return { extended: false, detail, read };
  }
  // A use of the live token is no evidence against switching: the version holds the live token
  // (the same value saved again), and the revoke leaves it alone (previous.revoke.skipped).
  if ((await sameAsLive(c, secret, issuer, value, known)).shared) {
    return { extended: false, detail: {}, read };
  }
  const stillUsed = { at: use.at, by: printable(use.by, known) };
  const used = { lastUsed: isoSeconds(use.at), usedBy: stillUsed.by, revokedAnyway: 'true' };
  if (switchOver.extendedBy !== undefined || switchOver.extendMs <= 0) {
    return { extended: false, stillUsed, detail: used, read };
  }
  try {
    await extend(c, secret, { versionId, tokenName: issuer.name(value) }, switchOver, stillUsed);
  } catch (error) {
    // An extension nobody was told of is worse than none: revoke now, and say why.
    const extension = `not extended: ${describeError(error, known)}`;
    return { extended: false, stillUsed, detail: { ...used, extension }, read };
  }
  return { extended: true };
}

async function extend(
  c: ActionContext,
  secret: SecretDescription,
  version: { versionId: string; tokenName: string },
  switchOver: SwitchOver,
  use: TokenUse,
): Promise<void> {
  const until = new Date(c.deps.clock().getTime() + switchOver.extendMs);
  const label = graceExtendedLabel(until);
  await c.deps.pace(() => c.deps.store.moveStage(secret.arn, label, version.versionId));
  try {
    await record(c, secret, version, switchOver, use, until);
  } catch (error) {
    // Not audited: take the extension back (the caller then revokes), unless that fails too.
    await c.deps.pace(() =>
      c.deps.store.moveStage(secret.arn, label, undefined, version.versionId),
    );
    throw error;
  }
}

/** The extension's audit record and alert. */
async function record(
  c: ActionContext,
  secret: SecretDescription,
  version: { versionId: string; tokenName: string },
  switchOver: SwitchOver,
  use: TokenUse,
  until: Date,
): Promise<void> {
  await c.deps.audit.append(
    c.entry(secret, {
      event: 'previous.still-used',
      outcome: 'skipped',
      versions: { previous: version.versionId },
      tokens: { previous: version.tokenName },
      detail: {
        lastUsed: isoSeconds(use.at),
        usedBy: use.by,
        replacedAt: isoSeconds(switchOver.replacedAt),
        extendedUntil: isoSeconds(until),
      },
    }),
  );
  await c.alert(secret, 'previous.still-used', {
    versionId: version.versionId,
    tokenName: version.tokenName,
    lastUsedAt: isoSeconds(use.at),
    usedBy: use.by,
    replacedAt: isoSeconds(switchOver.replacedAt),
    extendedUntil: isoSeconds(until),
  });
}

/**
 * After a revoke at the end of an extension: the extension's label goes, and a token that was
 * still used is alerted (it was revoked anyway) and recorded.
 */
export async function afterRevoke(
  c: ActionContext,
  secret: SecretDescription,
  action: { versionId: string; switchOver: SwitchOver },
  check: SwitchOverCheck,
): Promise<void> {
  const { versionId, switchOver } = action;
  if (switchOver.extendedBy !== undefined) {
    const label = switchOver.extendedBy;
    await c.deps.pace(() => c.deps.store.moveStage(secret.arn, label, undefined, versionId));
  }
  if (check.extended || !check.stillUsed) return;
  const sent = await c.alert(secret, 'previous.still-used', {
    versionId,
    lastUsedAt: isoSeconds(check.stillUsed.at),
    usedBy: check.stillUsed.by,
    replacedAt: isoSeconds(switchOver.replacedAt),
  });
  if (isNew(sent) || sent === 'failed') {
    await c.deps.audit.append(
      c.entry(secret, {
        event: 'previous.still-used',
        outcome: 'reported',
        versions: { previous: versionId },
        detail: { ...check.detail, replacedAt: isoSeconds(switchOver.replacedAt) },
      }),
    );
  }
}
