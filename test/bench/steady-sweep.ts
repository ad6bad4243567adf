// The steady-state sweep in a process of its own (spawned by bench.ts, `node --import tsx`), so
// its peak RSS is the sweep's and not the emulator's. Reads a SweepChildInput as JSON from
// argv[2]: the parent's local AWS endpoint, the installed stack's names and the parent's clock.
// Builds the sweep's dependencies as the deployed handler does (local-aws/suite.ts handlerDeps,
// over that endpoint), runs one sweep (invocation after invocation until complete, as the bench
// always has), and prints one line `SWEEP_RESULT {...}`: wall time, the process's maxRSS, the
// RSS before the sweep (node, tsx, the SDK and the deps, loaded) and the sweep's report.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { logger } from '#commons/logger';
import { runSweep, type SweepReport } from '#domain/sweep/index';
import { SAFETY_MARGIN_MS } from '#handlers/sweep';
import { handlerDeps } from '#local-aws/suite';

export interface SweepChildInput {
  clientConfig: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  now: string;
  names: {
    stackName: string;
    tableName: string;
    topicArn: string;
    fingerprintKeySecretArn: string;
  };
  rotationFunctionArn: string;
  lambdaMs: number;
}

export interface SweepChildResult {
  wallMs: number;
  maxRssKb: number;
  rssBeforeKb: number;
  invocations: number;
  secrets: number;
  failureCount: number;
  failures: unknown[];
  actions: SweepReport['actions'];
}

export const RESULT_PREFIX = 'SWEEP_RESULT ';

async function main() {
  process.removeAllListeners('warning');
  logger.setLogLevel('ERROR');
  const input = JSON.parse(process.argv[2]!) as SweepChildInput;
  const config = input.clientConfig;
  const now = new Date(input.now);
  const clock = { now: () => new Date(now) };
  const secretsManager = new SecretsManagerClient(config);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sns = new SNSClient(config);
  const deps = handlerDeps(
    { clock, region: config.region, clientConfig: config },
    {},
    {
      ...input.names,
      dynamo,
      secretsManager,
      sns,
    },
  );
  const s = deps.sweepDeps;
  global.gc?.();
  const rssBeforeKb = Math.round(process.memoryUsage().rss / 1024);
  const started = performance.now();
  let invocations = 0;
  let last: SweepReport;
  do {
    invocations++;
    const invocationStarted = performance.now();
    const budget = input.lambdaMs - SAFETY_MARGIN_MS;
    // The same dependencies the steady bench has always given the sweep (no isolation index).
    last = await runSweep(
      {
        catalog: s.catalog,
        store: s.store,
        audit: s.audit,
        alerter: s.alerter,
        issuerFor: s.issuerFor,
        clock: clock.now,
        cursor: s.cursor,
        pace: s.pace,
        managed: s.managed,
      },
      {
        rotationFunctionArn: input.rotationFunctionArn,
        sweepIntervalMs: 15 * 60_000,
        deadline: new Date(now.getTime() + budget),
        outOfTime: () => performance.now() - invocationStarted >= budget,
      },
    );
  } while (!last.complete && invocations < 20);
  const wallMs = performance.now() - started;
  const result: SweepChildResult = {
    wallMs,
    maxRssKb: process.resourceUsage().maxRSS,
    rssBeforeKb,
    invocations,
    secrets: last.secrets,
    failureCount: last.failureCount,
    failures: last.failures.slice(0, 3),
    actions: last.actions,
  };
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  process.exit(0);
}

if (process.argv[1]?.endsWith('steady-sweep.ts')) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
