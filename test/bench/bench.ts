// `npm run bench`: one steady-state sweep over 1,000, 10,000 and 100,000 opted-in secrets on the
// embedded local AWS, through the real SDK and HTTP, then 1,000 secrets all due at once
// (mass-due.ts; 10,000 with BENCH_DUE_10K=1), the leak scan of a 10,000-file, 5,000-commit
// repository (scan.ts), then each function's cold init beside Python's (cold-init.ts);
// BENCH_ONLY=steady, due, scan or cold runs one part. Secrets are created and attached in bulk
// in-process (see createAttached), which is setup, not the thing measured. Prints, per size:
// ListSecrets and all Secrets Manager calls per 100 secrets, wall time (median where several
// runs are affordable), the peak RSS of the sweep's own process (steady-sweep.ts, a child over
// this process's endpoint) and of this one (the emulator), and how many 15-minute Lambda
// invocations the sweep needs.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE } from '#adapters/audit-table';
import { MANAGED_PK } from '#adapters/dynamodb-managed-set';
import { logger } from '#commons/logger';
import { HOUR_MS } from '#domain/policy';
import { scheduleFor } from '#domain/schedule';
import { TAG } from '#domain/vocabulary';
import { SAFETY_MARGIN_MS } from '#handlers/sweep';
import { startLocalAws } from '#local-aws/index';
import type { SecretTable } from '#local-aws/secret-table';
import type { Secret } from '#local-aws/secrets-manager-model';
import { installSuite } from '#local-aws/suite';
import { type MassDueRun, massDueRun } from './mass-due.ts';
import { scanBench } from './scan.ts';
import { RESULT_PREFIX, type SweepChildInput, type SweepChildResult } from './steady-sweep.ts';

process.removeAllListeners('warning');
logger.setLogLevel('ERROR');

/** BENCH_QUICK=1 leaves out the 100,000 size (a minute or two of setup). */
const SIZES = [
  { size: 1_000, runs: 5 },
  { size: 10_000, runs: 3 },
  ...(process.env.BENCH_QUICK ? [] : [{ size: 100_000, runs: 1 }]),
];
const LAMBDA_MS = 15 * 60_000;
const WEEK = scheduleFor(7 * 24 * HOUR_MS);

interface Row {
  size: number;
  runs: number;
  listPer100: number;
  callsPer100: number;
  medianMs: number;
  /** The sweep process's peak RSS (`process.resourceUsage().maxRSS`), the largest over the runs. */
  sweepPeakRssMb: number;
  /** The sweep process's RSS just before the sweep: node, tsx, the SDK and the deps, loaded. */
  sweepBaseRssMb: number;
  /** This process's peak RSS while the sweep ran: the emulator, every secret, dynalite. */
  emulatorPeakRssMb: number;
  invocations: number;
  actions: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/**
 * `size` secrets tagged with a 7-day lifespan and attached to `rotationFunctionArn`. The first is
 * made through the emulator's own CreateSecret and RotateSecret; the rest are copies of it put
 * straight into the emulator's table, because its per-request secret lookup is a linear scan
 * (100,000 creations through it would take a quarter of an hour). The sweep itself, which is
 * what is measured, goes through the real SDK and HTTP.
 */
async function createAttached(
  aws: Awaited<ReturnType<typeof startLocalAws>>,
  size: number,
  rotationFunctionArn: string,
): Promise<{ arn: string; name: string }[]> {
  const { ARN } = await aws.secretsManager.call('CreateSecret', {
    Name: 'bench/000000',
    SecretString: 'acme_live_bench0',
    Tags: [
      { Key: TAG.lifespan, Value: '7d' },
      { Key: 'team', Value: 'bench' },
    ],
  });
  await aws.secretsManager.call('RotateSecret', {
    SecretId: ARN,
    RotationLambdaARN: rotationFunctionArn,
    RotationRules: { ScheduleExpression: WEEK.scheduleExpression, Duration: WEEK.duration },
    RotateImmediately: false,
  });
  await aws.idle();
  const table = (aws.secretsManager as unknown as { secrets: SecretTable<Secret> }).secrets;
  const template = table.find(ARN as string)!;
  const members = [{ arn: template.arn, name: template.name }];
  for (let i = 1; i < size; i++) {
    const copy = structuredClone(template);
    copy.name = `bench/${String(i).padStart(6, '0')}`;
    copy.arn = template.arn.replace(template.name, copy.name);
    copy.seq = template.seq + i;
    copy.versions = new Map(
      [...copy.versions.values()].map((v) => {
        const id = randomUUID();
        return [id, { ...v, id }];
      }),
    );
    table.add(copy);
    members.push({ arn: copy.arn, name: copy.name });
  }
  return members;
}

const SWEEP_SCRIPT = fileURLToPath(new URL('./steady-sweep.ts', import.meta.url));

/** One sweep in a child process of its own, against this process's emulator; its result line. */
function sweepInChild(input: SweepChildInput): Promise<SweepChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SWEEP_SCRIPT, JSON.stringify(input)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line)
        reject(new Error(`the sweep process exited ${code} without a result`));
      else resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as SweepChildResult);
    });
  });
}

