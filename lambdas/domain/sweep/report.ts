// What a sweep is given (its ports and options) and what it reports back: the shapes the
// handlers, the CLI and the tests read.
import { describeError } from '../errors.ts';
import type { IsolationDeps } from '../isolation/index.ts';
import type { Pace } from '../pacer.ts';
import type { PolicyLimits } from '../policy.ts';
import type {
  Alerter,
  AuditLog,
  Clock,
  Issuer,
  ManagedSet,
  PendingDelivery,
  RevokeRequester,
  SecretCatalog,
  SecretDescription,
  SecretStore,
  SweepCursor,
  SweepCursorStore,
} from '../ports.ts';
import type { Trigger } from '../vocabulary.ts';
import type { SweepAction } from './actions/index.ts';

export interface SweepDeps {
  catalog: SecretCatalog;
  store: SecretStore;
  audit: AuditLog;
  alerter: Alerter;
  /** `issuerFor` from #domain/kinds/registry, or a fake. */
  issuerFor: (kindTag: string | undefined, secret: { arn: string; name: string }) => Issuer;
  clock: Clock;
  cursor: SweepCursorStore;
  /** Paces every Secrets Manager call but GetSecretValue (10,000/s) under the 50/s quotas. */
  pace: Pace;
  /** Where per-secret failures are logged (the Powertools logger in Lambda). */
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
  /** The secrets our rotation is attached to; without it, no detach pass (see managed.ts). */
  managed?: ManagedSet;
  /** Hands revoke tags to the revoke function; without it, the sweep leaves them alone (see actions/revoke-requested.ts). */
  revokes?: RevokeRequester;
  /** The token index and fingerprint key; without it, no token is indexed (#domain/isolation). */
  isolation?: IsolationDeps;
}

export interface SweepOptions {
  rotationFunctionArn: string;
  sweepIntervalMs: number;
  /** The stack's policy limits (maxLifespan); the defaults when not given. */
  limits?: PolicyLimits;
  /** Stop starting new secrets at this time; leave room for one secret's work after it. */
  deadline: Date;
  /**
   * Replaces the deadline check when given. In Lambda both read the same clock; under a test's
   * simulated clock, which stands still during a sweep, the invocation's own time runs out instead.
   */
  outOfTime?: () => boolean;
  trigger?: Trigger;
  /** Secrets worked on at once (the pacer keeps each quota's rate). Default SWEEP_CONCURRENCY. */
  concurrency?: number;
}

export interface SweepFailure {
  secretArn: string;
  secretName: string;
  /** The action that failed, or `plan` when the secret could not be planned. */
  action: SweepAction['type'] | 'plan' | 'alert' | 'managed';
  error: string;
}

export interface SweepReport {
  /** True when the sweep reached the last page; false when it saved a cursor at its deadline. */
  complete: boolean;
  /** Where this invocation started, when it carried on from an earlier one. */
  resumedFrom?: SweepCursor;
  /** Where it stopped, when incomplete. */
  stoppedAt?: SweepCursor;
  pages: number;
  secrets: number;
  /**
   * Opted-in secrets this pass has yet to reach, when the listing was cut off (0 when it reached
   * the end; absent when the listing did not run or the count failed). The next invocation starts
   * with them, so the ones waiting longest go first.
   */
  backlog?: number;
  /** The backlog was counted up to a limit: there are at least that many. */
  backlogAtLeast?: boolean;
  /** ListSecretVersionIds calls: the candidates that needed exact version dates. */
  versionDateLookups: number;
  actions: Partial<Record<SweepAction['type'], number>>;
  alertsSent: number;
  /** New alerts recorded whose publish failed: delivered by a later sweep. */
  alertsQueued: number;
  /** Alerts recorded earlier and still undelivered, delivered by this sweep (absent: not tried). */
  pendingAlerts?: PendingDelivery;
  failureCount: number;
  /** The first failures (at most MAX_REPORTED_FAILURES), scrubbed. */
  failures: SweepFailure[];
  /** The token index (present when the sweep has one): values read, items recorded, shared tokens found, copies rotated. */
  isolation?: { read: number; recorded: number; shared: number; rotated: number };
  /** The detach pass over the managed set (present when the sweep has one). */
  managed?: { pages: number; members: number; described: number; forgotten: number };
}

export const MAX_REPORTED_FAILURES = 50;
/** Undelivered alerts one sweep publishes at most (more wait for the next sweep). */
export const MAX_PENDING_ALERTS_PER_SWEEP = 200;
export type Fail = (
  secret: SecretDescription,
  action: SweepFailure['action'],
  error: unknown,
  known?: string[],
) => void;

export function emptyReport(): SweepReport {
  return {
    complete: false,
    pages: 0,
    secrets: 0,
    versionDateLookups: 0,
    actions: {},
    alertsSent: 0,
    alertsQueued: 0,
    failureCount: 0,
    failures: [],
  };
}

/** Records a failure, scrubbed, in the report (the first MAX_REPORTED_FAILURES in full) and the log. */
export function failureRecorder(report: SweepReport, log?: SweepDeps['log']): Fail {
  return (secret, action, error, known = []) => {
    const failure = {
      secretArn: secret.arn,
      secretName: secret.name,
      action,
      error: describeError(error, known),
    };
    report.failureCount++;
    if (report.failures.length < MAX_REPORTED_FAILURES) report.failures.push(failure);
    log?.warn('sweep: action failed', { ...failure });
  };
}
