// Secrets Manager rotation schedules and windows: which rules AWS accepts, and when the next
// rotation window opens and closes. Source: RotationRulesType in the API reference and
// "Schedule expressions in Secrets Manager rotation" in the user guide. All times are UTC.
//
//  - rate(N days) / AutomaticallyAfterDays N: the window opens at midnight N days after the
//    day of the last rotation and, by default, closes at the end of that UTC day.
//  - rate(N hours): windows open at midnight and every N hours after it within the day (the
//    window may not run into the next UTC day, so the grid restarts at midnight); the next
//    window is the one N hours after the window of the last rotation. Default length 1 hour.
//  - cron(0 H DOM MON DOW *): windows open at each matching hour. Default length: 1 hour when
//    the expression fires several times a day, else until the end of the UTC day.
//  - Duration `<n>h` shortens/sets the window; it may not cross midnight or reach the next window.
//  - No schedule may rotate more often than every four hours ("You can rotate a secret as
//    often as every four hours").
// Rotation can therefore come earlier or later than "N after the last one": rotated at 00:05
// with rate(1 days) and rotated again at 23:59 the next day is 48 hours. The lifespan sweep
// exists because of exactly this.
import { AwsError } from './wire.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  ScheduleExpression?: string;
  Duration?: string;
}

export interface Window {
  start: Date;
  end: Date;
}

type Schedule =
  | { kind: 'days'; every: number; durationMs?: number }
  | { kind: 'hours'; every: number; durationMs?: number }
  | { kind: 'cron'; cron: Cron; durationMs?: number };

const invalid = (message: string) => new AwsError('InvalidParameterException', message);

