// The one Lambda wrapper the handlers share: dependencies built once and only when used, a
// failure logged once without secret material and rethrown (or turned into a result), metrics
// flushed and log keys cleared after every invocation, failed or not.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import type { MetricsSink } from '#commons/metrics';

let logs: string[] = [];
beforeEach(() => {
  logs = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      logs.push(String(chunk));
      return true;
    });
  }
});
afterEach(() => vi.restoreAllMocks());

const recorder = () => {
  const published: number[] = [];
  const sink: MetricsSink = {
    addMetric: () => undefined,
    publishStoredMetrics: () => published.push(published.length),
  };
  return { sink, published };
};

describe('lambdaHandler', () => {
  it('builds its dependencies on the first invocation that asks, and only once', async () => {
    // Prepare
    let built = 0;
    const handler = lambdaHandler({
      name: 'test',
      deps: () => ({ n: ++built }),
      failed: 'test failed',
      run: async (event, { deps }) => (event === 'use' ? deps().n : 0),
    });

    // Act
    const unused = await handler('skip');
    const first = await handler('use');
    const second = await handler('use');

    // Assess
    expect([unused, first, second]).toEqual([0, 1, 1]);
    expect(built).toBe(1);
  });

  it('logs a failure once, scrubbed, rethrows it, and still flushes metrics and clears log keys', async () => {
    // Prepare
    const { sink, published } = recorder();
    const token = 'acme_live_Q7vLx2KpZ9mW4rT8yB3nH6cJ1dF5gS0aXeU';
    const counted: unknown[] = [];
    const handler = lambdaHandler({
      name: 'test',
      deps: {},
      failed: 'test failed',
      metrics: () => sink,
      onFailure: (error) => counted.push(error),
      run: async () => {
        logger.appendKeys({ secretId: 'payments/api-key' });
        throw new Error(`issuer said ${token} is bad`);
      },
    });

    // Act
    const invoked = handler({});

    // Assess
    await expect(invoked).rejects.toThrow('issuer said');
    const failures = logs.filter((line) => line.includes('test failed'));
    expect(failures).toHaveLength(1);
    expect(logs.join('')).not.toContain(token);
    expect(counted).toHaveLength(1);
    expect(published).toHaveLength(1);
    logger.info('after the invocation');
    expect(logs.at(-1)).not.toContain('payments/api-key');
  });

  it('returns what recover makes of a failure instead of throwing, without logging it as one', async () => {
    // Prepare
    const handler = lambdaHandler({
      name: 'test',
      deps: {},
      failed: 'test failed',
      recover: (error) => (error instanceof RangeError ? 'refused' : undefined),
      run: async (event): Promise<string> => {
        throw event === 'range' ? new RangeError('no') : new TypeError('boom');
      },
    });

    // Act / Assess
    await expect(handler('range')).resolves.toBe('refused');
    await expect(handler('other')).rejects.toThrow('boom');
    expect(logs.filter((line) => line.includes('test failed'))).toHaveLength(1);
  });
});
