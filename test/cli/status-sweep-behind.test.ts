// `status` says when the sweep is behind: a pass cut off at an invocation's deadline is carried
// on by the next, and until then status names how many secrets it had yet to reach.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoSweepCursorStore } from '#adapters/dynamodb-sweep-cursor';
import { logger } from '#commons/logger';
import { createPacer } from '#domain/pacer';
import { runSweep } from '#domain/sweep/index';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { cli, createTaggedSecret, settleListings, useLocalAwsEnv } from './support.ts';

let aws: LocalAws;
let suite: InstalledSuite;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws();
  suite = await installSuite(aws, { pace: createPacer({ ratePerSecond: 100_000, burst: 1000 }) });
  useLocalAwsEnv(aws);
  for (let i = 0; i < 30; i++) {
    await createTaggedSecret(
      suite.secretsManager,
      `behind/${String(i).padStart(2, '0')}`,
      `acme_live_behind${i}_0123456789abcdef0123456789`,
      { [TAG.lifespan]: '7d' },
    );
  }
  // The sweep lists with ListSecrets, which may leave out what changed in the last minutes.
  await settleListings(aws);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

/** One sweep invocation whose time runs out after `checks` deadline checks (none: never). */
async function invocation(checks = Number.POSITIVE_INFINITY) {
  let left = checks;
  const report = await runSweep(
    { ...suite.sweepDeps, cursor: new DynamoSweepCursorStore(suite.dynamo, suite.tableName) },
    {
      rotationFunctionArn: suite.rotationFunctionArn,
      sweepIntervalMs: suite.sweepIntervalMs,
      deadline: new Date(aws.clock.now().getTime() + 3_600_000),
      outOfTime: () => left-- <= 0,
    },
  );
  await aws.idle();
  return report;
}

describe('status while the sweep is behind', () => {
  it('names the secrets the pass has yet to reach, and says nothing once it caught up', async () => {
    // Act: an invocation cut off after 11 deadline checks: the page, then 10 secrets (fewer
    // when ListSecrets answers with short pages, as it may: each page is a check too).
    const cut = await invocation(11);
    const behind = await cli(aws, 'status', '--quiet');

    // Assess: what it reached and what it has yet to reach are the 30 secrets, none counted twice
    expect(cut).toMatchObject({ complete: false });
    expect(cut.secrets).toBeGreaterThan(0);
    expect(cut.secrets).toBeLessThanOrEqual(10);
    expect(cut.secrets + cut.backlog!).toBe(30);
    expect(behind.code).toBe(0);
    expect(behind.stdout).toContain(
      `The sweep is part-way through a pass started <1m ago, ${cut.backlog} secrets still to reach: its next invocation carries on.`,
    );

    // Act: the next invocation carries on and finishes the pass.
    const rest = await invocation();
    const caughtUp = await cli(aws, 'status', '--quiet');

    // Assess
    expect(rest).toMatchObject({
      complete: true,
      secrets: cut.backlog,
      backlog: 0,
      failureCount: 0,
    });
    expect(caughtUp.stdout).not.toContain('part-way');
  });
});
