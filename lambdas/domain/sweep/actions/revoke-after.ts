// A previous token pushed off AWSPREVIOUS by a newer rotation before its grace ended: finishSecret
// leaves the revoke-after label on its version (labels.ts revokeAfterLabel), the only record that
// the token is still live at its issuer. Once that time has passed the sweep revokes it exactly as
// an AWSPREVIOUS past grace (revoke-previous: `previous.revoked` after the issuer confirmed,
// `previous.revoke.failed` alerted otherwise, two-stage kinds deactivated with a delete-after
// label) and removes the label. A version that is live again keeps its token: only unlabelled.
import type { SecretDescription } from '../../ports.ts';
import { STAGE } from '../../vocabulary.ts';
import type { ActionContext, SweepActionDef } from '../context.ts';
import { graceExtendedTime, revokeAfterTime } from '../labels.ts';
import { revokePastGrace } from './revoke-previous.ts';

/** `previous.revoked`: a revoke-after label has come due; revoke the token, remove the label. */
export interface RevokeAfter {
  type: 'revoke-after';
  versionId: string;
  label: string;
  graceEndedAt: Date;
  kind: string;
  /** The live stage the version holds again (a person moved it back): unlabel, never revoke. */
  liveAs?: string;
  /** A grace extension the version still carries (a rotation came during it): removed too. */
  extendedBy?: string;
}

const LIVE: string[] = [STAGE.current, STAGE.pending, STAGE.previous];

/** The version is live again: its token stays, and the stale label goes, said so in the audit. */
async function unlabel(c: ActionContext, secret: SecretDescription, action: RevokeAfter) {
  await c.deps.pace(() =>
    c.deps.store.moveStage(secret.arn, action.label, undefined, action.versionId),
  );
  await c.deps.audit.append(
    c.entry(secret, {
      event: 'previous.revoke.skipped',
      outcome: 'skipped',
      versions: { previous: action.versionId },
      detail: {
        reason: `The version is live again (${action.liveAs}): its token was not revoked, and its revoke-after label was removed.`,
        kind: action.kind,
        graceEndedAt: action.graceEndedAt.toISOString(),
      },
    }),
  );
}

export const revokeAfter: SweepActionDef<RevokeAfter> = {
  plan: (s) => {
    if (s.state !== 'enforced') return [];
    const due: RevokeAfter[] = [];
    for (const [versionId, stages] of Object.entries(s.secret.versions)) {
      const liveAs = stages.find((stage) => LIVE.includes(stage));
      for (const label of stages) {
        // An unreadable time is due now rather than never: no stage holds the token any more.
        // A live version is unlabelled only once due too, so a label staged just before its
        // version loses AWSPREVIOUS (finishSecret) is never taken away on the way.
        const graceEndedAt = revokeAfterTime(label);
        if (graceEndedAt === undefined || graceEndedAt.getTime() > s.now) continue;
        const action: RevokeAfter = {
          type: 'revoke-after',
          versionId,
          label,
          graceEndedAt,
          kind: s.policy.kind,
        };
        if (liveAs !== undefined) action.liveAs = liveAs;
        const extendedBy = stages.find((s) => graceExtendedTime(s) !== undefined);
        if (extendedBy !== undefined) action.extendedBy = extendedBy;
        due.push(action);
      }
    }
    return due;
  },
  run: async (c, secret, action) => {
    if (action.liveAs !== undefined) return unlabel(c, secret, action);
    await revokePastGrace(c, secret, action, action.label, { revokeAfter: action.label });
    const { extendedBy } = action;
    if (extendedBy !== undefined) {
      await c.deps.pace(() =>
        c.deps.store.moveStage(secret.arn, extendedBy, undefined, action.versionId),
      );
    }
  },
};
