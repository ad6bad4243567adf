// Invalid token-rotation tags: nothing is changed on the secret, and the problem is reported once
// per distinct set of tags (the alert first, the audit record when the alert was new). An empty
// revoke tag is reported the same way while the lifespan stays enforced.
import type { PolicyProblem } from '../../policy.ts';
import { TAG } from '../../vocabulary.ts';
import { isNew, type SweepActionDef } from '../context.ts';

/** `policy.invalid`: nothing else is done to the secret. */
export interface PolicyInvalid {
  type: 'policy-invalid';
  problems: PolicyProblem[];
  fingerprint: string;
}

export const policyInvalid: SweepActionDef<PolicyInvalid> = {
  plan: (s) => {
    if (s.state === 'invalid') {
      return [{ type: 'policy-invalid', problems: s.problems, fingerprint: s.fingerprint }];
    }
    if (s.state !== 'enforced' || s.policy.revokeReason === undefined) return [];
    // An empty revoke tag: the revoke refuses a request without a reason, so handing it over
    // would repeat at every sweep. Report it once, and keep enforcing the lifespan meanwhile.
    return [
      {
        type: 'policy-invalid',
        fingerprint: `${s.policy.fingerprint}:empty-revoke`,
        problems: [
          {
            tag: TAG.revoke,
            found: '',
            allowed: 'the reason for the emergency revoke, as text',
            message: `${TAG.revoke} is empty: expected the reason for the emergency revoke (any text); nothing was revoked`,
          },
        ],
      },
    ];
  },
  run: async (c, secret, action) => {
    const problems = action.problems.map((p) => p.message);
    const sent = await c.alert(secret, 'policy.invalid', {
      fingerprint: action.fingerprint,
      problems,
    });
    if (isNew(sent)) {
      await c.deps.audit.append(
        c.entry(secret, {
          event: 'policy.invalid',
          outcome: 'reported',
          detail: {
            fingerprint: action.fingerprint,
            problems: problems.join(' ').slice(0, 1000),
          },
        }),
      );
    }
  },
};
