// createSecret: mint the new token and put it as AWSPENDING, once per rotation however often
// Secrets Manager retries, and never past an emergency revoke that ran meanwhile.

import { rememberSecret } from '#domain/errors';
import { STAGE } from '#domain/vocabulary';
import { currentWithKey, mintedToken } from './minted-index.ts';
import { revokeAgain, revokeInTheWay, revokeRefusal } from './revoke-guard.ts';
import { scopesToMint } from './scopes.ts';
import type { Work } from './types.ts';
import { issuerContext, readCurrent } from './values.ts';

export const createSecret: Work = async (secret, issuer, request, deps, state) => {
  const { store } = deps;
  if (issuer.mintCreates) {
    // Minting again would leave a second token at the issuer that no version holds: keep
    // what an earlier attempt of this version stored, as AWS's templates do.
    const stored = await store.getValue(secret.arn, {
      versionId: request.token,
      stage: STAGE.pending,
    });
    if (stored !== undefined) {
      rememberSecret(state.seen, stored);
      state.tokens.pending = issuer.name(stored);
      state.tokenSeen = await mintedToken(deps, secret, issuer, request.token, stored);
      state.detail.pendingKept = true;
      return;
    }
  }
  const withKey = await currentWithKey(deps, secret.arn);
  const current = await readCurrent(store, secret, request, state, withKey);
  state.tokens.current = issuer.name(current);
  const scopes = scopesToMint(secret, request.step);
  const pending = await issuer.mint({
    ...issuerContext(secret, request),
    current,
    ...(scopes && { scopes }),
  });
  rememberSecret(state.seen, pending);
  // 'exists': an earlier attempt already put this version's value; keep it, as AWS's
  // templates do, rather than spending a call to read it first.
  const put = await store.putPending(secret.arn, request.token, pending, request.rotationToken);
  if (put === 'put') {
    state.tokens.pending = issuer.name(pending);
    state.tokenSeen = await mintedToken(deps, secret, issuer, request.token, pending);
  } else state.detail.pendingKept = true;
  // Putting the value re-attaches AWSPENDING, even where a revoke had just taken it off: if one
  // ran meanwhile, revoke the token and then take the label off again, so nothing it missed
  // survives. In that order: a token whose revoke failed keeps its label, which is how the
  // revoke, the sweep and the next attempt find it; unlabelled, nothing would look at it again.
  const revoke = put === 'put' ? await revokeInTheWay(secret, deps, state) : undefined;
  if (revoke) {
    await revokeAgain(
      secret,
      issuer,
      request,
      state,
      pending,
      revoke,
      `AWSPENDING was left on version ${request.token} so that the revoke, the sweep or the next attempt finds it`,
    );
    try {
      await store.moveStage(secret.arn, STAGE.pending, undefined, request.token);
    } catch (error) {
      // Already off (the revoke got there first): nothing to undo.
      if (!(error instanceof Error && /not attached to version/i.test(error.message))) throw error;
    }
    throw revokeRefusal(
      secret,
      request,
      revoke,
      `the new token (${state.tokens.pending}) was revoked and AWSPENDING taken off version ${request.token}`,
    );
  }
};
