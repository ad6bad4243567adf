// Waits until ListSecrets shows what a test just did. ListSecrets is eventually consistent: AWS
// may leave out a secret created or changed in the last minutes ("Secrets Manager ListSecrets":
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html), so a test
// that creates or tags a secret and then lists (the CLI's `status`, a sweep) must wait, as it
// would have to against an account. Here that wait is the local AWS's clock moved past its
// modelled window, and only when the run models it (LOCAL_AWS_LIST_CONSISTENCY_SEED, or a
// session's listConsistency): with ListSecrets consistent nothing moves, so default runs are
// exactly as they were.
import type { LocalAws } from '#local-aws/index';
import type { Session } from '../integration/support/session.ts';

/** The embedded local AWS, or a session of it (embedded or behind AWS_ENDPOINT_URL). */
export type ListingsHost =
  | Pick<LocalAws, 'clock' | 'idle' | 'secretsManager'>
  | Pick<Session, 'clock' | 'idle' | 'listConsistencyLagMs'>;

/** How long ListSecrets may leave out a changed secret on `aws`: 0 when it is consistent. */
export async function listConsistencyLagMs(aws: ListingsHost): Promise<number> {
  return 'secretsManager' in aws
    ? aws.secretsManager.listConsistencyLagMs
    : await aws.listConsistencyLagMs();
}

/**
 * Moves the clock just past ListSecrets' consistency window (when there is one), then waits for
 * what the move set off (a scheduled rotation, a sweep on its schedule) to end. Returns how far
 * the clock moved: 0 when ListSecrets is consistent.
 */
export async function settleListings(aws: ListingsHost): Promise<number> {
  const lagMs = await listConsistencyLagMs(aws);
  if (lagMs === 0) return 0;
  // Strictly past the window: a change exactly lagMs old is settled, one a millisecond younger not.
  const moved = lagMs + 1_000;
  await aws.clock.advance(moved);
  await aws.idle();
  return moved;
}
