// A demo is a list of stages; each prints what happened and checks it happened as shown. A failed
// check ends the run with StageFailed, naming what was expected. The timeline is printed through
// one writer, so a run's whole output can be kept (the canary check reads it).

import { logger } from '#commons/logger';

/**
 * Runs a rotation the scene expects to fail with the handlers' ERROR lines held back: they would
 * interleave with the timeline as raw JSON, and the scene shows what they say (the alert e-mail)
 * and checks it. The demo's level (WARN) is back afterwards.
 */
export async function expectingFailure<T>(run: () => Promise<T>): Promise<T> {
  logger.setLogLevel('CRITICAL');
  try {
    return await run();
  } finally {
    logger.setLogLevel('WARN');
  }
}

export class StageFailed extends Error {
  override readonly name = 'StageFailed';
}

export interface TimelineOptions {
  /** Where the timeline goes. */
  write: (text: string) => void;
  /** The local clock, shown at each stage. */
  now: () => Date;
  /** ANSI bold and dim (a terminal). */
  color?: boolean;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `Mon 2026-01-05 09:15 UTC`: the local clock as a person reads it. */
export function localTime(date: Date): string {
  const iso = date.toISOString();
  return `${DAYS[date.getUTCDay()]} ${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export class Timeline {
  private stageNumber = 0;
  /** The stage in progress, for a failure's message. */
  current = '';

  constructor(private readonly options: TimelineOptions) {}

  private style(code: number, text: string): string {
    return this.options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  private line(text: string): void {
    this.options.write(`${text}\n`);
  }

  async stage(title: string, run: () => Promise<void>): Promise<void> {
    this.stageNumber += 1;
    this.current = title;
    const at = localTime(this.options.now());
    this.line(`\n${this.style(1, `${this.stageNumber}. ${title}`)}  ${this.style(2, `[${at}]`)}`);
    await run();
  }

  /** An indented line of the timeline. */
  say(text = ''): void {
    this.line(`   ${text}`);
  }

  note(text: string): void {
    this.line(`   ${this.style(2, text)}`);
  }

  /** Fails the demo, naming what was expected, when `condition` is false. */
  check(condition: unknown, expected: string): asserts condition {
    if (!condition) throw new StageFailed(`stage "${this.current}": expected ${expected}`);
    this.line(`   ✓ ${expected}`);
  }

  table(rows: string[][]): void {
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const row of rows) {
      this.say(
        row
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
    }
  }

  /** Raw text, as it is (an e-mail body). */
  raw(text: string): void {
    this.line(text);
  }
}
