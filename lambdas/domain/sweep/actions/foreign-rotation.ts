// A secret rotated by another function (an RDS alternating-users secret, say): its rotation and
// its previous versions are kept as they are; only the lifespan is enforced (lifespan-overdue).
import type { SweepActionDef } from '../context.ts';

/** Rotation belongs to another function: kept, only the lifespan is enforced (RotateSecret, alerts). */
export interface ForeignRotation {
  type: 'foreign-rotation';
  rotationLambdaArn: string;
}

export const foreignRotation: SweepActionDef<ForeignRotation> = {
  plan: (s) =>
    s.state === 'enforced' && s.foreign
      ? [{ type: 'foreign-rotation', rotationLambdaArn: s.secret.rotationLambdaArn! }]
      : [],
  // Counted in the report, nothing to do.
  run: async () => {},
};
