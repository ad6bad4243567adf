// The one clock every emulator reads (version dates, LastRotatedDate, schedules, publish times).
// Tests and the demo move it forward; whatever falls due on the way runs at its own moment.

/** Something that happens at a time on the local clock: a scheduled rotation, a sweep. */
export interface ClockTimer {
  /** The next time this timer wants to run, after `now`; undefined when nothing is due. */
  nextDue(now: Date): Date | undefined;
  /** Runs what is due at `at` (the clock reads `at` meanwhile). Awaited before time moves on. */
  fire(at: Date): Promise<void>;
}

export class LocalClock {
  private current: number;
  private readonly timers = new Set<ClockTimer>();

  constructor(start: Date | string | number = Date.now()) {
    this.current = new Date(start).getTime();
  }

  /** Bound, so it can be handed over as a `Clock` (`() => Date`). */
  readonly now = (): Date => new Date(this.current);

  /**
   * Moves the clock forward by `ms`, stopping at each moment a timer falls due, so a
   * rotation scheduled for Tuesday 23:59 runs with the clock reading Tuesday 23:59 even
   * when the test jumps a week. Resolves once everything due has finished.
   */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError('the local clock only moves forward; use set() to go back');
    await this.runUntil(this.current + ms);
  }

  /** Moves the clock to `date`: forward runs what falls due on the way; backward just resets it. */
  async set(date: Date | string | number): Promise<void> {
    const target = new Date(date).getTime();
    if (target <= this.current) {
      this.current = target;
      return;
    }
    await this.runUntil(target);
  }

  /** Registers a timer; returns a function that removes it. */
  addTimer(timer: ClockTimer): () => void {
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Runs `fn` every `intervalMs` of local time, first at `now + intervalMs` (an EventBridge schedule). */
  every(intervalMs: number, fn: (at: Date) => Promise<void> | void): () => void {
    let next = this.current + intervalMs;
    return this.addTimer({
      nextDue: () => new Date(next),
      fire: async (at) => {
        next = at.getTime() + intervalMs;
        await fn(at);
      },
    });
  }

  private async runUntil(target: number): Promise<void> {
    // Bounded so a timer that keeps asking for "now" cannot hang a test.
    for (let steps = 0; steps < 100_000; steps++) {
      let earliest: { timer: ClockTimer; at: number } | undefined;
      for (const timer of this.timers) {
        const due = timer.nextDue(this.now())?.getTime();
        if (due !== undefined && due <= target && (!earliest || due < earliest.at)) {
          earliest = { timer, at: due };
        }
      }
      if (!earliest) break;
      this.current = Math.max(this.current, earliest.at);
      await earliest.timer.fire(this.now());
    }
    this.current = target;
  }
}
