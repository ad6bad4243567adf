// The input EventBridge Scheduler gives the suite's scheduled functions (the sweep and the audit
// anchor): `{ scheduledAt }`, or nothing from a console Test. Shared so both refuse the same way.
import { ValidationError } from '#domain/errors';

/**
 * The scheduler's input. Anything but an object (or nothing) is refused: a scheduled function
 * takes no parameters, so a string or array means it was wired to the wrong source.
 */
export function parseScheduleInput(event: unknown, step: string): { scheduledAt?: string } {
  if (event === undefined || event === null) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new ValidationError(
      '(all opted-in secrets)',
      step,
      `expected the scheduler's input (an object, or nothing), found ${Array.isArray(event) ? 'an array' : `a ${typeof event}`}`,
      'invalid-event',
    );
  }
  const { scheduledAt } = event as Record<string, unknown>;
  if (scheduledAt === undefined) return {};
  if (typeof scheduledAt !== 'string' || Number.isNaN(Date.parse(scheduledAt))) {
    throw new ValidationError(
      '(all opted-in secrets)',
      step,
      'expected scheduledAt to be an ISO-8601 time when present',
      'invalid-event',
    );
  }
  return { scheduledAt };
}
