import { describe, expect, it } from 'vitest';
import { createPacer, isThrottle } from '#domain/pacer';

/** A simulated clock: sleeping moves time forward at once. */
function simulatedTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}

/**
 * A simulated clock whose sleeps overlap, as timers do: `run` wakes the earliest sleeper each time
 * every caller is waiting, moving time to its wake-up (no real time passes).
 */
function overlappingTime() {
  let now = 0;
  const sleepers: { at: number; wake: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms: number) =>
      new Promise<void>((wake) => {
        sleepers.push({ at: now + ms, wake });
      }),
    async run(work: Promise<unknown>) {
      let done = false;
      void work.then(() => {
        done = true;
      });
      while (!done) {
        await new Promise((settled) => setImmediate(settled));
        sleepers.sort((a, b) => a.at - b.at);
        const next = sleepers.shift();
        if (next) {
          now = Math.max(now, next.at);
          next.wake();
        }
      }
      await work;
    },
  };
}

/** The most calls that started within any one-second span. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

describe('pacing Secrets Manager calls', () => {
  it('never starts more than 45 calls in any second by default, however many are queued at once', async () => {
    // Prepare
    const time = simulatedTime();
    const pace = createPacer({ now: time.now, sleep: time.sleep });
    const started: number[] = [];
    // Act: 500 calls fired together.
    await Promise.all(
      Array.from({ length: 500 }, () => pace(async () => started.push(time.now()))),
    );
    // Assess
    expect(started).toHaveLength(500);
    expect(busiestSecond(started)).toBeLessThanOrEqual(45);
    // And it is not needlessly slow: 500 calls at 40/s take about 12 seconds, not more.
    expect(time.now()).toBeLessThanOrEqual(13_000);
  });

  it('keeps a custom rate and burst: at most burst + rate calls in any second', async () => {
    const time = simulatedTime();
    const pace = createPacer({ ratePerSecond: 10, burst: 3, now: time.now, sleep: time.sleep });
    const started: number[] = [];
    // Calls arriving in bursts with quiet spells between them (the bucket refills).
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from({ length: 7 }, () => pace(async () => started.push(time.now()))),
      );
      time.advance(round % 3 === 0 ? 2_000 : 100);
    }
    expect(busiestSecond(started)).toBeLessThanOrEqual(13);
  });

  it('runs a lone call at once, without sleeping', async () => {
    const time = simulatedTime();
    const pace = createPacer({ now: time.now, sleep: time.sleep });
    expect(await pace(async () => 'done')).toBe('done');
    expect(time.sleeps).toEqual([]);
  });

  it('backs off and retries when throttled, waiting longer each time', async () => {
    const time = simulatedTime();
    const pace = createPacer({ now: time.now, sleep: time.sleep, random: () => 0.999 });
    let attempts = 0;
    // Act: throttled three times, then through.
    const result = await pace(async () => {
      attempts++;
      if (attempts <= 3) throw throttle();
      return 'rotated';
    });
    // Assess
    expect(result).toBe('rotated');
    expect(attempts).toBe(4);
    const backoffs = time.sleeps.filter((ms) => ms >= 100);
    expect(backoffs).toHaveLength(3);
    expect(backoffs[1]!).toBeGreaterThan(backoffs[0]!);
    expect(backoffs[2]!).toBeGreaterThan(backoffs[1]!);
  });

  it('fails with the throttle after the last attempt', async () => {
    const time = simulatedTime();
    const pace = createPacer({ now: time.now, sleep: time.sleep, maxAttempts: 3 });
    let attempts = 0;
    await expect(
      pace(async () => {
        attempts++;
        throw throttle();
      }),
    ).rejects.toThrow('Rate exceeded');
    expect(attempts).toBe(3);
  });

  it('fails at once, without retrying, on an error that is not throttling', async () => {
    const time = simulatedTime();
    const pace = createPacer({ now: time.now, sleep: time.sleep });
    let attempts = 0;
    const notFound = Object.assign(new Error('Secrets Manager can’t find the specified secret.'), {
      name: 'ResourceNotFoundException',
    });
    await expect(
      pace(async () => {
        attempts++;
        throw notFound;
      }),
    ).rejects.toBe(notFound);
    expect(attempts).toBe(1);
  });

  it('slows every caller down after a throttle, not only the throttled one', async () => {
    const time = simulatedTime();
    const pace = createPacer({ now: time.now, sleep: time.sleep, random: () => 0 });
    const started: number[] = [];
    let throttled = false;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        pace(async () => {
          if (i === 10 && !throttled) {
            throttled = true;
            throw throttle();
          }
          started.push(time.now());
        }),
      ),
    );
    expect(started).toHaveLength(200);
    expect(busiestSecond(started)).toBeLessThanOrEqual(45);
  });

  it('paces each Secrets Manager quota on its own: version lookups never wait behind rotations', async () => {
    // Prepare
    const time = overlappingTime();
    const pace = createPacer({ now: time.now, sleep: time.sleep });
    const started: Record<string, number[]> = { ListSecretVersionIds: [], RotateSecret: [] };
    // Act: 400 lookups and 160 rotations fired together, interleaved as a sweep makes them.
    await time.run(
      Promise.all(
        Array.from({ length: 560 }, (_, i) => {
          const quota = i % 7 < 5 ? 'ListSecretVersionIds' : 'RotateSecret';
          return pace(async () => started[quota]!.push(time.now()), quota);
        }),
      ),
    );
    // Assess: each quota under its own limit, both at full rate side by side: 400 lookups at 40/s
    // take about 10 seconds, 160 rotations at 20/s about 8, not the 14 one shared bucket would.
    expect(started.ListSecretVersionIds).toHaveLength(400);
    expect(busiestSecond(started.ListSecretVersionIds!)).toBeLessThanOrEqual(45);
    expect(busiestSecond(started.RotateSecret!)).toBeLessThanOrEqual(25);
    expect(time.now()).toBeLessThanOrEqual(11_000);
  });

  it('starts fewer rotations than other calls by default: their own writes share a 50/s quota', async () => {
    const time = simulatedTime();
    const pace = createPacer({ now: time.now, sleep: time.sleep });
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, () => pace(async () => started.push(time.now()), 'RotateSecret')),
    );
    // 20/s and a burst of 5; 200 rotations take about 10 seconds.
    expect(busiestSecond(started)).toBeLessThanOrEqual(25);
    expect(time.now()).toBeGreaterThanOrEqual(9_000);
    expect(time.now()).toBeLessThanOrEqual(10_500);
  });

  it('recognises throttling by name or HTTP 429', () => {
    expect(isThrottle(throttle())).toBe(true);
    expect(isThrottle(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 429 } }))).toBe(
      true,
    );
    expect(isThrottle(new Error('ThrottlingException'))).toBe(false);
    expect(isThrottle(undefined)).toBe(false);
  });

  it('fails to build with a rate or burst that would never let a call through', () => {
    expect(() => createPacer({ ratePerSecond: 0 })).toThrow(/ratePerSecond > 0/);
    expect(() => createPacer({ burst: 0 })).toThrow(/burst >= 1/);
  });
});
