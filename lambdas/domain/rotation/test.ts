// testSecret: the issuer verifies the new token before anything depends on it; Secrets Manager's
// configuration test (a fresh AWSPENDING with no new token) is told apart and skipped.

import { rememberSecret } from '#domain/errors';
import { STAGE } from '#domain/vocabulary';
import { refuseBroader } from './scopes.ts';
import { NOTHING_CHANGED, type StepState, type Work } from './types.ts';
import { issuerContext, readPending } from './values.ts';

export const testSecret: Work = async (secret, issuer, request, deps, state) => {
  const { store } = deps;
  // RotateSecret without RotateImmediately (how rotation is attached) makes Secrets Manager
  // test the configuration: testSecret alone, on a fresh AWSPENDING that holds either no value
  // or a copy of AWSCURRENT (AWS documents neither). A real rotation's pending value is always
  // a new token that createSecret put before testSecret runs, so both shapes are the test.
  const value = await store.getValue(secret.arn, {
    versionId: request.token,
    stage: STAGE.pending,
  });
  if (value === undefined) return configurationTest(state);
  const pending = await readPending(store, secret, request, state, value);
  state.tokens.pending = issuer.name(pending);
  try {
    await issuer.verify({ ...issuerContext(secret, request), pending });
  } catch (error) {
    // Only on failure, so a successful rotation stays within its 8 calls.
    const current = await store.getValue(secret.arn, { stage: STAGE.current });
    if (current !== undefined) rememberSecret(state.seen, current);
    if (current === pending) return configurationTest(state);
    throw error;
  }
  // No silent widening: a token broader than the declared scopes is refused here (scopes.ts).
  // Scopes read from the issuer are recorded (status shows them); otherwise a check that passed
  // needs no record: finishSecret's says so (it runs only after this step succeeded).
  const scopes = await refuseBroader(secret, issuer, request, deps, state, pending);
  if (scopes === 'checked') return;
  return NOTHING_CHANGED;
};

function configurationTest(state: StepState): 'skipped' {
  state.detail.configurationTest = true;
  return 'skipped';
}
