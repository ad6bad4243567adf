// Keeps the sweep's Secrets Manager calls under the service's quotas (50 per second for
// RotateSecret, UpdateSecretVersionStage, tagging and the other control-plane calls) with a
// token bucket, and backs off when the service throttles anyway (another caller shares the quota).
//
// A bucket of `burst` tokens refilled at `ratePerSecond` lets at most burst + ratePerSecond calls
// start in any one-second span. The defaults (40/s, burst 5) keep that at 45, under 50 with room
// for the rotation function's own calls. Time and sleep are injected so tests run on a
// simulated clock and never wait.

import { errorCode, THROTTLE_NAMES } from './errors.ts';

export type Pace = <T>(call: () => Promise<T>) => Promise<T>;

export interface PacerOptions {
  /** Sustained calls per second. Default 40. */
  ratePerSecond?: number;
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
  const burst = options.burst ?? 5;
  const maxAttempts = options.maxAttempts ?? 6;
  const baseBackoffMs = options.baseBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 8_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  if (!(rate > 0) || !(burst >= 1))
    throw new RangeError('a pacer needs ratePerSecond > 0 and burst >= 1');

  let tokens = burst;
  let refilledAt = now();
  // Callers take tokens one at a time, in arrival order.
  let queue: Promise<void> = Promise.resolve();

  const refill = () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - refilledAt) * rate) / 1000);
    refilledAt = t;
  };

  const take = async () => {
    refill();
    while (tokens < 1) {
      await sleep(Math.ceil(((1 - tokens) * 1000) / rate));
      refill();
    }
    tokens -= 1;
  };

  const acquire = () => {
    const turn = queue.then(take);
    queue = turn.catch(() => undefined);
    return turn;
  };

  return async <T>(call: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      await acquire();
      try {
        return await call();
      } catch (error) {
        if (!isThrottle(error) || attempt >= maxAttempts) throw error;
        // Someone else is using the quota too: empty the bucket so every caller slows down.
        tokens = 0;
        refilledAt = now();
        const backoff = Math.min(maxBackoffMs, baseBackoffMs * 2 ** (attempt - 1));
        await sleep(Math.round(backoff * (0.5 + random() / 2)));
      }
    }
  };
}
