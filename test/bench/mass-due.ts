// The day everything is due (issue 16): `size` opted-in secrets, every token ten days old under a
// 7-day lifespan, half never attached and half attached on schedule, swept by the real sweep with
// the deployed pacer (40 calls a second per Secrets Manager quota, RotateSecret 20) and its
// default concurrency, rotated by the suite's own rotation function, all on the embedded local AWS
// through the real SDK and HTTP. Invocations run on real time with a Lambda's budget; the
// pass carries on across them as deployed. Measures the sweep's wall time, the time until every
// rotation it started has finished, failures, and RotateSecret refusals ("A previous rotation
// isn't complete"), and checks every token was replaced.
import { randomUUID } from 'node:crypto';
import { DynamoManagedSet } from '#adapters/dynamodb-managed-set';
import { DynamoSweepCursorStore } from '#adapters/dynamodb-sweep-cursor';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { createPacer } from '#domain/pacer';
import { HOUR_MS } from '#domain/policy';
import { scheduleFor } from '#domain/schedule';
import { runSweep } from '#domain/sweep/index';
import { TAG } from '#domain/vocabulary';
import { startLocalAws } from '#local-aws/index';
import type { SecretTable } from '#local-aws/secret-table';
import type { Secret } from '#local-aws/secrets-manager-model';
import { installSuite } from '#local-aws/suite';

const DAY_MS = 24 * HOUR_MS;
const WEEK = scheduleFor(7 * DAY_MS);

export interface Invocation {
  ms: number;
  secrets: number;
  backlog: number | undefined;
  failures: number;
}

export interface MassDueRun {
  size: number;
  invocations: Invocation[];
  /** Wall time of the sweep invocations together. */
  sweepMs: number;
  /** Wall time until the last rotation the sweep started had finished. */
  settledMs: number;
  failures: number;
  notComplete: number;
  rotateSecretCalls: number;
  rotationsFailed: number;
  rotated: number;
}

type Local = Awaited<ReturnType<typeof startLocalAws>>;

/** The emulator's table, reached past its API for bulk setup only (the sweep goes through HTTP). */
const tableOf = (aws: Local) =>
  (aws.secretsManager as unknown as { secrets: SecretTable<Secret> }).secrets;

/**
 * `size` secrets ten days old: copies of two made through the emulator's API, one never attached
 * and one attached with the suite's rotation function on the 7-day schedule. Copies get their
 * own names, version IDs and token values (one token in many secrets would be `token.shared`).
 */
async function createDue(aws: Local, rotationFunctionArn: string, size: number) {
  const sm = aws.secretsManager;
  const make = async (name: string) =>
    (await sm.call('CreateSecret', {
      Name: name,
      SecretString: `acme_live_${name.replace(/\W/g, '')}_0123456789abcdef0123456789`,
      Tags: [{ Key: TAG.lifespan, Value: '7d' }],
    })) as { ARN: string };
  const unattached = await make('due/unattached');
  const attached = await make('due/attached');
  await aws.clock.advance(10 * DAY_MS);
  await sm.call('RotateSecret', {
    SecretId: attached.ARN,
    RotationLambdaARN: rotationFunctionArn,
    RotationRules: { ScheduleExpression: WEEK.scheduleExpression, Duration: WEEK.duration },
    RotateImmediately: false,
  });
  await aws.idle();
  const table = tableOf(aws);
  const templates = [table.find(unattached.ARN)!, table.find(attached.ARN)!];
  const initial = new Map<string, string>();
  const firstSeq = Math.max(...templates.map((t) => t.seq)) + 1;
  for (let i = 0; i < size; i++) {
    const template = templates[i % 2]!;
    const copy = structuredClone(template);
    copy.name = `due/${String(i).padStart(6, '0')}`;
    copy.arn = template.arn.replace(template.name, copy.name);
    copy.seq = firstSeq + i; // (created, seq) orders the listing: unique, as the emulator's own
    copy.versions = new Map(
      [...copy.versions.values()].map((v) => {
        const id = randomUUID();
        const value = v.value && { string: `acme_live_due${i}_${id.replace(/-/g, '')}` };
        return [id, { ...v, id, ...(value && { value }) }];
      }),
    );
    table.add(copy);
    const current = [...copy.versions.values()].find((v) => v.stages.has('AWSCURRENT'))!;
    initial.set(copy.arn, current.id);
  }
  for (const t of templates) table.delete(t);
  return initial;
}

