// Everything the sweep looks for in one secret, as a table: each entry is one action's condition
// (from the plan's state), its work, its audit event and its alert, in the file named after it.
// The plan asks every entry in this order, and the secret's actions run in this order: attachment
// comes before the rotation actions so that a rotation started afterwards runs with the suite's
// function. To change what the sweep does about one thing, change its file; to add one, add a
// file, its type to SweepAction and its line here (the type-check fails until all three agree).
import type { SecretDescription } from '../../ports.ts';
import type { ActionContext, SweepActionDef } from '../context.ts';
import { type Attach, attach, type UpdateSchedule, updateSchedule } from './attach.ts';
import { type DeleteDeactivated, deleteDeactivated } from './delete-deactivated.ts';
import { type Detach, detach } from './detach.ts';
import { type ForeignRotation, foreignRotation } from './foreign-rotation.ts';
import { type LifespanOverdue, lifespanOverdue } from './lifespan-overdue.ts';
import { type PolicyInvalid, policyInvalid } from './policy-invalid.ts';
import { type RevokeAfter, revokeAfter } from './revoke-after.ts';
import { type RevokePrevious, revokePrevious } from './revoke-previous.ts';
import { type RevokeRequested, revokeRequested } from './revoke-requested.ts';
import { type RotateEarly, rotateEarly } from './rotate-early.ts';
import { type RotationStuck, rotationStuck } from './rotation-stuck.ts';
import { type ScopeCheck, scopeCheck } from './scope-check.ts';

/** What the sweep does to one secret, in the order given (see SWEEP_ACTIONS). */
export type SweepAction =
  | PolicyInvalid
  | RevokeRequested
  | Detach
  | ForeignRotation
  | Attach
  | UpdateSchedule
  | ScopeCheck
  | RotationStuck
  | LifespanOverdue
  | RotateEarly
  | RevokePrevious
  | DeleteDeactivated
  | RevokeAfter;

type ActionTable = {
  readonly [T in SweepAction['type']]: SweepActionDef<Extract<SweepAction, { type: T }>>;
};

/** The one list of sweep actions, in plan order (object keys keep their insertion order). */
export const SWEEP_ACTIONS: ActionTable = {
  'policy-invalid': policyInvalid,
  'revoke-requested': revokeRequested,
  detach,
  'foreign-rotation': foreignRotation,
  attach,
  'update-schedule': updateSchedule,
  'scope-check': scopeCheck,
  'rotation-stuck': rotationStuck,
  'lifespan-overdue': lifespanOverdue,
  'rotate-early': rotateEarly,
  'revoke-previous': revokePrevious,
  'delete-deactivated': deleteDeactivated,
  'revoke-after': revokeAfter,
};

/** Carries out one action on one secret; throws on failure (the caller records it and moves on). */
export function runAction(
  c: ActionContext,
  secret: SecretDescription,
  action: SweepAction,
): Promise<void> {
  const def = SWEEP_ACTIONS[action.type] as SweepActionDef<SweepAction>;
  return def.run(c, secret, action);
}
