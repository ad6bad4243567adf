// setSecret: activate the new token at its issuer, for the kinds that have something to
// activate, and never past an emergency revoke that ran meanwhile.

import { revokeAgain, revokeInTheWay, revokeRefusal } from './revoke-guard.ts';
import { NOTHING_CHANGED, type Work } from './types.ts';
import { issuerContext, readCurrent, readPending } from './values.ts';

// Activating brings a token to life at the issuer, so a revoke that dealt with this version since
// the step began must stop it: before activating (a revoked token is never activated), and after
// (a revoke that ran while it was activated revoked it first, so it is revoked again). The lock's
// first read comes before the new token is read: a revoke that finished before it took
// AWSPENDING off this version, so the read by version and AWSPENDING finds no token to activate.
export const setSecret: Work = async (secret, issuer, request, deps, state) => {
  if (!issuer.activate) return NOTHING_CHANGED;
  const { store } = deps;
  if (deps.revokes) state.revokeBefore = { lock: await deps.revokes.read(secret.arn) };
  const pending = await readPending(store, secret, request, state);
  const current = await readCurrent(store, secret, request, state);
  state.tokens.pending = issuer.name(pending);
  const before = await revokeInTheWay(secret, deps, state);
  if (before) {
    throw revokeRefusal(
      secret,
      request,
      before,
      `the new token (${state.tokens.pending}) was not activated`,
    );
  }
  await issuer.activate({ ...issuerContext(secret, request), pending, current });
  const during = await revokeInTheWay(secret, deps, state);
  if (during) {
    await revokeAgain(
      secret,
      issuer,
      request,
      state,
      pending,
      during,
      `the revoke may have taken AWSPENDING off version ${request.token} already, so revoke it at the issuer by hand`,
    );
    throw revokeRefusal(
      secret,
      request,
      during,
      `the new token (${state.tokens.pending}) was activated while it ran, and revoked again`,
    );
  }
};