/** One run: set up, sweep invocation after invocation until the pass completes, then check. */
export async function massDueRun(
  size: number,
  invocationBudgetMs: number,
  tune: { concurrency?: number; ratePerSecond?: number } = {},
): Promise<MassDueRun> {
  const aws = await startLocalAws({ clock: '2026-06-01T08:00:00Z' });
  try {
    const suite = await installSuite(aws);
    const initial = await createDue(aws, suite.rotationFunctionArn, size);
    aws.secretsManager.calls.reset();
    aws.secretsManager.rotations.length = 0;
    const catalog = new SecretsManagerCatalog(suite.secretsManager);
    let notComplete = 0;
    const rotate = catalog.rotate.bind(catalog);
    catalog.rotate = async (id, options) => {
      try {
        return await rotate(id, options);
      } catch (error) {
        if (/previous rotation isn.t complete/i.test(String(error))) notComplete++;
        throw error;
      }
    };
    const deps = {
      ...suite.sweepDeps,
      catalog,
      pace: createPacer(tune.ratePerSecond ? { ratePerSecond: tune.ratePerSecond } : {}),
      cursor: new DynamoSweepCursorStore(suite.dynamo, suite.tableName),
      managed: new DynamoManagedSet(suite.dynamo, suite.tableName),
    };
    if (process.env.BENCH_PROBE) probe(deps as unknown as Record<string, object>);
    const invocations: Invocation[] = [];
    const started = performance.now();
    for (let complete = false; !complete && invocations.length < 20; ) {
      const at = performance.now();
      const report = await runSweep(deps, {
        rotationFunctionArn: suite.rotationFunctionArn,
        sweepIntervalMs: 15 * 60_000,
        deadline: new Date(aws.clock.now().getTime() + invocationBudgetMs),
        outOfTime: () => performance.now() - at >= invocationBudgetMs,
        ...(tune.concurrency && { concurrency: tune.concurrency }),
      });
      complete = report.complete;
      invocations.push({
        ms: performance.now() - at,
        secrets: report.secrets,
        backlog: report.backlog,
        failures: report.failureCount,
      });
    }
    const sweepMs = performance.now() - started;
    await aws.idle();
    const settledMs = performance.now() - started;
    const table = tableOf(aws);
    let rotated = 0;
    for (const [arn, before] of initial) {
      const current = [...table.find(arn)!.versions.values()].find((v) =>
        v.stages.has('AWSCURRENT'),
      );
      if (current && current.id !== before) rotated++;
    }
    const rotations = aws.secretsManager.rotations.filter((r) => r.trigger === 'RotateSecret');
    return {
      size,
      invocations,
      sweepMs,
      settledMs,
      failures: invocations.reduce((n, i) => n + i.failures, 0),
      notComplete,
      rotateSecretCalls: aws.secretsManager.calls.count({ operation: 'RotateSecret' }),
      rotationsFailed: rotations.filter((r) => r.outcome !== 'succeeded').length,
      rotated,
    };
  } finally {
    await aws.stop();
  }
}

/** BENCH_PROBE=1: where the sweep's time goes, per port method (total ms and calls). */
function probe(deps: Record<string, object>) {
  const spent = new Map<string, { n: number; ms: number }>();
  for (const port of ['catalog', 'audit', 'alerter', 'store', 'managed', 'cursor']) {
    const target = deps[port] as Record<string, unknown>;
    const proto = Object.getPrototypeOf(target) as Record<string, unknown>;
    for (const name of [...Object.keys(target), ...Object.getOwnPropertyNames(proto)]) {
      const f = target[name];
      if (typeof f !== 'function' || name === 'constructor') continue;
      const record = (at: number) => {
        const e = spent.get(`${port}.${name}`) ?? { n: 0, ms: 0 };
        e.n++;
        e.ms += performance.now() - at;
        spent.set(`${port}.${name}`, e);
      };
      target[name] = (...args: unknown[]) => {
        const at = performance.now();
        const out = (f as (...a: unknown[]) => unknown).apply(target, args);
        if (out instanceof Promise) return out.finally(() => record(at));
        return out;
      };
    }
  }
  process.on('exit', () => {
    for (const [k, v] of spent) console.error(`  ${k}: ${v.n} calls, ${Math.round(v.ms)} ms`);
  });
}
