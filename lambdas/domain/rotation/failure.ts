// A failed step, told truthfully: audited and alerted once per incident, with where AWSCURRENT
// stands read back after the failure (never assumed from the step), and what to do next.

import { logger } from '#commons/logger';
import { describeError, RotationError, rememberSecret } from '#domain/errors';
import { ALERT_SEVERITY, STAGE } from '#domain/vocabulary';
import { record } from './audit.ts';
import { nextSteps } from './next-steps.ts';
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
  try {
    await record(deps, request, state, {
      event: 'rotation.failed',
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
    await deps.alerter.send({
      event: 'rotation.failed',
      severity: ALERT_SEVERITY['rotation.failed'] ?? 'high',
      secretArn: state.arn,
      secretName: state.name,
      incident: failureIncident(request, after),
      summary: `Rotation of ${state.name} failed at ${request.step}`,
      reason: text,
      versionId: request.token,
      nextSteps: [...liveTokenSteps(after, request.token), ...nextSteps(reason)],
      trigger: request.trigger,
    });
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

/**
 * An incident is what a person must know to act: which rotation (its version ID, the same across
 * Secrets Manager's retries), the step that failed and where AWSCURRENT stands afterwards. Retries
 * of one failure at one step are one incident (one e-mail); a later failure that leaves the live
 * token somewhere else (finishSecret failing after AWSCURRENT moved to the new token, where an
 * earlier testSecret failure left it unchanged) is another, and its e-mail is sent.
 */
function failureIncident(request: RotationRequest, after: StagesAfter): string {
  const live = !after.read
    ? 'unknown'
    : after.current === request.token
      ? 'moved'
      : after.current
        ? `unchanged:${after.current}`
        : 'none';
  return `${request.token}:${request.step}:current-${live}`;
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

/** The first things a reader needs: which token consumers get now, and the labels as read. */
function liveTokenSteps(after: StagesAfter, rotationVersion: string): string[] {
  return [liveToken(after, rotationVersion), `Stages read after the failure: ${after.text}.`];
}

function liveToken(after: StagesAfter, rotationVersion: string): string {
  if (!after.read) {
    return 'The staging labels could not be read after the failure: check in the console which version is AWSCURRENT before acting.';
  }
  if (after.current === rotationVersion) {
    return `AWSCURRENT already moved to this rotation's new token (version ${rotationVersion}): consumers now get it, and the previous token keeps working through its grace.`;
  }
  if (after.current) {
    return `The live token (AWSCURRENT) is unchanged on version ${after.current} and keeps working: consumers are not affected.`;
  }
  return 'No version is AWSCURRENT: consumers cannot read a live token. Put AWSCURRENT back on the last good version in the console.';
}
