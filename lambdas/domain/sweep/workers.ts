// A small worker pool: the sweep works on several secrets at once so that, the day many are due,
// it waits on Secrets Manager's quotas (the pacer) and not on one round trip after another.
// Items are handed out in order, one at a time, so a cut-off leaves a clean line: every item
// handed out is finished, none after it was started.

/** Secrets the sweep works on at once by default; the pacer keeps each quota's rate whatever it is. */
export const SWEEP_CONCURRENCY = 8;

/**
 * Runs `work` on each item of `items`, at most `size` at a time, and resolves when all are done.
 * `work` is expected to record its own failures; an error from `items` (the listing) stops
 * handing out, waits for the items in hand, and is then thrown.
 */
export async function inParallel<T>(
  size: number,
  items: AsyncIterator<T>,
  work: (item: T) => Promise<void>,
): Promise<void> {
  if (!(Number.isInteger(size) && size >= 1)) {
    throw new RangeError(`the sweep's concurrency must be a whole number >= 1, found ${size}`);
  }
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined) {
      let next: IteratorResult<T>;
      try {
        // An async generator queues concurrent next() calls: each item goes to one worker.
        next = await items.next();
      } catch (error) {
        failure ??= { error };
        return;
      }
      if (next.done) return;
      try {
        await work(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: size }, worker));
  if (failure !== undefined) throw failure.error;
}
