// README's construct reference (props with their defaults, properties, grant and metric methods)
// is generated from the TSDoc in infra/token-rotation.ts by `npm run docs:props`: this fails when
// the two drift, naming the command that brings README back in line.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenRotation } from '../../infra/token-rotation.ts';
import {
  currentPropsTable,
  propsTable,
  readProps,
  tableInReadme,
} from '../../scripts/props-table.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe("README's construct reference", () => {
  it('is what npm run docs:props generates from the current TSDoc', () => {
    expect(tableInReadme(README), 'README is stale: run npm run docs:props').toBe(
      currentPropsTable(),
    );
  });

  it('lists every prop with its @default, and every grant and metric method of the construct', () => {
    // Prepare
    const methods = Object.getOwnPropertyNames(TokenRotation.prototype).filter((n) =>
      /^(grant|metric)/.test(n),
    );

    // Act
    const table = currentPropsTable();

    // Assess
    expect(table).toContain('| `sweepInterval` | `Duration` | `Duration.minutes(15)` |');
    expect(table).toContain('| `alertEmails` | `string[]` | no subscriptions:');
    for (const method of methods) expect(table, method).toContain(`| \`${method}(`);
    expect(methods).toEqual(
      expect.arrayContaining([
        'grantRevoke',
        'grantAuditRead',
        'metricRotationFailed',
        'metricSweepBacklog',
      ]),
    );
  });

  it('fails on a prop without an @default, naming it, and keeps each cell on one line', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'props-table-'));
    const file = join(dir, 'props.ts');
    writeFileSync(
      file,
      'export interface P {\n  /** Documented.\n   * @default 1 */\n  readonly a?: number;\n  /** No default. */\n  readonly b?: string;\n}\n',
    );

    // Assess
    expect(() => readProps(file, 'P')).toThrow(
      'P.b needs TSDoc with a description and an @default',
    );
    expect(
      propsTable([{ name: 'x', type: 'a | b', default: '- none', description: 'one\ntwo' }]),
    ).toContain('| `x` | `a \\| b` | none | one two |');
  });
});
