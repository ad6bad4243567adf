// A live token broader than its secret declares (SPEC "Scopes and lifespan ceiling"): read the
// live token's actual scopes from its issuer and compare them with the `token-rotation:scopes`
// tag; a drift is audited and alerted once per change (critical when an extra scope is a
// wildcard). Cheap at scale: the issuer is asked only when rotation is attached (a secret newly
// opted in) and when a tag event changes the declared scopes, never at every pass; every new
// token is checked by the rotation's testSecret, so each live token is checked at least once per
// lifespan. A change made at the issuer between rotations (a policy attached to an IAM user) is
// found at the next rotation.
import { kindOf } from '../../kinds/registry.ts';
import { formatScopes, scopeDrift } from '../../scopes.ts';
import { STAGE, TAG } from '../../vocabulary.ts';
import { isNew, type SweepActionDef } from '../context.ts';
import type { Enforced } from '../facts.ts';

/** Compare the live token's actual scopes with the declared ones. */
export interface ScopeCheck {
  type: 'scope-check';
  versionId: string;
  declared: string[];
  /** Why now: rotation is being attached, or a tag event changed the declared scopes. */
  why: 'attach' | 'scopes-changed';
}

/** Rotation is about to be attached (the attach action's own condition): a newly opted-in secret. */
const attaching = (s: Enforced) =>
  !s.foreign && s.pending === undefined && (!s.ours || !s.secret.rotationEnabled);

export const scopeCheck: SweepActionDef<ScopeCheck> = {
  plan: (s) => {
    if (s.state !== 'enforced' || s.policy.scopes === undefined || s.current === undefined)
      return [];
    if (!kindOf(s.policy.kind)?.capabilities.scopes) return [];
    const why = attaching(s) ? 'attach' : s.ctx.scopesChanged ? 'scopes-changed' : undefined;
    if (why === undefined) return [];
    return [{ type: 'scope-check', versionId: s.current, declared: s.policy.scopes, why }];
  },
  run: async (c, secret, action) => {
    const capability = kindOf(secret.tags[TAG.kind])?.capabilities.scopes;
    const issuer = c.deps.issuerFor(secret.tags[TAG.kind], secret);
    if (!capability || !issuer.scopesOf) return;
    const value = await c.deps.store.getValue(secret.arn, {
      versionId: action.versionId,
      stage: STAGE.current,
    });
    if (value === undefined) return;
    const actual = await issuer.scopesOf({
      secretArn: secret.arn,
      secretName: secret.name,
      versionId: action.versionId,
      value,
      scopes: action.declared,
    });
    // An issuer that states no scopes for the live token: nothing to compare (status says so).
    if (actual === undefined) return;
    const drift = scopeDrift(action.declared, actual, capability.matching);
    const tokenName = issuer.name(value);
    const read = {
      found: action.why,
      declaredScopes: formatScopes(action.declared),
      actualScopes: formatScopes(actual),
    };
    if (!drift) {
      // Recorded so that status shows what was read, and when (one write per check).
      await c.deps.audit.append(
        c.entry(secret, {
          event: 'token.scopes-checked',
          outcome: 'succeeded',
          versions: { current: action.versionId },
          tokens: { current: tokenName },
          detail: read,
        }),
      );
      return;
    }
    const sent = await c.alert(
      secret,
      drift.wildcard ? 'token.scope-drift.wildcard' : 'token.scope-drift',
      {
        where: 'live',
        versionId: action.versionId,
        tokenName,
        drift,
        source: capability.source,
      },
    );
    if (isNew(sent)) {
      await c.deps.audit.append(
        c.entry(secret, {
          event: 'token.scope-drift',
          outcome: 'reported',
          versions: { current: action.versionId },
          tokens: { current: tokenName },
          detail: {
            ...read,
            extraScopes: formatScopes(drift.extra),
            wildcard: drift.wildcard,
            incident: drift.incident,
          },
        }),
      );
    }
  },
};
