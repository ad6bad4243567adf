// Keeps the sweep's Secrets Manager calls under the service's quotas with one token bucket per
// quota, and backs off when the service throttles anyway (another caller shares the quota).
//
// Secrets Manager's quotas are per API (ListSecrets 100/s; RotateSecret, ListSecretVersionIds,
// and PutSecretValue with UpdateSecretVersionStage 50/s each), so a call names the quota it
// draws from (`Quota`) and calls under different quotas never wait for each other: a sweep with
// many secrets due runs its version lookups and its rotations side by side, each near its own
// quota. A call that names none shares the `control` bucket. A bucket of `burst` tokens refilled
// at `ratePerSecond` lets at most burst + ratePerSecond calls of one quota start in any one-second
// span. The defaults (40/s, burst 5) keep that at 45, under 50 with room for the rotation
// function's own calls. RotateSecret gets less by default (20/s): every rotation it starts makes
// two PutSecretValue and UpdateSecretVersionStage calls of its own (three while a previous token
// is in grace), and those share one 50/s quota, so starting rotations faster would throttle the
// rotations themselves. Time and sleep are injected so tests run on a simulated clock and never
// wait.

import { errorCode, THROTTLE_NAMES } from './errors.ts';

/** The Secrets Manager quota a paced call draws from; `control` for every other call. */
export type Quota = 'ListSecrets' | 'ListSecretVersionIds' | 'RotateSecret' | 'control';

export type Pace = <T>(call: () => Promise<T>, quota?: Quota) => Promise<T>;

/** Rotations started a second by default: their own writes, two each, take 40 of the 50/s. */
export const ROTATIONS_PER_SECOND = 20;

export interface PacerOptions {
  /**
   * Sustained calls per second, per quota. Default 40 (RotateSecret: `rotationsPerSecond`); when
   * given, it applies to RotateSecret too unless `rotationsPerSecond` is also given.
   */
  ratePerSecond?: number;
  /** Sustained RotateSecret calls per second. Default ROTATIONS_PER_SECOND, or `ratePerSecond`. */
  rotationsPerSecond?: number;
  /** Calls that may start at once after a quiet spell. Default 5. */
  burst?: number;
  /** Attempts per call when throttled, the first included. Default 6. */
  maxAttempts?: number;
  /** First backoff after a throttle; doubles per attempt, with jitter. Default 250 ms. */
  baseBackoffMs?: number;
  /** Longest backoff. Default 8 s. */
  maxBackoffMs?: number;
  /** Milliseconds since some epoch. Default Date.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); for jitter. Default Math.random. */
  random?: () => number;
}

/** Whether an SDK error means "too many requests" (retry later) rather than a real failure. */
export function isThrottle(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (errorCode(error) === 'throttled') return true;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return (
    (typeof e.name === 'string' && THROTTLE_NAMES.has(e.name)) ||
    e.$metadata?.httpStatusCode === 429
  );
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createPacer(options: PacerOptions = {}): Pace {
  const rate = options.ratePerSecond ?? 40;
  const rotations =
    options.rotationsPerSecond ??
    (options.ratePerSecond === undefined ? ROTATIONS_PER_SECOND : rate);
  const burst = options.burst ?? 5;
  const maxAttempts = options.maxAttempts ?? 6;
  const baseBackoffMs = options.baseBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 8_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  if (!(rate > 0) || !(rotations > 0) || !(burst >= 1))
    throw new RangeError('a pacer needs ratePerSecond > 0, rotationsPerSecond > 0 and burst >= 1');

  const buckets = new Map<Quota, ReturnType<typeof bucket>>();
  const bucketOf = (quota: Quota) => {
    const found = buckets.get(quota);
    if (found) return found;
    const made = bucket({ rate: quota === 'RotateSecret' ? rotations : rate, burst, now, sleep });
    buckets.set(quota, made);
    return made;
  };

  return async <T>(call: () => Promise<T>, quota: Quota = 'control'): Promise<T> => {
    const b = bucketOf(quota);
    for (let attempt = 1; ; attempt++) {
      await b.acquire();
      try {
        return await call();
      } catch (error) {
        if (!isThrottle(error) || attempt >= maxAttempts) throw error;
        // Someone else is using the quota too: empty its bucket so every caller slows down.
        b.empty();
        const backoff = Math.min(maxBackoffMs, baseBackoffMs * 2 ** (attempt - 1));
        await sleep(Math.round(backoff * (0.5 + random() / 2)));
      }
    }
  };
}

/** One quota's token bucket; callers take tokens one at a time, in arrival order. */
function bucket(o: {
  rate: number;
  burst: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}) {
  let tokens = o.burst;
  let refilledAt = o.now();
  let queue: Promise<void> = Promise.resolve();

  const refill = () => {
    const t = o.now();
    tokens = Math.min(o.burst, tokens + ((t - refilledAt) * o.rate) / 1000);
    refilledAt = t;
  };

  const take = async () => {
    refill();
    while (tokens < 1) {
      await o.sleep(Math.ceil(((1 - tokens) * 1000) / o.rate));
      refill();
    }
    tokens -= 1;
  };

  return {
    acquire: () => {
      const turn = queue.then(take);
      queue = turn.catch(() => undefined);
      return turn;
    },
    empty: () => {
      tokens = 0;
      refilledAt = o.now();
    },
  };
}
