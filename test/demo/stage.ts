// A demo is a list of stages; each prints what happened and checks it happened as shown.
// Any failed check ends the run with a non-zero exit code.

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

export class StageFailed extends Error {}

let stageNumber = 0;

export async function stage(title: string, run: () => Promise<void>): Promise<void> {
  stageNumber += 1;
  console.log(`\n${bold(`${stageNumber}. ${title}`)}`);
  await run();
}

/** Prints an indented line of the timeline. */
export function say(line = ''): void {
  console.log(`   ${line}`);
}

export function note(line: string): void {
  console.log(`   ${dim(line)}`);
}

/** Fails the demo, naming what was expected, when `condition` is false. */
export function check(condition: unknown, expected: string): asserts condition {
  if (!condition) throw new StageFailed(`expected ${expected}`);
  console.log(`   ✓ ${expected}`);
}

export function table(rows: string[][]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows) say(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
}
