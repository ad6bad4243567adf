// README "What it costs" is computed, not remembered: each count in its fixed table is what the
// template of the documented deployment holds (custom metrics: the names the functions emit),
// each line's dollars are its count times its unit price, and the totals add up.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '#commons/metrics';
import { ACTION_METRICS } from '#handlers/sweep';
import { type Json, synthApp } from './support.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Row label (before its parenthesis) → the template's resource type it counts. */
const COUNTED: Record<string, string> = {
  'KMS keys': 'AWS::KMS::Key',
  'CloudWatch alarms': 'AWS::CloudWatch::Alarm',
  'CloudWatch dashboards': 'AWS::CloudWatch::Dashboard',
  'Lambda functions': 'AWS::Lambda::Function',
  'DynamoDB tables': 'AWS::DynamoDB::Table',
  'SNS topics': 'AWS::SNS::Topic',
  'SQS queues': 'AWS::SQS::Queue',
  'S3 buckets': 'AWS::S3::Bucket',
  'EventBridge rules': 'AWS::Events::Rule',
  'EventBridge Scheduler schedules': 'AWS::Scheduler::Schedule',
};

interface Row {
  label: string;
  count: number;
  unit: number;
  dollars: number;
}

/** The fixed table of "What it costs": its rows, and the stated fixed total. */
function fixedTable(): { rows: Row[]; total: number } {
  const section = README.slice(README.indexOf('### What it costs'));
  const lines = section.slice(section.indexOf('| item | count |')).split('\n');
  const rows: Row[] = [];
  let total = Number.NaN;
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').map((c) => c.trim());
    const [, item = '', count = '', unit = '', dollars = ''] = cells;
    if (item === '**fixed total**') {
      total = Number(dollars.replaceAll('*', ''));
      continue;
    }
    rows.push({
      label: item.replace(/\s*\(.*$/, ''),
      count: Number(count.replace(/,/g, '')),
      unit: Number(unit.replace('$', '')),
      dollars: Number(dollars),
    });
  }
  return { rows, total };
}

/** Every metric name the handlers emit (each `addMetric(` call's name, resolved). */
function emittedMetricNames(): string[] {
  const names = new Set<string>();
  const files = readdirSync(join(ROOT, 'lambdas'), { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts'),
  );
  for (const file of files) {
    const text = readFileSync(join(ROOT, 'lambdas', file), 'utf8');
    for (const [, arg] of text.matchAll(/\baddMetric\(\s*([^,]+),/g)) {
      const name = arg!.trim();
      const literal = /^'([A-Za-z]+)'$/.exec(name);
      const named = /^METRIC_NAMES\.(\w+)$/.exec(name);
      if (literal) names.add(literal[1]!);
      else if (named) names.add(METRIC_NAMES[named[1] as keyof typeof METRIC_NAMES]);
      // The sweep's loop over its per-action counters.
      else if (name === 'name' && file.endsWith('sweep.ts')) {
        for (const n of Object.values(ACTION_METRICS)) names.add(n!);
      } else if (name === 'name: string' && file.endsWith('metrics.ts')) {
        // The MetricsSink interface's own signature.
      } else throw new Error(`${file}: cannot tell which metric addMetric(${name}, ...) emits`);
    }
  }
  return [...names].sort();
}

let resources: Record<string, Json>;

beforeAll(() => {
  resources = synthApp({ alertEmails: 'ops@example.com' }).template.toJSON().Resources;
});

describe('README "What it costs"', () => {
  it('states the count of each resource the template creates', () => {
    // Prepare
    const { rows } = fixedTable();
    const counted = Object.fromEntries(rows.map((r) => [r.label, r.count]));

    // Act
    const inTemplate = Object.fromEntries(
      Object.entries(COUNTED).map(([label, type]) => [
        label,
        Object.values(resources).filter((r) => r.Type === type).length,
      ]),
    );

    // Assess
    expect(Object.fromEntries(Object.keys(COUNTED).map((l) => [l, counted[l]]))).toEqual(
      inTemplate,
    );
  });

  it('counts every custom metric the functions emit, including those the alarms read', () => {
    // Prepare
    const emitted = emittedMetricNames();
    const alarmed = Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace)
      .filter((r) => r.Properties.Namespace === 'TokenRotation')
      .map((r) => r.Properties.MetricName as string);

    // Act
    const row = fixedTable().rows.find((r) => r.label === 'Custom metrics');

    // Assess
    expect(emitted).toEqual(expect.arrayContaining([...new Set(alarmed)]));
    expect(row?.count).toBe(emitted.length);
  });

  it("adds up: each line is its count times its unit price, and the totals are the lines' sum", () => {
    // Prepare
    const { rows, total } = fixedTable();
    const cents = (dollars: number) => Math.round(dollars * 100);

    // Assess
    for (const row of rows) expect(cents(row.dollars), row.label).toBe(cents(row.count * row.unit));
    expect(cents(total)).toBe(rows.reduce((sum, r) => sum + cents(r.dollars), 0));
    const variable = [
      ...README.matchAll(/\*\*variable total\*\*.*?\*\*\$([\d.]+)\*\*.*?\*\*\$([\d.]+)\*\*/g),
    ];
    const monthly = [
      ...README.matchAll(/\*\*monthly total\*\*.*?\*\*≈ \$([\d.]+)\*\*.*?\*\*≈ \$([\d.]+)\*\*/g),
    ];
    expect(variable).toHaveLength(1);
    expect(monthly).toHaveLength(1);
    for (const i of [1, 2]) {
      expect(cents(Number(monthly[0]![i]))).toBe(cents(total) + cents(Number(variable[0]![i])));
    }
  });
});

describe("README's Lambda figures", () => {
  const NUMBER_WORDS = [
    'zero',
    'one',
    'two',
    'three',
    'four',
    'five',
    'six',
    'seven',
    'eight',
    'nine',
  ];

  it('state the reserved executions and the functions the template has, wherever they appear', () => {
    // Prepare
    const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const reserved = functions.reduce(
      (sum, f) => sum + Number(f.Properties.ReservedConcurrentExecutions ?? 0),
      0,
    );

    // Act: every sentence that states the total, and the per-function list that adds up to it
    const totals = [
      ...README.matchAll(/(\d+) reserved executions|\((\d+) by default:|\((\d+) in all\)/g),
    ].map((m) => Number(m[1] ?? m[2] ?? m[3]));
    const listed = README.match(/\(\d+ by default:([^)]*)\)/)?.[1];
    const parts = [...(listed ?? '').matchAll(/([a-zA-Z ]+) (\d+)/g)].map((m) => Number(m[2]));
    const counted = README.match(/- (\w+) arm64 Node\.js 22 functions/)?.[1];

    // Assess
    expect(totals.length).toBeGreaterThanOrEqual(4);
    expect(new Set(totals)).toEqual(new Set([reserved]));
    expect(parts).toHaveLength(functions.length);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(reserved);
    expect(counted).toBe(NUMBER_WORDS[functions.length]);
  });
});
