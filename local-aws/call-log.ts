// What the Secrets Manager emulator was asked: every request, throttled or not, for tests that
// hold the sweep and the rotation to an API budget.

export interface CallRecord {
  operation: string;
  /** The secret's ARN where the request named an existing secret, else the ID it gave. */
  secret?: string;
  secretName?: string;
  at: Date;
  throttled: boolean;
  /** PutSecretValue's RotationToken, so tests can see the handler passed it on. */
  rotationToken?: string;
}

/** Every request the emulator received, for API-budget tests. */
export class CallLog {
  readonly records: CallRecord[] = [];

  /** Requests received (throttled ones included), optionally of one operation and/or one secret (name or ARN). */
  count(filter: { operation?: string; secret?: string } = {}): number {
    return this.records.filter(
      (r) =>
        (!filter.operation || r.operation === filter.operation) &&
        (!filter.secret || r.secret === filter.secret || r.secretName === filter.secret),
    ).length;
  }

  byOperation(filter: { secret?: string } = {}): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.records) {
      if (filter.secret && r.secret !== filter.secret && r.secretName !== filter.secret) continue;
      counts[r.operation] = (counts[r.operation] ?? 0) + 1;
    }
    return counts;
  }

  reset(): void {
    this.records.length = 0;
  }
}