async function benchSize(size: number, runs: number): Promise<Row> {
  const aws = await startLocalAws({ clock: '2026-03-02T10:00:00Z' });
  try {
    const suite = await installSuite(aws);
    // A stand-in rotation function: attaching runs Secrets Manager's testSecret, which costs
    // nothing to measure here.
    const rotationFunctionArn = aws.functions.register('bench-rotation', async () => undefined);
    const setupStarted = performance.now();
    const members = await createAttached(aws, size, rotationFunctionArn);
    await aws.idle();
    aws.events.delivered.length = 0; // setup's CloudTrail events: not the sweep's memory
    // The managed set, as attaching would have left it.
    const batches: (typeof members)[] = [];
    for (let i = 0; i < members.length; i += 25) batches.push(members.slice(i, i + 25));
    const writeBatch = async (batch: typeof members) => {
      let items: Record<string, unknown>[] = batch.map((m) => ({
        PutRequest: {
          Item: {
            [AUDIT_TABLE.partitionKey]: MANAGED_PK,
            [AUDIT_TABLE.sortKey]: m.arn,
            name: m.name,
          },
        },
      }));
      while (items.length > 0) {
        const out = await suite.dynamo.send(
          new BatchWriteCommand({ RequestItems: { [suite.tableName]: items as never } }),
        );
        items = (out.UnprocessedItems?.[suite.tableName] ?? []) as Record<string, unknown>[];
      }
    };
    for (let i = 0; i < batches.length; i += 8)
      await Promise.all(batches.slice(i, i + 8).map(writeBatch));
    const setupMs = performance.now() - setupStarted;
    await aws.clock.advance(HOUR_MS); // tokens an hour old: a steady-state sweep, nothing due

    const input: SweepChildInput = {
      clientConfig: aws.clientConfig,
      now: aws.clock.now().toISOString(),
      names: {
        stackName: suite.stackName,
        tableName: suite.tableName,
        topicArn: suite.topicArn,
        fingerprintKeySecretArn: suite.fingerprintKeySecretArn,
      },
      rotationFunctionArn,
      lambdaMs: LAMBDA_MS,
    };
    const times: number[] = [];
    let sweepPeakKb = 0;
    let sweepBaseKb = 0;
    let emulatorPeak = 0;
    let invocations = 0;
    let last: SweepChildResult | undefined;
    let listCalls = 0;
    let smCalls = 0;
    for (let run = 0; run < runs; run++) {
      aws.secretsManager.calls.reset();
      global.gc?.();
      // This process holds the emulator, every secret and dynalite; the sweep runs in a child.
      let runPeak = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        runPeak = Math.max(runPeak, process.memoryUsage().rss);
      }, 25);
      last = await sweepInChild(input);
      clearInterval(sampler);
      emulatorPeak = Math.max(emulatorPeak, runPeak, process.memoryUsage().rss);
      times.push(last.wallMs);
      invocations = last.invocations;
      sweepPeakKb = Math.max(sweepPeakKb, last.maxRssKb);
      sweepBaseKb = Math.max(sweepBaseKb, last.rssBeforeKb);
      listCalls = aws.secretsManager.calls.count({ operation: 'ListSecrets' });
      smCalls = aws.secretsManager.calls.records.length;
    }
    const actions = Object.entries(last!.actions)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    if (last!.secrets !== size || last!.failureCount > 0) {
      throw new Error(
        `sweep of ${size} saw ${last!.secrets} secrets with ${last!.failureCount} failures: ${JSON.stringify(last!.failures.slice(0, 3))}`,
      );
    }
    console.error(
      `  ${size}: setup ${Math.round(setupMs / 1000)} s, runs ${times.map((t) => `${Math.round(t)} ms`).join(' ')}`,
    );
    return {
      size,
      runs,
      listPer100: (listCalls / size) * 100,
      callsPer100: (smCalls / size) * 100,
      medianMs: median(times),
      sweepPeakRssMb: mb(sweepPeakKb * 1024),
      sweepBaseRssMb: mb(sweepBaseKb * 1024),
      emulatorPeakRssMb: mb(emulatorPeak),
      invocations,
      actions: actions || 'none',
    };
  } finally {
    await aws.stop();
  }
}

