// Reissue or quarantine: after every live token is revoked, the secret gets a new version, in mode
// `reissue` a fresh token minted, activated and verified at the issuer, in mode `quarantine` the
// quarantine notice (quarantine-notice.ts). It is put as AWSPENDING; promote.ts makes it AWSCURRENT.

import { randomUUID } from 'node:crypto';
import { describeError, rememberSecret } from '../errors.ts';
import type { Issuer, SecretDescription, SecretStore } from '../ports.ts';
import { STAGE } from '../vocabulary.ts';
import { versionWith } from './live-versions.ts';
import {
  quarantineNotice,
  quarantineVersionId,
  readQuarantineNotice,
} from './quarantine-notice.ts';
import type { RevokeDeps, RevokeMode } from './types.ts';

/** What the new version will be: a fresh token minted from `from`, or a notice naming `restoreFrom`. */
export type NewVersionPlan =
  | { mode: 'reissue'; from: string }
  | { mode: 'quarantine'; restoreFrom: string };

/**
 * The reissue-or-quarantine decision. `template`: the AWSCURRENT value as the revoke read it (for
 * a quarantined secret, already the value of the version its notice names); `current`: the
 * version AWSCURRENT is on. A quarantine of a quarantined secret keeps naming the last real token.
 */
export function planNewVersion(
  mode: RevokeMode,
  template: string | undefined,
  current: string | undefined,
): NewVersionPlan {
  if (mode === 'quarantine') {
    const notice = template === undefined ? undefined : readQuarantineNotice(template);
    const restoreFrom = notice?.restoreFrom ?? current;
    if (!restoreFrom) throw new Error('expected an AWSCURRENT version to quarantine, found none');
    return { mode, restoreFrom };
  }
  if (template === undefined) {
    throw new Error('expected AWSCURRENT to hold a value to mint the fresh token from, found none');
  }
  return { mode, from: template };
}

export interface NewVersionInput {
  secret: Pick<SecretDescription, 'arn' | 'name' | 'versions'>;
  issuer: Issuer;
  mode: RevokeMode;
  template: string | undefined;
  revokeId: string;
  stackName: string;
  /** Every value read or minted: the new one is added, to be redacted from any error text. */
  seen: Set<string>;
}

/**
 * Puts the new version (a fresh token or the quarantine notice) as AWSPENDING and returns its ID.
 * A fresh token that could not be staged is revoked again: no version would hold it.
 */
export async function reissueOrQuarantine(
  input: NewVersionInput,
  deps: Pick<RevokeDeps, 'store' | 'clock' | 'newVersionId' | 'log'>,
): Promise<string> {
  const { secret, seen } = input;
  const unique = (deps.newVersionId ?? randomUUID)();
  const plan = planNewVersion(input.mode, input.template, versionWith(secret, STAGE.current));
  if (plan.mode === 'reissue') {
    await reissue(input, plan.from, unique, deps);
    return unique;
  }
  const versionId = quarantineVersionId(unique);
  const value = quarantineNotice({
    revokeId: input.revokeId,
    at: deps.clock(),
    restoreFrom: plan.restoreFrom,
    stackName: input.stackName,
  });
  rememberSecret(seen, value);
  await deps.store.putPending(secret.arn, versionId, value);
  return versionId;
}

/** Mints, activates and verifies a fresh token from `template`, and puts it in `versionId`. */
async function reissue(
  input: NewVersionInput,
  template: string,
  versionId: string,
  deps: { store: Pick<SecretStore, 'putPending'>; log?: RevokeDeps['log'] },
): Promise<void> {
  const { secret, issuer, seen } = input;
  const ctx = { secretArn: secret.arn, secretName: secret.name, versionId };
  const minted = await mintRetried(issuer, { ...ctx, current: template }, seen, deps.log);
  rememberSecret(seen, minted);
  try {
    if (issuer.activate) await issuer.activate({ ...ctx, pending: minted, current: template });
    await issuer.verify({ ...ctx, pending: minted });
    await deps.store.putPending(secret.arn, versionId, minted);
  } catch (error) {
    // A fresh token no version holds would work and be seen by nobody: revoke it too.
    await issuer.revoke({ ...ctx, value: minted }).catch((revokeError: unknown) => {
      deps.log?.warn('revoke: could not revoke the fresh token it could not stage', {
        secretArn: secret.arn,
        error: describeError(revokeError, seen),
      });
    });
    throw error;
  }
}

/**
 * Mints; when the answer did not come and minting again is safe, mints again with the same
 * version ID: free tokens (`random`), or an issuer whose `mint` is idempotent per version ID
 * returns the key it made then, where giving up would leave a working key no version holds. An
 * issuer that creates keys without that promise (IAM) is not asked twice: a second key could
 * leave the first working unseen; the revoke fails and its alert says a key may be left.
 */
async function mintRetried(
  issuer: Issuer,
  ctx: Parameters<Issuer['mint']>[0],
  seen: Set<string>,
  log: RevokeDeps['log'],
): Promise<string> {
  const safeToRepeat = !issuer.mintCreates || issuer.mintIdempotent === true;
  try {
    return await issuer.mint(ctx);
  } catch (error) {
    if (!safeToRepeat) throw mayHoldKey(error, ctx.versionId, seen);
    log?.warn('revoke: minting the fresh token failed; asking again under the same version ID', {
      secretArn: ctx.secretArn,
      versionId: ctx.versionId,
      error: describeError(error, seen),
    });
  }
  try {
    return await issuer.mint(ctx);
  } catch (error) {
    throw issuer.mintCreates ? mayHoldKey(error, ctx.versionId, seen) : error;
  }
}

/** The mint's error, saying the one key this revoke cannot see or revoke by itself: in the alert. */
function mayHoldKey(error: unknown, versionId: string, seen: Set<string>): Error {
  return new Error(
    `${describeError(error, seen)}; if the issuer made a key before failing, no version stores it (version ${versionId}): look it up at the issuer and revoke it`,
  );
}
