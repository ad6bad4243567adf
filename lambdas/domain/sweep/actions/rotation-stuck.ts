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
    const sent = await c.alert(secret, 'rotation.stuck', {
      versionId: action.versionId,
      pendingFor: formatAge(action.pendingForMs),
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
