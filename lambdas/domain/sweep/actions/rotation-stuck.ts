// A rotation left with AWSPENDING on a version that is not AWSCURRENT for longer than
// STUCK_AFTER_MS: reported once per incident (the alert first, the audit record when it is new).
import { formatAge } from '../../policy.ts';
import { hours, isNew, type SweepActionDef } from '../context.ts';

/** `rotation.stuck`: AWSPENDING on a version that is not AWSCURRENT for longer than STUCK_AFTER_MS. */
export interface RotationStuck {
  type: 'rotation-stuck';
  versionId: string;
  pendingForMs: number;
}

export const rotationStuck: SweepActionDef<RotationStuck> = {
  plan: (s) =>
    s.state === 'enforced' && s.stuck && s.pending !== undefined && s.pendingSince !== undefined
      ? [{ type: 'rotation-stuck', versionId: s.pending, pendingForMs: s.now - s.pendingSince }]
      : [],
  run: async (c, secret, action) => {
    const sent = await c.alert(secret, {
      event: 'rotation.stuck',
      incident: action.versionId,
      versionId: action.versionId,
      summary: `A rotation started ${formatAge(action.pendingForMs)} ago has not finished (AWSPENDING is left on version ${action.versionId}).`,
      reason: 'The rotation function failed or was interrupted at one of its steps.',
      nextSteps: [
        'Look for a rotation.failed alert or audit record for this secret.',
        'Fix the cause, then rotate the secret again from the console, or remove AWSPENDING from that version.',
      ],
    });
    if (isNew(sent)) {
      await c.deps.audit.append(
        c.entry(secret, {
          event: 'rotation.stuck',
          outcome: 'reported',
          versions: { pending: action.versionId },
          detail: { pendingHours: hours(action.pendingForMs) },
        }),
      );
    }
  },
};
