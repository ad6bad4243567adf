// Runs every integration file against AWS_ENDPOINT_URL, one file at a time, and prints per file
// what ran, what was skipped and why, what passed and failed, and how many requests the endpoint
// answered meanwhile (when it keeps a request log, as the local AWS's serve.ts does at
// /_local/requests). A file whose tests passed while the endpoint's log did not move has run
// somewhere else: that is reported as a fallback and fails the run, as does any failure.
//   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx test/integration/run-external.ts [files...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { scaled } from './support/timeout-scale.ts';

// AWS_ENDPOINT_URL, or INTEGRATION_TARGET=aws for a real account (the SDK's own endpoints).
const endpoint =
  process.env.AWS_ENDPOINT_URL || (process.env.INTEGRATION_TARGET === 'aws' ? 'aws' : undefined);
if (!endpoint) {
  console.error(
    'Name the AWS to run the integration suite against: AWS_ENDPOINT_URL=<url>, or INTEGRATION_TARGET=aws for a real account',
  );
  process.exit(2);
}

const dir = 'test/integration';
const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(dir)
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
        .map((f) => join(dir, f));

/** The endpoint's request count, or undefined when it keeps no request log (a real account). */
async function requestCount(): Promise<number | undefined> {
  if (!endpoint?.startsWith('http')) return undefined;
  // Asked up to three times: a kept-alive connection the endpoint closes as it is reused fails
  // the request once (ECONNRESET), which says nothing about the log.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await fetch(new URL('/_local/requests', endpoint));
      if (res.status === 404) return undefined;
      if (res.ok) return ((await res.json()) as { total: number }).total;
    } catch {
      // asked again
    }
  }
  return undefined;
}

interface Row {
  file: string;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  why: string;
  requests: string;
  verdict: string;
}

const work = mkdtempSync(join(tmpdir(), 'integration-external-'));
const rows: Row[] = [];
const logged = (await requestCount()) !== undefined;
console.log(
  `integration suite against ${endpoint}: ${files.length} files, one at a time; ${
    logged
      ? 'the endpoint keeps a request log (GET /_local/requests)'
      : 'the endpoint keeps no request log, so requests per file are not shown'
  }`,
);

for (const file of files) {
  const report = join(work, `${basename(file)}.json`);
  const skipLog = join(work, `${basename(file)}.skips`);
  const before = await requestCount();
  const run = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      file,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      // vitest.config.ts's limits, scaled for the endpoint (INTEGRATION_TIMEOUT_SCALE).
      `--testTimeout=${scaled(120_000)}`,
      `--hookTimeout=${scaled(600_000)}`,
    ],
    { stdio: 'inherit', env: { ...process.env, INTEGRATION_SKIP_LOG: skipLog } },
  );
  const after = await requestCount();
  const row: Row = {
    file: basename(file),
    tests: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    why: '',
    requests: before !== undefined && after !== undefined ? String(after - before) : 'n/a',
    verdict: '',
  };
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      testResults: { assertionResults: { status: string }[]; message?: string }[];
    };
    for (const result of json.testResults) {
      for (const test of result.assertionResults) {
        row.tests++;
        if (test.status === 'passed') row.passed++;
        else if (test.status === 'failed') row.failed++;
        else row.skipped++;
      }
      if (result.message && row.tests === 0)
        row.why = `file failed: ${result.message.split('\n')[0]}`;
    }
  } catch {
    row.why = `no report (vitest exited ${run.status})`;
    row.failed++;
  }
  try {
    const reasons = new Set(
      readFileSync(skipLog, 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { reason: string }).reason),
    );
    row.why = [...reasons].join('; ');
  } catch {
    // No file-level skip recorded.
  }
  if (row.skipped > 0 && !row.why) row.why = 'skipped by the test itself (see its output)';
  const ran = row.passed + row.failed;
  if (row.failed > 0 || run.status !== 0) row.verdict = 'FAILED';
  else if (logged && ran > 0 && row.requests === '0')
    row.verdict = 'FELL BACK (endpoint never asked)';
  else if (logged && ran > 0 && row.requests === 'n/a')
    row.verdict = 'UNPROVEN (the request log could not be read)';
  else if (ran === 0) row.verdict = 'SKIPPED';
  else row.verdict = 'ok';
  rows.push(row);
}
rmSync(work, { recursive: true, force: true });

const header = ['file', 'tests', 'ran', 'passed', 'failed', 'skipped', 'requests', 'verdict'];
const table = rows.map((r) => [
  r.file,
  String(r.tests),
  String(r.passed + r.failed),
  String(r.passed),
  String(r.failed),
  String(r.skipped),
  r.requests,
  r.verdict,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\nintegration suite against ${endpoint}`);
console.log(line(header));
for (const t of table) console.log(line(t));
for (const r of rows.filter((r) => r.why)) console.log(`  ${r.file} skipped: ${r.why}`);
const bad = rows.filter((r) => r.verdict !== 'ok' && r.verdict !== 'SKIPPED');
process.exit(bad.length > 0 ? 1 : 0);
