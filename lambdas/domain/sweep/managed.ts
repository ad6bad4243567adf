// The detach pass. The listing filters on the lifespan tag, so it never sees a secret whose tag
// was removed; the tag event normally detaches those, but events can be lost. So every attach
// records the secret in the managed set (ports.ts ManagedSet), and after the listing each sweep
// walks that set: a member the listing did not show is described, detached if its tag is gone
// and the rotation attached to it is ours (another function's rotation is never touched), and
// forgotten; a deleted secret is forgotten. The walk runs under the same deadline and cursor.
// Only members not seen by this invocation's listing cost a call: in the usual sweep, which lists
// everyone in one invocation, that is exactly the secrets whose tag is gone.
import { errorCode } from '../errors.ts';
import type { PolicyLimits } from '../policy.ts';
import type { ManagedSet, SecretDescription, SweepCursor } from '../ports.ts';
import { TAG } from '../vocabulary.ts';
import type { SweepAction } from './actions/index.ts';
import { planSecret } from './plan.ts';
import type { Fail, SweepDeps, SweepReport } from './report.ts';

export interface WalkContext {
  ctx: { rotationFunctionArn: string; sweepIntervalMs: number; limits?: PolicyLimits };
  seen: Set<string>;
  /** Resume after this member (an ARN). */
  after: string | undefined;
  outOfTime: () => boolean;
  execute: (secret: SecretDescription, action: SweepAction) => Promise<void>;
  fail: Fail;
  report: SweepReport;
}

/** Walks the managed set; returns where it stopped when time ran out, undefined when done. */
export async function walkManaged(
  deps: SweepDeps,
  managed: ManagedSet,
  walk: WalkContext,
): Promise<Omit<SweepCursor, 'startedAt'> | undefined> {
  const stats = { pages: 0, members: 0, described: 0, forgotten: 0 };
  walk.report.managed = stats;
  let after = walk.after;
  const cut = () => ({
    phase: 'managed' as const,
    position: 0,
    ...(after !== undefined ? { managedAfter: after } : {}),
  });
  for (;;) {
    if (walk.outOfTime()) return cut();
    const page = await managed.page(after);
    stats.pages++;
    for (const member of page.members) {
      if (walk.outOfTime()) return cut();
      stats.members++;
      if (!walk.seen.has(member.arn)) {
        try {
          await checkMember(member);
        } catch (error) {
          walk.fail(
            { arn: member.arn, name: member.name, rotationEnabled: false, versions: {}, tags: {} },
            'managed',
            error,
          );
        }
      }
      after = member.arn;
    }
    if (page.last === undefined) return undefined;
    after = page.last;
  }

  async function checkMember(member: { arn: string; name: string }): Promise<void> {
    let secret: SecretDescription | undefined;
    stats.described++;
    try {
      // DescribeSecret shares GetSecretValue's 10,000/s quota: not paced under the 50/s ones.
      secret = await deps.store.describe(member.arn);
    } catch (error) {
      // Gone: deleted after its recovery window.
      if (errorCode(error) !== 'not-found') throw error;
    }
    if (!secret || secret.deleted) {
      await managed.remove(member.arn);
      stats.forgotten++;
      return;
    }
    // Still opted in: an earlier invocation of this pass listed it, or it was tagged since.
    if (secret.tags[TAG.lifespan] !== undefined) return;
    const actions = planSecret(secret, { ...walk.ctx, now: deps.clock() });
    for (const action of actions) {
      walk.report.actions[action.type] = (walk.report.actions[action.type] ?? 0) + 1;
      await walk.execute(secret, action);
    }
    // No action: rotation is off, or belongs to another function now. Nothing of ours is left.
    if (actions.length === 0) {
      await managed.remove(member.arn);
      stats.forgotten++;
    } else if (actions.some((a) => a.type === 'detach')) {
      stats.forgotten++;
    }
  }
}

/** Every member of the managed set, by ARN, page by page: the chains a checkpoint anchors. */
export async function managedArns(managed: ManagedSet): Promise<string[]> {
  const arns: string[] = [];
  let after: string | undefined;
  do {
    const page = await managed.page(after);
    arns.push(...page.members.map((m) => m.arn));
    after = page.last;
  } while (after);
  return arns;
}
