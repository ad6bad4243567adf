// The one Lambda wrapper every handler uses: it builds the handler's dependencies on first use
// (an import, or an event that is dropped, builds no clients), adds the invocation to the log
// context, logs a failure once (scrubbed) and lets the handler turn a
// failure into a result, flushes metrics, and clears the log keys the handler added.

import type { Context } from 'aws-lambda';
import { describeError } from '#domain/errors';
import { logger } from './logger.ts';
import type { MetricsSink } from './metrics.ts';

/** What the wrapper hands the handler's own code. */
export interface Invocation<D> {
  /** The dependencies, built on the first call (then the same ones for the container's life). */
  deps(): D;
  context?: Context;
}

export interface HandlerSpec<D, R> {
  /** The handler's name, e.g. `rotation`. */
  name: string;
  /** The dependencies, or how to build them (from the environment, for the deployed handler). */
  deps: D | (() => D);
  /** The work: parse the event, add log keys, call the domain. */
  run(event: unknown, invocation: Invocation<D>): Promise<R>;
  /** The log message for a failure (the scrubbed error is added). */
  failed: string;
  /**
   * A failure that is an outcome rather than an error (e.g. a refused request a retry cannot
   * help): the result to return instead of throwing. Undefined: the failure is rethrown.
   */
  recover?(error: unknown): R | undefined;
  /** Counts a failure (before metrics are flushed). */
  onFailure?(error: unknown, deps: D | undefined): void;
  /** The metrics to flush after each invocation, once the dependencies are known (if they are). */
  metrics?(deps: D | undefined): MetricsSink | undefined;
}

export type LambdaHandler<R> = (event: unknown, context?: Context) => Promise<R>;

export function lambdaHandler<D, R>(spec: HandlerSpec<D, R>): LambdaHandler<R> {
  let resolved: D | undefined = typeof spec.deps === 'function' ? undefined : spec.deps;
  const deps = () => {
    resolved ??= (spec.deps as () => D)();
    return resolved;
  };
  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      return await spec.run(event, { deps, ...(context ? { context } : {}) });
    } catch (error) {
      const recovered = spec.recover?.(error);
      if (recovered !== undefined) return recovered;
      const text = describeError(error);
      logger.error(spec.failed, { error: text });
      spec.onFailure?.(error, resolved);
      throw error;
    } finally {
      spec.metrics?.(resolved)?.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}

/** What an EventBridge handler returns for an event it will never understand. */
export interface Ignored {
  status: 'ignored';
  why: string;
}

/**
 * An event the handler will never understand (`what` it is not, and why): logged and returned,
 * not thrown, since EventBridge would deliver it again.
 */
export function ignoredEvent(what: string, why: string): Ignored {
  logger.warn(`ignored an event that ${what}`, { why });
  return { status: 'ignored', why };
}
