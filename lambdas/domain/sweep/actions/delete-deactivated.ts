// The second stage of a two-stage revoke (kinds with Issuer.deactivate, e.g. iam-access-key): a
// deactivated token whose delete-after label has come due is deleted at the issuer, then the label
// is dropped. A version that is live again (a person moved a stage back onto it) is never deleted.
import { secretParts } from '../../errors.ts';
import { DELETE_AFTER_LABEL_PREFIX, STAGE } from '../../vocabulary.ts';
import { previousVersion, type SweepActionDef } from '../context.ts';
import { labelTime } from '../labels.ts';
import { revokeFailed, sameAsLive } from '../previous.ts';

/**
 * `previous.deleted`: a token deactivated after grace (kinds with a two-stage revoke) whose
 * `token-rotation:delete-after:<time>` label has come due: revoke it for good, drop the label.
 */
export interface DeleteDeactivated {
  type: 'delete-deactivated';
  versionId: string;
  label: string;
  dueAt: Date;
  kind: string;
}

const LIVE: string[] = [STAGE.current, STAGE.pending, STAGE.previous];

export const deleteDeactivated: SweepActionDef<DeleteDeactivated> = {
  plan: (s) => {
    if (s.state !== 'enforced') return [];
    const due: DeleteDeactivated[] = [];
    for (const [versionId, stages] of Object.entries(s.secret.versions)) {
      if (stages.some((stage) => LIVE.includes(stage))) continue;
      for (const label of stages) {
        // An unreadable time is deleted now rather than never: the token is already deactivated.
        const dueAt = labelTime(label, DELETE_AFTER_LABEL_PREFIX);
        if (dueAt === undefined || dueAt.getTime() > s.now) continue;
        due.push({ type: 'delete-deactivated', versionId, label, dueAt, kind: s.policy.kind });
      }
    }
    return due;
  },
  run: async (c, secret, action) => {
    const { store } = c.deps;
    const known: string[] = [];
    let tokenName: string | undefined;
    let shared = false;
    try {
      const issuer = c.deps.issuerFor(action.kind, { arn: secret.arn, name: secret.name });
      const value = await store.getValue(secret.arn, { versionId: action.versionId });
      if (value !== undefined) {
        known.push(...secretParts(value));
        tokenName = issuer.name(value);
        shared = (await sameAsLive(c, secret, issuer, value, known)).shared === true;
        if (!shared) {
          await issuer.revoke({
            secretArn: secret.arn,
            secretName: secret.name,
            versionId: action.versionId,
            value,
          });
        }
      }
      await c.deps.pace(() =>
        store.moveStage(secret.arn, action.label, undefined, action.versionId),
      );
    } catch (error) {
      throw await revokeFailed(c, secret, error, known, {
        versionId: action.versionId,
        stage: 'delete',
        tokenName,
      });
    }
    await c.deps.audit.append(
      c.entry(secret, {
        event: 'previous.deleted',
        outcome: 'succeeded',
        ...previousVersion(action.versionId, tokenName),
        detail: {
          dueAt: action.dueAt.toISOString(),
          kind: action.kind,
          ...(shared && { sharedWithCurrent: true }),
        },
      }),
    );
  },
};
