import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '#domain/policy';
import { parseRate, scheduleFor, scheduleMatches } from '#domain/schedule';

// A model of Secrets Manager's rotation windows, written from its documentation (all UTC):
// rate(N days) opens a window at midnight of the day N days after the day of the last rotation;
// rate(N hours) opens windows at midnight and every N hours after; each lasts Duration.
const startOfDay = (t: number) => t - (t % DAY_MS);
function nextWindow(expression: string, duration: string, lastRotation: number) {
  const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(expression);
  if (!rate) throw new Error(`model knows only rate(): ${expression}`);
  const n = Number(rate[1]);
  const length = Number(duration.replace('h', '')) * HOUR_MS;
  if (rate[2]!.startsWith('day')) {
    const start = startOfDay(lastRotation) + n * DAY_MS;
    return { start, end: start + length };
  }
  const every = n * HOUR_MS;
  const day = startOfDay(lastRotation);
  const start = day + Math.floor((lastRotation - day) / every) * every + every;
  return { start, end: start + length };
}

/** The oldest a token gets over a run of rotations, each at `pick` within its window. */
function oldestToken(
  expression: string,
  duration: string,
  first: number,
  pick: (w: { start: number; end: number }) => number,
) {
  let last = first;
  let oldest = 0;
  for (let i = 0; i < 6; i++) {
    const next = pick(nextWindow(expression, duration, last));
    oldest = Math.max(oldest, next - last);
    last = next;
  }
  return oldest;
}

const MIDNIGHT = Date.UTC(2030, 0, 1);
const everyLifespan = Array.from({ length: 365 * 24 - 3 }, (_, i) => (i + 4) * HOUR_MS);
// A deterministic spread of starting moments, so a failure reproduces.
const starts = Array.from({ length: 7 }, (_, i) => MIDNIGHT + ((i * 7919 * 60_000) % DAY_MS));

