// Secrets Manager's request quotas, enforced on the local clock so that throttling is a
// function of the calls made and the local time between them, not of the machine's speed.
import type { SecretsManagerOperation } from './secrets-manager-model.ts';

/**
 * The per-Region request quotas of "AWS Secrets Manager quotas" (user guide,
 * reference_limits.html): operations in one group share a quota. GetSecretValue 10,000/s and
 * DescribeSecret 40,000/s (raised in 2025); ListSecrets 100/s; PutSecretValue with
 * UpdateSecretVersionStage, RotateSecret with CancelRotateSecret, TagResource with
 * UntagResource, and RestoreSecret at 50/s each. CreateSecret, DeleteSecret and
 * ListSecretVersionIds are not in that table's copy we cite; they get the control-plane 50/s.
 */
export const DOCUMENTED_QUOTAS: readonly {
  operations: SecretsManagerOperation[];
  perSecond: number;
}[] = [
  { operations: ['GetSecretValue'], perSecond: 10_000 },
  { operations: ['DescribeSecret'], perSecond: 40_000 },
  { operations: ['ListSecrets'], perSecond: 100 },
  { operations: ['PutSecretValue', 'UpdateSecretVersionStage'], perSecond: 50 },
  { operations: ['RotateSecret', 'CancelRotateSecret'], perSecond: 50 },
  { operations: ['TagResource', 'UntagResource'], perSecond: 50 },
  { operations: ['RestoreSecret'], perSecond: 50 },
  { operations: ['CreateSecret'], perSecond: 50 },
  { operations: ['DeleteSecret'], perSecond: 50 },
  { operations: ['ListSecretVersionIds'], perSecond: 50 },
];

/**
 * Request quotas as token buckets on the local clock: a bucket holds one second's worth of
 * requests and refills at the quota's rate as the local clock moves. So whether a request is
 * throttled depends only on the calls before it and the local time between them, never on how
 * fast the machine runs: N calls with the clock standing still admit exactly the quota.
 * `'documented'` applies AWS's published quotas (DOCUMENTED_QUOTAS); a record sets per-operation
 * limits (each operation its own bucket). Off by default.
 */
export class Throttle {
  readonly limits: Partial<Record<string, number>> = {};
  /** Operation → the bucket it draws from (shared by a documented group). */
  private readonly bucketOf = new Map<string, string>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    limits: Partial<Record<string, number>> | 'documented' = {},
    private readonly now: () => number = () => 0,
  ) {
    if (limits === 'documented') this.useDocumented();
    else for (const [op, rate] of Object.entries(limits)) this.limits[op] = rate;
  }

  /** Applies AWS's published per-Region quotas, groups sharing a bucket. */
  useDocumented(): void {
    for (const group of DOCUMENTED_QUOTAS) {
      const bucket = group.operations.join('+');
      for (const op of group.operations) {
        this.limits[op] = group.perSecond;
        this.bucketOf.set(op, bucket);
      }
    }
    this.buckets.clear();
  }

  /** Sets (or, with undefined, removes) an operation's limit; the operation gets its own bucket. */
  set(operation: SecretsManagerOperation, perSecond: number | undefined): void {
    if (perSecond === undefined) delete this.limits[operation];
    else this.limits[operation] = perSecond;
    this.bucketOf.delete(operation);
    this.buckets.delete(operation);
  }

  /** Takes a token for a request; false when its bucket is empty (the request is throttled). */
  admit(operation: string, nowMs = this.now()): boolean {
    const limit = this.limits[operation];
    if (limit === undefined) return true;
    const key = this.bucketOf.get(operation) ?? operation;
    const bucket = this.buckets.get(key) ?? { tokens: limit, at: nowMs };
    bucket.tokens = Math.min(
      limit,
      bucket.tokens + (Math.max(0, nowMs - bucket.at) * limit) / 1000,
    );
    bucket.at = Math.max(bucket.at, nowMs);
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
