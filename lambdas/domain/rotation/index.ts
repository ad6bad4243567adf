// The Secrets Manager four-step rotation protocol (SPEC "Rotation"), for any token kind. Every
// step is safe to run again, and a failure leaves AWSCURRENT untouched, is audited, and is
// alerted once per rotation however often Secrets Manager retries it. One file per step
// (create, set, test, finish); failure.ts tells a failure (in the alert catalog's words).
//
// Secrets Manager calls per successful rotation: 4 × DescribeSecret, GetSecretValue (current;
// with the fingerprint key in one BatchGetSecretValue the first time a container indexes a minted
// token, minted-index.ts) and PutSecretValue in createSecret, GetSecretValue (pending) in testSecret, and one
// UpdateSecretVersionStage in finishSecret: 8, the budget (issue 2). setSecret reads nothing
// (not even the revoke lock) unless the kind has something to activate. A rotation within the previous one's grace (an
// AWSPREVIOUS not yet revoked) pays 2 more in finishSecret to keep that token tracked (finish.ts);
// a failure reads AWSPREVIOUS once more, to scrub it (failure.ts).

import { STAGE, type Step, TAG } from '#domain/vocabulary';
import { nameOf, recordOrFail } from './audit.ts';
import { createSecret } from './create.ts';
import { reportFailure } from './failure.ts';
import { finishSecret } from './finish.ts';
import { refusedBefore } from './scopes.ts';
import { setSecret } from './set.ts';
import { testSecret } from './test.ts';
import {
  NOTHING_CHANGED,
  type RotationDeps,
  type RotationRequest,
  type StepState,
  type Work,
} from './types.ts';
import { checkStaging, versionWith } from './values.ts';

export { type RotationDeps, type RotationRequest, RotationStepFailed } from './types.ts';

const STEP_WORK: Record<Step, Work> = { createSecret, setSecret, testSecret, finishSecret };

/** Runs one rotation step for `request.token`. Throws RotationStepFailed (already audited and alerted) on failure. */
export async function rotateStep(request: RotationRequest, deps: RotationDeps): Promise<void> {
  const state: StepState = {
    arn: request.secretId,
    name: nameOf(request.secretId),
    versions: { pending: request.token },
    tokens: {},
    detail: {},
    seen: new Set(),
  };
  try {
    // The ARN Secrets Manager sends is the lock's key; a name would find no lock to compare.
    // setSecret reads it itself, and only when it has something to activate (set.ts).
    const guarded = request.step === 'createSecret' || request.step === 'finishSecret';
    if (guarded && deps.revokes && request.secretId.startsWith('arn:')) {
      state.revokeBefore = { lock: await deps.revokes.read(request.secretId) };
    }
    const secret = await deps.store.describe(request.secretId);
    state.stagesRead = secret.versions;
    state.arn = secret.arn;
    state.name = secret.name;
    const current = versionWith(secret, STAGE.current);
    if (current === request.token) state.versions = { current };
    else if (current) state.versions.current = current;

    // A step that changed something records its outcome before it reports success; a failure is
    // recorded by reportFailure. A successful random rotation writes two records: the new token
    // (createSecret) and its promotion (finishSecret). Nothing an auditor asks needs a record of
    // a step beginning, of a check that passed, or of a step with nothing to do.
    refusedBefore(secret, request);
    if (checkStaging(secret, request) === 'done') {
      await recordOrFail(deps, request, state, { event: 'step.succeeded', outcome: 'skipped' });
      return;
    }
    const issuer = deps.issuerFor(secret.tags[TAG.kind], secret);
    const outcome =
      (await STEP_WORK[request.step](secret, issuer, request, deps, state)) ?? 'succeeded';
    if (outcome === NOTHING_CHANGED) return;
    await recordOrFail(deps, request, state, { event: 'step.succeeded', outcome });
  } catch (error) {
    throw await reportFailure(error, request, deps, state);
  }
}