describe('rotation schedule for a lifespan', () => {
  it('sets only schedules Secrets Manager accepts, for every lifespan from 4h to 365d', () => {
    for (const lifespan of everyLifespan) {
      // Act
      const s = scheduleFor(lifespan);
      // Assess: rate() in whole hours dividing the day (4..12) or days (1..999); window 1h..its limit.
      const rate = parseRate(s.scheduleExpression);
      expect(rate, s.scheduleExpression).toBeDefined();
      expect(s.duration).toMatch(/^([1-9]|1\d|2[0-4])h$/);
      if (rate!.unit === 'hours') {
        expect([4, 6, 8, 12]).toContain(rate!.periodMs / HOUR_MS);
        expect(s.windowMs).toBeLessThanOrEqual(rate!.periodMs);
      } else {
        expect(rate!.periodMs / DAY_MS).toBeGreaterThanOrEqual(1);
        expect(rate!.periodMs / DAY_MS).toBeLessThanOrEqual(999);
        expect(s.windowMs).toBeLessThanOrEqual(DAY_MS);
      }
      expect(s.windowMs).toBeGreaterThanOrEqual(HOUR_MS);
      expect(Number(s.duration.slice(0, -1)) * HOUR_MS).toBe(s.windowMs);
      expect(rate!.periodMs).toBe(s.periodMs);
    }
  });

  it('keeps the live token within its lifespan when rotations succeed, except at the 4-hour floor', () => {
    for (const lifespan of everyLifespan) {
      const s = scheduleFor(lifespan);
      for (const first of starts) {
        // Worst case: each rotation at the very end of its window.
        const late = oldestToken(s.scheduleExpression, s.duration, first, (w) => w.end);
        // And from the very start of a window to the end of the next.
        const fromStart = nextWindow(s.scheduleExpression, s.duration, first).start;
        const startToEnd = nextWindow(s.scheduleExpression, s.duration, fromStart).end - fromStart;
        const oldest = Math.max(late, startToEnd);
        expect(oldest).toBeLessThanOrEqual(s.worstCaseAgeMs);
        if (lifespan === 4 * HOUR_MS) {
          // AWS rotates at most every 4h in windows of at least 1h: up to 5h. The sweep covers the hour.
          expect(s.withinLifespan).toBe(false);
          expect(oldest).toBeLessThanOrEqual(lifespan + HOUR_MS);
        } else {
          expect(s.withinLifespan).toBe(true);
          expect(
            oldest,
            `lifespan ${lifespan / HOUR_MS}h: ${s.scheduleExpression} ${s.duration}`,
          ).toBeLessThanOrEqual(lifespan);
        }
      }
    }
  });

  it('rotates no more than about twice per lifespan, and keeps an hour for the rotation itself where the hour grid allows', () => {
    for (const lifespan of everyLifespan.filter((l) => l >= 5 * HOUR_MS)) {
      const s = scheduleFor(lifespan);
      expect(s.periodMs).toBeGreaterThanOrEqual(lifespan / 2);
      // The hour kept for the rotation costs no extra rotations: it comes out of the window only.
      if (s.windowMs > HOUR_MS) expect(s.worstCaseAgeMs).toBe(lifespan - HOUR_MS);
    }
  });

  it.each([
    ['4h', 4 * HOUR_MS, 'rate(4 hours)', '1h'],
    ['5h', 5 * HOUR_MS, 'rate(4 hours)', '1h'],
    ['12h', 12 * HOUR_MS, 'rate(8 hours)', '3h'],
    ['24h', 24 * HOUR_MS, 'rate(12 hours)', '11h'],
    ['25h', 25 * HOUR_MS, 'rate(1 day)', '1h'],
    ['2d', 2 * DAY_MS, 'rate(1 day)', '23h'],
    ['7d', 7 * DAY_MS, 'rate(6 days)', '23h'],
    ['30d', 30 * DAY_MS, 'rate(29 days)', '23h'],
    ['365d', 365 * DAY_MS, 'rate(364 days)', '23h'],
  ])('sets %s to %s with a %s window', (_, lifespan, expression, duration) => {
    const s = scheduleFor(lifespan);
    expect(s.scheduleExpression).toBe(expression);
    expect(s.duration).toBe(duration);
  });

  it.each([0, 3 * HOUR_MS, 4.5 * HOUR_MS])(
    'fails for a lifespan that is not whole hours of at least 4h (%d ms)',
    (lifespan) => {
      expect(() => scheduleFor(lifespan)).toThrow(/whole number of hours, at least 4h/);
    },
  );
});

describe('a stored schedule matching the lifespan tag', () => {
  const week = 7 * DAY_MS;

  it('matches the schedule the suite sets, however it is spelled', () => {
    expect(scheduleMatches({ scheduleExpression: 'rate(6 days)', duration: '23h' }, week)).toBe(
      true,
    );
    expect(
      scheduleMatches(
        { scheduleExpression: ' rate(6 days) ', duration: '23h', automaticallyAfterDays: 6 },
        week,
      ),
    ).toBe(true);
    expect(
      scheduleMatches({ scheduleExpression: 'rate(1 days)', duration: '23h' }, 2 * DAY_MS),
    ).toBe(true);
    expect(
      scheduleMatches({ scheduleExpression: 'rate(8 hour)', duration: '3h' }, 12 * HOUR_MS),
    ).toBe(true);
  });

  it.each([
    ['another lifespan’s schedule', { scheduleExpression: 'rate(29 days)', duration: '23h' }],
    ['another window', { scheduleExpression: 'rate(6 days)', duration: '24h' }],
    ['no window', { scheduleExpression: 'rate(6 days)' }],
    ['days only', { automaticallyAfterDays: 6 }],
    ['a cron schedule', { scheduleExpression: 'cron(0 0 */6 * ? *)', duration: '23h' }],
    ['the same period in hours', { scheduleExpression: 'rate(144 hours)', duration: '23h' }],
    ['no rules at all', undefined],
  ])('does not match %s', (_, rules) => {
    expect(scheduleMatches(rules, week)).toBe(false);
  });

  it('does not match the same period in the other unit at the day boundary', () => {
    expect(
      scheduleMatches({ scheduleExpression: 'rate(24 hours)', duration: '1h' }, 25 * HOUR_MS),
    ).toBe(false);
  });
});
