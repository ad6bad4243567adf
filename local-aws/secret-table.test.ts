// The secret table's ListSecrets order: a filtered listing pays for its selection once, not at
// every page, and any change a filter can see makes the next page select again. Counted in
// filter evaluations, not timed, so the result does not depend on the machine.
import { describe, expect, it } from 'vitest';
import { type Listed, SecretTable } from './secret-table.ts';

interface Row extends Listed {
  tagged: boolean;
}

const AT = new Date('2026-01-01T00:00:00Z');
const row = (seq: number, tagged: boolean): Row => ({
  arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:s${seq}-AbCdEf`,
  name: `s${seq}`,
  created: AT,
  seq,
  tagged,
});

/** Every page of `size` through the filter "tagged", as ListSecrets walks them. */
function walk(table: SecretTable<Row>, size: number, counter: { evaluations: number }) {
  const filter = {
    key: 'tagged',
    selects: (s: Row) => {
      counter.evaluations++;
      return s.tagged;
    },
  };
  const seen: string[] = [];
  let cursor: ReturnType<typeof SecretTable.cursorOf> | undefined;
  for (;;) {
    const page: Row[] = [];
    for (const s of table.after(cursor, false, filter)) {
      if (page.length === size) break;
      page.push(s);
    }
    seen.push(...page.map((s) => s.name));
    if (page.length < size) return seen;
    cursor = SecretTable.cursorOf(page.at(-1)!);
  }
}

describe('the secret table', () => {
  it('selects a filtered listing once for all its pages, in creation order', () => {
    // Prepare: 10,000 secrets, one in ten tagged.
    const table = new SecretTable<Row>();
    for (let i = 0; i < 10_000; i++) table.add(row(i, i % 10 === 0));
    const counter = { evaluations: 0 };

    // Act: ten pages of 100.
    const seen = walk(table, 100, counter);

    // Assess: every tagged secret once, in order, for one pass of the filter (not one per page).
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => `s${i * 10}`));
    expect(counter.evaluations).toBe(10_000);
  });

  it('selects again after a change a filter can see, and keeps the order as secrets come and go', () => {
    const table = new SecretTable<Row>();
    for (let i = 0; i < 50; i++) table.add(row(i, i % 2 === 0));
    const counter = { evaluations: 0 };
    walk(table, 10, counter);
    expect(counter.evaluations).toBe(50);

    // A secret tagged (the emulator's TagResource calls changed()), one removed, one added.
    table.find('s1')!.tagged = true;
    table.changed();
    table.delete(table.find('s2')!);
    table.add(row(50, true));
    const seen = walk(table, 10, counter);

    expect(seen).toEqual([
      's0',
      's1',
      ...Array.from({ length: 23 }, (_, i) => `s${(i + 2) * 2}`),
      's50',
    ]);
    expect(counter.evaluations).toBe(50 + 50);
  });
});
