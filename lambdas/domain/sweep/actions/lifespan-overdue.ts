// A live token older than its lifespan: alerted and audited once per incident, and rotated at
// once unless a stuck rotation is in the way (RotateSecret would fail "A previous rotation isn't
// complete"); then the stuck rotation's alert says what to do first.
import { formatAge } from '../../policy.ts';
import { hours, isNew, lifespanOf, rotateNow, type SweepActionDef } from '../context.ts';
import type { Enforced } from '../facts.ts';

/**
 * `lifespan.overdue`: the live token is older than its lifespan. `rotateNow` is false when a
 * stuck rotation is in the way (RotateSecret would fail "A previous rotation isn't complete").
 */
export interface LifespanOverdue {
  type: 'lifespan-overdue';
  versionId: string;
  ageMs: number;
  lifespanMs: number;
  rotateNow: boolean;
}

/** The live version and its age, where its creation date was looked up. */
export function liveAge(s: Enforced): { versionId: string; ageMs: number } | undefined {
  if (s.current === undefined || s.currentSince === undefined) return undefined;
  return { versionId: s.current, ageMs: s.now - s.currentSince };
}

export const lifespanOverdue: SweepActionDef<LifespanOverdue> = {
  plan: (s) => {
    if (s.state !== 'enforced') return [];
    const live = liveAge(s);
    if (live === undefined || live.ageMs <= s.policy.lifespanMs) return [];
    const base = { ...live, lifespanMs: s.policy.lifespanMs };
    // Under way and not stuck: the rotation will retire this token within minutes.
    if (s.pending === undefined) return [{ type: 'lifespan-overdue', ...base, rotateNow: true }];
    if (s.stuck) return [{ type: 'lifespan-overdue', ...base, rotateNow: false }];
    return [];
  },
  run: async (c, secret, action) => {
    const age = formatAge(action.ageMs);
    const lifespan = lifespanOf(secret);
    const sent = await c.alert(secret, 'lifespan.overdue', {
      versionId: action.versionId,
      age,
      lifespan,
      rotateNow: action.rotateNow,
    });
    const detail = { ageHours: hours(action.ageMs), lifespan, rotating: action.rotateNow };
    // Once per incident: a secret whose rotation keeps failing to start (another function's,
    // which RotateSecret may refuse us) would otherwise add a record at every sweep. When the
    // sweep rotates it now, the overdue is recorded even if the alert could not be sent.
    if (isNew(sent) || (sent === 'failed' && action.rotateNow)) {
      await c.deps.audit.append(
        c.entry(secret, {
          event: 'lifespan.overdue',
          outcome: 'reported',
          versions: { current: action.versionId },
          detail,
        }),
      );
    }
    if (!action.rotateNow) return;
    // Every attempt is an action and is audited, whatever its outcome.
    await rotateNow(
      c,
      secret,
      {
        event: 'rotation.requested',
        versions: { current: action.versionId },
        detail: { reason: 'lifespan.overdue' },
      },
      () =>
        c.deps.pace(() => c.deps.catalog.rotate(secret.arn, { immediately: true }), 'RotateSecret'),
    );
  },
};
