// From a lifespan, the Secrets Manager rotation schedule that keeps the live token younger than
// it while rotations succeed; and whether a secret's stored schedule still matches its lifespan.
//
// What Secrets Manager does (RotationRulesType and "Rotation schedules" in its user guide; UTC):
//  - rate(N days): the window opens at midnight on the UTC day N days after the day of the last
//    rotation; it lasts Duration (1h..24h; default: to the end of that day).
//  - rate(N hours): windows open at midnight and every N hours after it; Duration 1h..N hours
//    (default 1h), and no window may run into the next UTC day. We use only N that divide 24
//    (4, 6, 8, 12) so the grid is the same every day: with other N the grid restarts at midnight
//    and one gap a day is shorter or longer than N.
//  - Rotation happens at any moment inside the window; no schedule rotates more often than every
//    four hours; windows start on the hour and Duration is whole hours.
//
// Worst case: the last rotation happened at the very start of its window and the next one
// happens at the very end of the next window, so the live token's age reaches
//     worst = period + window          (period = N hours, or N days)
// We choose the longest period with period + 1h <= lifespan (fewest rotations, fewest issuer
// calls), then the widest window that still leaves an hour for the rotation itself to finish
// (window = lifespan - period - 1h, between 1h and its maximum): a wide window spreads the load of
// many secrets with the same lifespan. E.g. 7d -> rate(6 days) + 23h (worst 6d23h); 12h ->
// rate(8 hours) + 3h (worst 11h); 5h -> rate(4 hours) + 1h (worst 5h, no hour to spare).
//
// Where AWS's constraints make that impossible: only the 4h floor. The fastest schedule,
// rate(4 hours) with a 1h window, can reach 5h. The sweep covers it: for a schedule whose worst
// case exceeds the lifespan it rotates a secret early once its token is within one sweep
// interval of the lifespan (sweep-plan.ts `rotate-early`), and it rotates at once any token
// found older than its lifespan. So the promise holds for every lifespan: a live token is never
// older than its lifespan plus one sweep interval (plus the minutes a rotation takes).

import { DAY_MS, HOUR_MS } from './policy.ts';
import type { SecretDescription } from './ports.ts';

export interface RotationSchedule {
  /** RotationRules.ScheduleExpression, e.g. `rate(6 days)` or `rate(8 hours)`. */
  scheduleExpression: string;
  /** RotationRules.Duration: the window length, e.g. `23h`. */
  duration: string;
  periodMs: number;
  windowMs: number;
  /** Oldest a live token gets when every rotation succeeds: period + window. */
  worstCaseAgeMs: number;
  /** False only where AWS's 4-hour floor leaves no schedule within the lifespan; the sweep covers it. */
  withinLifespan: boolean;
}

/** Hour rates whose windows fall at the same times every day. */
const HOUR_RATES = [12, 8, 6, 4] as const;
const MAX_RATE_DAYS = 999;
/** Room kept, where the hour grid allows it, for the rotation's own four steps to finish. */
const ROTATION_ALLOWANCE_MS = HOUR_MS;

function build(periodMs: number, windowMs: number, lifespanMs: number): RotationSchedule {
  const days = periodMs / DAY_MS;
  const scheduleExpression =
    periodMs % DAY_MS === 0
      ? `rate(${days} ${days === 1 ? 'day' : 'days'})`
      : `rate(${periodMs / HOUR_MS} hours)`;
  const worstCaseAgeMs = periodMs + windowMs;
  return {
    scheduleExpression,
    duration: `${windowMs / HOUR_MS}h`,
    periodMs,
    windowMs,
    worstCaseAgeMs,
    withinLifespan: worstCaseAgeMs <= lifespanMs,
  };
}

/** The rotation schedule for a lifespan (whole hours, 4h..365d; see the header for the arithmetic). */
export function scheduleFor(lifespanMs: number): RotationSchedule {
  if (!Number.isInteger(lifespanMs / HOUR_MS) || lifespanMs < 4 * HOUR_MS) {
    throw new RangeError(
      `a lifespan must be a whole number of hours, at least 4h; got ${lifespanMs} ms`,
    );
  }
  let periodMs: number;
  let maxWindowMs: number;
  if (lifespanMs >= DAY_MS + HOUR_MS) {
    periodMs = Math.min(Math.floor((lifespanMs - HOUR_MS) / DAY_MS), MAX_RATE_DAYS) * DAY_MS;
    maxWindowMs = DAY_MS;
  } else {
    const hours = HOUR_RATES.find((h) => h * HOUR_MS + HOUR_MS <= lifespanMs) ?? 4;
    periodMs = hours * HOUR_MS;
    maxWindowMs = periodMs;
  }
  const windowMs = Math.max(
    HOUR_MS,
    Math.min(maxWindowMs, lifespanMs - periodMs - ROTATION_ALLOWANCE_MS),
  );
  return build(periodMs, windowMs, lifespanMs);
}

/** A `rate()` expression's period and unit, or undefined for anything else (cron, garbage). */
export function parseRate(
  expression: string,
): { periodMs: number; unit: 'hours' | 'days' } | undefined {
  const match = /^rate\(([1-9]\d*) (hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const unit = match[2]!.startsWith('hour') ? 'hours' : 'days';
  return { periodMs: Number(match[1]) * (unit === 'hours' ? HOUR_MS : DAY_MS), unit };
}

/** A Duration (`3h`) in ms, or undefined. */
function durationMs(duration: string): number | undefined {
  const match = /^(\d{1,2})h$/.exec(duration.trim());
  return match ? Number(match[1]) * HOUR_MS : undefined;
}

/**
 * Whether a secret's stored rotation rules are the ones `scheduleFor(lifespanMs)` sets, by meaning
 * rather than spelling (`rate(1 day)` = `rate(1 days)`). The unit counts: hour and day rates open
 * their windows differently. Rules set only by AutomaticallyAfterDays, a cron() or without a
 * window do not match: the tag is the source of truth, so the sweep rewrites them.
 */
export function scheduleMatches(
  rules: SecretDescription['rotationRules'] | undefined,
  lifespanMs: number,
): boolean {
  if (!rules?.scheduleExpression || !rules.duration) return false;
  const want = scheduleFor(lifespanMs);
  const found = parseRate(rules.scheduleExpression);
  const wantUnit = want.periodMs % DAY_MS === 0 && want.periodMs >= DAY_MS ? 'days' : 'hours';
  return (
    found !== undefined &&
    found.unit === wantUnit &&
    found.periodMs === want.periodMs &&
    durationMs(rules.duration) === want.windowMs
  );
}