/** Parses and validates RotateSecret's RotationRules as AWS does; throws AWS-shaped errors. */
export function parseRules(rules: RotationRules): Schedule {
  const {
    AutomaticallyAfterDays: days,
    ScheduleExpression: expression,
    Duration: duration,
  } = rules;
  if (days !== undefined && expression !== undefined) {
    throw invalid(
      'You can set either AutomaticallyAfterDays or ScheduleExpression in RotationRules, but not both.',
    );
  }
  const durationMs = duration === undefined ? undefined : parseDuration(duration);
  let schedule: Schedule;
  if (days !== undefined) {
    if (!Number.isInteger(days) || days < 1 || days > 1000) {
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${days}' at 'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must have value between 1 and 1000`,
      );
    }
    schedule = { kind: 'days', every: days, durationMs };
  } else if (expression !== undefined) {
    schedule = parseExpression(expression.trim(), durationMs);
  } else {
    throw invalid('RotationRules must contain AutomaticallyAfterDays or ScheduleExpression.');
  }
  checkWindowFits(schedule);
  return schedule;
}

function parseDuration(duration: string): number {
  const match = /^(\d{1,2})h$/.exec(duration);
  const hours = match ? Number(match[1]) : Number.NaN;
  if (!(hours >= 1 && hours <= 24)) {
    throw invalid(
      `Duration '${duration}' is invalid: give the rotation window in hours, from 1h to 24h.`,
    );
  }
  return hours * HOUR;
}

function parseExpression(expression: string, durationMs: number | undefined): Schedule {
  const rate = /^rate\((\d+) (hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const every = Number(rate[1]);
    if (rate[2]!.startsWith('hour')) {
      // AWS: "You can rotate a secret as often as every four hours." Rates of a day or more are written in days.
      if (every < 4 || every > 23) {
        throw invalid(
          `ScheduleExpression ${expression} is invalid: a rate in hours must be from 4 to 23 hours (Secrets Manager rotates at most every four hours).`,
        );
      }
      return { kind: 'hours', every, durationMs };
    }
    if (every < 1 || every > 1000) {
      throw invalid(
        `ScheduleExpression ${expression} is invalid: a rate in days must be from 1 to 1000 days.`,
      );
    }
    return { kind: 'days', every, durationMs };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return { kind: 'cron', cron: parseCron(expression, cron[1]!), durationMs };
  throw invalid(
    `ScheduleExpression ${expression} is invalid: use rate(<n> hours|days) or cron(...).`,
  );
}

function checkWindowFits(schedule: Schedule): void {
  const length = windowLength(schedule);
  if (schedule.kind === 'days') return; // opens at midnight; any length up to 24h stays in the day
  if (schedule.kind === 'hours') {
    if (length > schedule.every * HOUR) {
      throw invalid(
        `Duration ${length / HOUR}h is longer than the ${schedule.every}-hour rotation interval: windows would overlap.`,
      );
    }
    return;
  }
  const hours = [...schedule.cron.hours].sort((a, b) => a - b);
  for (const [i, hour] of hours.entries()) {
    // Only a Duration can run past midnight; the default window closes at the end of the day.
    if (schedule.durationMs !== undefined && hour * HOUR + schedule.durationMs > DAY) {
      throw invalid('The rotation window must not extend into the next UTC day.');
    }
    const next = hours[i + 1];
    if (next !== undefined && next - hour < 4) {
      throw invalid(
        'The cron expression rotates more often than every four hours, the most often Secrets Manager rotates.',
      );
    }
    if (next !== undefined && hour * HOUR + length > next * HOUR) {
      throw invalid('The rotation window must not extend into the next rotation window.');
    }
  }
  // The last window of one day and the first of the next may be too close as well.
  if (hours.length > 1 && 24 - hours.at(-1)! + hours[0]! < 4) {
    throw invalid(
      'The cron expression rotates more often than every four hours, the most often Secrets Manager rotates.',
    );
  }
}

function windowLength(schedule: Schedule): number {
  if (schedule.durationMs !== undefined) return schedule.durationMs;
  if (schedule.kind === 'hours') return HOUR;
  if (schedule.kind === 'cron' && schedule.cron.hours.size > 1) return HOUR;
  return DAY; // "closes at the end of the day": windows in days open at midnight or at the cron hour
}

const startOfDay = (t: number) => t - (((t % DAY) + DAY) % DAY);

/**
 * The first rotation window after `base` (the last rotation, or when rotation was turned on).
 * NextRotationDate is its end: "the next rotation is scheduled to occur on or before this date".
 */
export function nextWindow(rules: RotationRules, base: Date): Window {
  const schedule = parseRules(rules);
  const t = base.getTime();
  const length = windowLength(schedule);
  let start: number;
  if (schedule.kind === 'days') {
    start = startOfDay(t) + schedule.every * DAY;
  } else if (schedule.kind === 'hours') {
    const every = schedule.every * HOUR;
    const day = startOfDay(t);
    const slot = day + Math.floor((t - day) / every) * every;
    start = slot + every;
    if (start + length > day + DAY) start = day + DAY; // the grid restarts at midnight
  } else {
    start = nextCronOpening(schedule.cron, t);
  }
  const end =
    schedule.kind === 'cron' ? Math.min(start + length, startOfDay(start) + DAY) : start + length;
  return { start: new Date(start), end: new Date(end) };
}

/** Days between rotations for DescribeSecret's AutomaticallyAfterDays, where the schedule has one. */
export function daysBetweenRotations(rules: RotationRules): number | undefined {
  const schedule = parseRules(rules);
  return schedule.kind === 'days' ? schedule.every : undefined;
}

// ---- cron(Minutes Hours Day-of-month Month Day-of-week Year), Secrets Manager's dialect ----

interface Cron {
  hours: Set<number>;
  matchesDay(date: Date): boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseCron(expression: string, body: string): Cron {
  const fail = (why: string) => invalid(`ScheduleExpression ${expression} is invalid: ${why}.`);
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6)
    throw fail(
      'a cron expression has six fields: minutes hours day-of-month month day-of-week year',
    );
  const [minutes, hours, dom, month, dow, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // "Secrets Manager rotation windows open on the hour" and schedules never span more than a year.
  if (minutes !== '0')
    throw fail('the minutes field must be 0 (rotation windows open on the hour)');
  if (year !== '*') throw fail('the year field must be *');
  if ((dom === '?') === (dow === '?'))
    throw fail('exactly one of day-of-month and day-of-week must be ?');
  const hourSet = parseList(hours, 0, 23, [], fail);
  const months = parseList(month, 1, 12, MONTHS, fail);
  const byDom = dom === '?' ? undefined : domMatcher(dom, fail);
  const byDow = dow === '?' ? undefined : dowMatcher(dow, fail);
  return {
    hours: hourSet,
    matchesDay: (date) =>
      months.has(date.getUTCMonth() + 1) &&
      (byDom ? byDom(date) : true) &&
      (byDow ? byDow(date) : true),
  };
}

function parseList(
  field: string,
  min: number,
  max: number,
  names: string[],
  fail: (why: string) => AwsError,
): Set<number> {
  const value = (text: string) => {
    const named = names.indexOf(text.toUpperCase());
    const n = named >= 0 ? named + min : Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw fail(`'${text}' is out of range ${min}-${max}`);
    return n;
  };
  const result = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw fail(`bad step in '${part}'`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [min, max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string];
      [from, to] = [value(a), value(b)];
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) result.add(n);
  }
  return result;
}

const lastDayOfMonth = (d: Date) =>
  new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();

function domMatcher(field: string, fail: (why: string) => AwsError): (d: Date) => boolean {
  if (field === 'L') return (d) => d.getUTCDate() === lastDayOfMonth(d);
  const days = parseList(field, 1, 31, [], fail);
  return (d) => days.has(d.getUTCDate());
}

function dowMatcher(field: string, fail: (why: string) => AwsError): (d: Date) => boolean {
  // Day-of-week is 1-7 = SUN-SAT. `TUE#3` is the third Tuesday; `5L` / `FRIL` the last Friday; `L` Saturday.
  const weekday = (d: Date) => d.getUTCDay() + 1;
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) {
    const day = [...parseList(nth[1]!, 1, 7, WEEKDAYS, fail)][0]!;
    const n = Number(nth[2]);
    return (d) => weekday(d) === day && Math.ceil(d.getUTCDate() / 7) === n;
  }
  if (field === 'L') return (d) => weekday(d) === 7;
  const last = /^(\w+)L$/.exec(field);
  if (last) {
    const day = [...parseList(last[1]!, 1, 7, WEEKDAYS, fail)][0]!;
    return (d) => weekday(d) === day && d.getUTCDate() + 7 > lastDayOfMonth(d);
  }
  const days = parseList(field, 1, 7, WEEKDAYS, fail);
  return (d) => days.has(weekday(d));
}

function nextCronOpening(cron: Cron, after: number): number {
  const hours = [...cron.hours].sort((a, b) => a - b);
  // Year is always `*`, so every schedule repeats within a leap-year cycle of days.
  for (let day = startOfDay(after), n = 0; n < 366 * 4 + 1; day += DAY, n++) {
    if (!cron.matchesDay(new Date(day))) continue;
    for (const hour of hours) {
      if (day + hour * HOUR > after) return day + hour * HOUR;
    }
  }
  throw invalid('The cron expression never matches a day.');
}