async function main() {
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'steady') await steadyState();
  if (!only || only === 'due') await massDue();
  if (!only || only === 'scan') await scanBench();
  if (!only || only === 'cold') await import('./cold-init.ts');
}

async function steadyState() {
  console.log(
    'Steady-state sweep on the embedded local AWS (real SDK over HTTP, default pacer 40/s), the sweep in a process of its own',
  );
  const rows: Row[] = [];
  for (const { size, runs } of SIZES) rows.push(await benchSize(size, runs));
  const table = [
    [
      'secrets',
      'runs',
      'ListSecrets/100',
      'SM calls/100',
      'wall (median)',
      'sweep process peak RSS',
      '(before sweep)',
      'emulator process peak RSS',
      '15-min invocations',
      'actions',
    ],
    ...rows.map((r) => [
      r.size.toLocaleString('en-US'),
      String(r.runs),
      r.listPer100.toFixed(2),
      r.callsPer100.toFixed(2),
      `${(r.medianMs / 1000).toFixed(1)} s`,
      `${r.sweepPeakRssMb} MB`,
      `${r.sweepBaseRssMb} MB`,
      `${r.emulatorPeakRssMb} MB`,
      String(r.invocations),
      r.actions,
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  console.log(
    'The sweep runs in a child process of its own (steady-sweep.ts, node --import tsx) over the HTTP endpoint of the emulator in this process; wall is the sweep alone (not the child start-up). Sweep process peak RSS is its maxRSS (before sweep: its RSS with node, tsx, the SDK and the deps loaded); emulator process peak RSS is this process (every secret, dynalite, serving the sweep).',
  );
}

/**
 * 1,000 secrets all due at once (BENCH_DUE_RUNS runs, default 1; the median is quoted), then
 * 10,000 with BENCH_DUE_10K=1 (=only: that alone) (minutes of setup and rotations on a small machine). Invocations
 * get a Lambda's budget on real time (BENCH_INVOCATION_S, default 15 minutes less the sweep's
 * safety margin); a smaller one shows the backlog carried from invocation to invocation.
 */
async function massDue() {
  const budgetMs =
    Number(process.env.BENCH_INVOCATION_S ?? 0) * 1000 || LAMBDA_MS - SAFETY_MARGIN_MS;
  // BENCH_DUE_10K=only runs the 10,000 case alone.
  const cases = [
    ...(process.env.BENCH_DUE_10K === 'only'
      ? []
      : [{ size: 1_000, runs: Number(process.env.BENCH_DUE_RUNS ?? 1) }]),
    ...(process.env.BENCH_DUE_10K ? [{ size: 10_000, runs: 1 }] : []),
  ];
  console.log(
    `\nAll due at once: tokens 10 days old under a 7-day lifespan, half never attached (deployed pacer: 40/s per quota, RotateSecret 20/s; ${budgetMs / 1000} s per invocation)`,
  );
  for (const { size, runs } of cases) {
    const results: MassDueRun[] = [];
    for (let run = 0; run < runs; run++) {
      const result = await massDueRun(size, budgetMs);
      console.error(`  ${size} due: run ${run + 1} sweep ${Math.round(result.sweepMs)} ms`);
      results.push(result);
    }
    const r = [...results].sort((a, b) => a.sweepMs - b.sweepMs)[Math.floor(runs / 2)]!;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `${size.toLocaleString('en-US')} due, ${runs} run${runs === 1 ? '' : 's'} (median): sweep ${s(r.sweepMs)} wall, all rotations finished ${s(r.settledMs)}; rotated ${r.rotated}/${size}; failures ${r.failures}; "previous rotation isn't complete" ${r.notComplete}; RotateSecret calls ${r.rotateSecretCalls}; rotations failed ${r.rotationsFailed}`,
    );
    r.invocations.forEach((inv, i) => {
      console.log(
        `  invocation ${i + 1}: ${s(inv.ms)}, ${inv.secrets} secrets swept, backlog after it ${inv.backlog ?? 'not counted'}`,
      );
    });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
