// A failed step, told truthfully: audited and alerted once per incident, with where AWSCURRENT
// stands read back after the failure (never assumed from the step), and what to do next.

import { logger } from '#commons/logger';
import { describeError, RotationError, rememberSecret } from '#domain/errors';
import { STAGE } from '#domain/vocabulary';
import { alertOf } from '../alerts/catalog.ts';
import { record } from './audit.ts';
import { ScopeDriftRefused } from './scopes.ts';
import {
  type RotationDeps,
  type RotationRequest,
  RotationStepFailed,
  type StepState,
} from './types.ts';
import { versionWith } from './values.ts';

/** Audits and alerts a failed step; returns the scrubbed error to throw. Never throws itself. */
export async function reportFailure(
  error: unknown,
  request: RotationRequest,
  deps: RotationDeps,
  state: StepState,
): Promise<RotationStepFailed> {
  await rememberPrevious(deps, state);
  const text = describeError(error, state.seen);
  const reason = error instanceof RotationError ? error.reason : 'error';
  const log = { secretArn: state.arn, step: request.step, versionId: request.token };
  // A step can fail after its change landed (finishSecret's UpdateSecretVersionStage applied but
  // its answer lost, or the audit write after it failed): what the alert says about AWSCURRENT
  // comes from reading the stages now, never from which step failed.
  const after = await stagesAfterFailure(deps, state);
  const drift = error instanceof ScopeDriftRefused ? error : undefined;
  try {
    await record(deps, request, state, {
      // The refusal itself is the drift; a later attempt of it is a failed rotation (reason scope-drift).
      event: drift?.drift ? 'token.scope-drift' : 'rotation.failed',
      outcome: 'failed',
      error: text,
      detail: {
        ...state.detail,
        reason,
        ...(after.read && after.reread && { stagesAfter: after.text }),
      },
    });
  } catch (auditError) {
    logger.error('could not audit a failed rotation step', {
      ...log,
      error: describeError(auditError, state.seen),
    });
  }
  try {
    await deps.alerter.send(
      drift
        ? alertOf(drift.drift?.wildcard ? 'token.scope-drift.wildcard' : 'token.scope-drift', {
            secret: { arn: state.arn, name: state.name },
            trigger: request.trigger,
            where: 'rotation',
            versionId: request.token,
            ...(state.tokens.pending && { tokenName: state.tokens.pending }),
            ...(drift.drift && { drift: drift.drift }),
            source: drift.source,
            ...(drift.revoked && { revoked: describeError(drift.revoked, state.seen) }),
          })
        : alertOf('rotation.failed', {
            secret: { arn: state.arn, name: state.name },
            trigger: request.trigger,
            versionId: request.token,
            step: request.step,
            error: text,
            reason,
            stagesAfter: after,
          }),
    );
  } catch (alertError) {
    logger.error('could not alert a failed rotation step', {
      ...log,
      error: describeError(alertError, state.seen),
    });
  }
  return new RotationStepFailed(text, reason);
}

/**
 * The previous token is as secret as the others, and an issuer's error may quote it (listing an
 * account's keys, say) where no step read it: read it now, on failure only, so a successful
 * rotation's calls stay as they are. Unreadable, it is left to the generic scrubber.
 */
async function rememberPrevious(deps: RotationDeps, state: StepState): Promise<void> {
  const previous = state.stagesRead && versionWith({ versions: state.stagesRead }, STAGE.previous);
  if (!previous) return;
  try {
    const value = await deps.store.getValue(state.arn, {
      versionId: previous,
      stage: STAGE.previous,
    });
    if (value !== undefined) rememberSecret(state.seen, value);
  } catch {
    // The failure being reported matters more; the generic scrubber still applies.
  }
}

/** The staging labels as DescribeSecret shows them after a failure, or why they could not be read. */
type StagesAfter =
  | { read: true; reread: boolean; current?: string; text: string }
  | { read: false; text: string };

async function stagesAfterFailure(deps: RotationDeps, state: StepState): Promise<StagesAfter> {
  try {
    // Until this invocation asks to move a label, the labels it read are the ones its failure
    // left (reading them again would cost a call); after, only a fresh read tells. Where the
    // opening DescribeSecret itself failed, nothing was moved and the alert says they are unknown.
    if (!state.stagesRead) {
      return { read: false, text: 'they could not be read (DescribeSecret failed)' };
    }
    const reread = state.movingStage === true;
    const versions = reread ? (await deps.store.describe(state.arn)).versions : state.stagesRead;
    const staged = Object.entries(versions).filter(([, stages]) => stages.length > 0);
    const text =
      staged.length === 0
        ? 'no version carries a staging label'
        : staged.map(([id, stages]) => `${stages.join(', ')} on version ${id}`).join('; ');
    return {
      read: true,
      reread,
      current: versionWith({ versions }, STAGE.current),
      text,
    };
  } catch (error) {
    return {
      read: false,
      text: `they could not be read (${describeError(error, state.seen)})`,
    };
  }
}
