// Detaching our rotation from a secret whose lifespan tag is gone (found by a tag event or the
// detach pass over the managed set). Another function's rotation is never touched.
import type { SweepActionDef } from '../context.ts';
import { sameFunction } from '../facts.ts';

/** CancelRotateSecret: the lifespan tag is gone but our function is still attached. */
export interface Detach {
  type: 'detach';
}

export const detach: SweepActionDef<Detach> = {
  plan: (s) =>
    s.state === 'opted-out' &&
    s.secret.rotationEnabled &&
    sameFunction(s.secret.rotationLambdaArn, s.ctx.rotationFunctionArn)
      ? [{ type: 'detach' }]
      : [],
  run: async (c, secret) => {
    await c.audited(secret, { event: 'rotation.detached' }, () =>
      c.deps.pace(() => c.deps.catalog.cancelRotation(secret.arn), 'RotateSecret'),
    );
    await c.deps.managed?.remove(secret.arn);
  },
};
