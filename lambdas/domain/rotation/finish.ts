// finishSecret: move AWSCURRENT to the new token, unless an emergency revoke got in the way.

import type { Issuer, SecretDescription } from '#domain/ports';
import { STAGE } from '#domain/vocabulary';
import { revokeInTheWay, revokeRefusal } from './revoke-guard.ts';
import type { RotationDeps, RotationRequest, StepState } from './types.ts';
import { versionWith } from './values.ts';

// Only AWSCURRENT moves (Secrets Manager moves AWSPREVIOUS and drops AWSPENDING itself);
// the previous token keeps working through grace, then the sweep revokes it.
export async function finishSecret(
  secret: SecretDescription,
  _issuer: Issuer,
  request: RotationRequest,
  deps: RotationDeps,
  state: StepState,
): Promise<void> {
  const { store } = deps;
  const revoke = await revokeInTheWay(secret, deps, state);
  if (revoke) throw revokeRefusal(secret, request, revoke, 'AWSCURRENT was left as it is');
  const from = versionWith(secret, STAGE.current);
  state.movingStage = true;
  await store.moveStage(secret.arn, STAGE.current, request.token, from);
  state.versions = from ? { current: request.token, previous: from } : { current: request.token };
}
