// No alert is lost, on the embedded local AWS: every alert is recorded in the audit table's outbox
// before it is published; one SNS did not accept is shown by `status` and delivered by the sweep.
// The single-fault matrix fails each AWS call of the alert path once (error, throttle, timeout
// before the request reached AWS, timeout after AWS carried it out) and checks that the alert
// reaches the topic exactly once in the end and that nothing stays undelivered.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { countUndeliveredAlerts, SnsAlerter } from '#adapters/sns-alerter';
import { logger } from '#commons/logger';
import { createPacer } from '#domain/pacer';
import type { Alert } from '#domain/ports';
import { runSweep } from '#domain/sweep/index';
import { createRevokeHandler } from '#handlers/revoke';
import { cli, createTaggedSecret, useLocalAwsEnv } from '../cli/support.ts';
import {
  FAULT_KINDS,
  type FaultInjector,
  type FaultRule,
  injectFaults,
} from './support/sdk-faults.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

await needsSessions(
  import.meta.url,
  'a movable clock (a lease expires in simulated minutes) and what SNS published (what was delivered is read back from it)',
);

logger.setLogLevel('CRITICAL');

interface World {
  aws: Session;
  suite: SuiteAt;
  /** The alerter as deployed, over its own clients, which carry the faults. */
  alerter: SnsAlerter;
  faults: FaultInjector;
  /** One sweep with this alerter. */
  sweep(): Promise<Awaited<ReturnType<typeof runSweep>>>;
  undelivered(): Promise<number>;
  publishedAbout(secretName: string): Promise<string[]>;
}

let world: World | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await world?.aws.stop();
  world = undefined;
});

async function start(): Promise<World> {
  const aws = await openSession({ clock: '2026-03-02T09:00:00.000Z' });
  const suite = aws.suite;
  const sns = new SNSClient(aws.clientConfig);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(aws.clientConfig), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const faults = injectFaults(sns, dynamo);
  const alerter = new SnsAlerter({
    sns,
    topicArn: suite.topicArn,
    dynamo,
    tableName: suite.tableName,
    region: aws.region,
    stackName: suite.stackName,
    clock: aws.clock.now,
    sleep: async () => {},
  });
  const sweep = () =>
    runSweep(
      { ...suite.sweepDeps, alerter, pace: createPacer({ ratePerSecond: 100_000, burst: 1000 }) },
      {
        rotationFunctionArn: suite.rotationFunctionArn,
        sweepIntervalMs: suite.sweepIntervalMs,
        deadline: new Date(8.64e15),
      },
    );
  world = {
    aws,
    suite,
    alerter,
    faults,
    sweep,
    undelivered: () => countUndeliveredAlerts(suite.dynamo, suite.tableName),
    publishedAbout: async (name) =>
      (await aws.published(suite.topicArn))
        .filter((m) => m.attributes.secret?.StringValue === name)
        .map((m) => m.message),
  };
  return world;
}

/** A Publish that fails on every try of one send (the alerter tries three times). */
const snsDown: FaultRule = { command: 'PublishCommand', kind: 'error', times: 3 };

describe('an alert SNS did not accept', () => {
  it('is shown by status and delivered by the next sweep: a completed revoke is never silent', async () => {
    // Prepare
    const { aws, suite, alerter, faults, sweep, undelivered, publishedAbout } = await start();
    const name = 'payments/outbox-revoke';
    const arn = await createTaggedSecret(
      suite.secretsManager,
      name,
      JSON.stringify({ token: `acme_live_${'k'.repeat(43)}` }),
      { 'token-rotation:lifespan': '7d' },
    );
    const revoke = createRevokeHandler({ ...suite.revokeDeps, alerter });
    faults.fail(snsDown);

    // Act: the revoke completes while SNS refuses every publish.
    const outcome = await revoke({ secretId: arn, reason: 'pasted in a public channel' });

    // Assess: revoked, the alert recorded as undelivered, and status says so.
    expect(outcome).toMatchObject({ status: 'completed', alert: 'queued' });
    expect(await publishedAbout(name)).toEqual([]);
    expect(await undelivered()).toBe(1);
    useLocalAwsEnv(aws);
    const status = await cli(aws, 'status', '--quiet');
    expect(status.stdout).toContain('1 alert recorded but not yet delivered');

    // Act: SNS is back; the next sweep runs.
    const report = await sweep();

    // Assess: delivered once, nothing left undelivered, status quiet about it.
    expect(report.pendingAlerts).toEqual({ found: 1, delivered: 1, failed: 0 });
    const published = await publishedAbout(name);
    expect(published).toHaveLength(1);
    expect(published[0]).toContain('revoke.completed');
    expect(await undelivered()).toBe(0);
    expect((await cli(aws, 'status', '--quiet')).stdout).not.toContain('not yet delivered');
    await sweep();
    expect(await publishedAbout(name)).toHaveLength(1);
  });

  it('is not swallowed by de-duplication: a retry of the incident finds it pending and it is still delivered', async () => {
    // Prepare
    const { alerter, faults, sweep, undelivered, publishedAbout } = await start();
    const alert = rotationFailed('payments/outbox-dedup');
    faults.fail(snsDown);
    expect(await alerter.send(alert)).toBe('queued');

    // Act: Secrets Manager retries the failed rotation (same incident), then the sweep runs.
    const retry = await alerter.send(alert);
    await sweep();

    // Assess
    expect(retry).toBe('duplicate');
    expect(await publishedAbout(alert.secretName)).toHaveLength(1);
    expect(await undelivered()).toBe(0);
  });

  it('still goes out when the audit table is unavailable, and the gap is counted', async () => {
    // Prepare
    const { alerter, faults, undelivered, publishedAbout } = await start();
    const alert = rotationFailed('payments/outbox-no-table');
    faults.fail({ command: 'PutItemCommand', kind: 'error', times: 3 });

    // Act
    const outcome = await alerter.send(alert);

    // Assess
    expect(outcome).toBe('sent');
    expect(await publishedAbout(alert.secretName)).toHaveLength(1);
    expect(alerter.unrecorded).toBe(1);
    expect(await undelivered()).toBe(0);
  });
});

function rotationFailed(secretName: string): Alert {
  return {
    event: 'rotation.failed',
    severity: 'high',
    secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretName}-AbCdEf`,
    secretName,
    incident: '11111111-2222-4333-8444-555555555555',
    summary: `Rotation of ${secretName} failed at testSecret`,
    reason: 'the issuer refused the new key (HTTP 401)',
    versionId: '11111111-2222-4333-8444-555555555555',
    nextSteps: ['Check the issuer.'],
  };
}

// ---- the single-fault matrix of alert delivery ----

const input = (i: Record<string, unknown>, name: string) =>
  (i.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[name] !== undefined;

/**
 * Every AWS call of the alert path, by where it happens. `send` calls are the first delivery;
 * `sweep` calls deliver an alert that is already pending (its first publish failed: snsDown).
 */
const FAULT_POINTS: { point: string; stage: 'send' | 'sweep'; rule: Omit<FaultRule, 'kind'> }[] = [
  { point: 'outbox write (PutItem)', stage: 'send', rule: { command: 'PutItemCommand' } },
  { point: 'publish (SNS Publish)', stage: 'send', rule: { command: 'PublishCommand' } },
  {
    point: 'mark sent (UpdateItem)',
    stage: 'send',
    rule: { command: 'UpdateItemCommand', when: (i) => input(i, ':sent') },
  },
  {
    point: 'hand back after failed publish (UpdateItem)',
    stage: 'send',
    rule: { command: 'UpdateItemCommand', when: (i) => input(i, ':one') },
  },
  {
    point: 'sweep: find pending (Query)',
    stage: 'sweep',
    rule: { command: 'QueryCommand', when: (i) => i.IndexName !== undefined },
  },
  {
    point: 'sweep: take lease (UpdateItem)',
    stage: 'sweep',
    rule: { command: 'UpdateItemCommand', when: (i) => input(i, ':until') },
  },
  { point: 'sweep: publish (SNS Publish)', stage: 'sweep', rule: { command: 'PublishCommand' } },
  {
    point: 'sweep: mark sent (UpdateItem)',
    stage: 'sweep',
    rule: { command: 'UpdateItemCommand', when: (i) => input(i, ':sent') },
  },
];

const SCENARIOS = FAULT_POINTS.flatMap((p) => FAULT_KINDS.map((kind) => ({ ...p, kind })));

describe('single-fault matrix of alert delivery', () => {
  it.each(SCENARIOS)(
    '$point fails once ($kind): delivered in the end, nothing left pending',
    async ({ point, stage, rule, kind }) => {
      // Prepare
      const { alerter, faults, sweep, undelivered, publishedAbout } = await start();
      const alert = rotationFailed(
        `payments/matrix-${SCENARIOS.findIndex((s) => s.point === point && s.kind === kind)}`,
      );
      if (point.startsWith('hand back')) {
        // The hand-back only runs after a publish failed for good.
        faults.fail(snsDown);
        faults.fail({ ...rule, kind });
      } else if (stage === 'sweep') {
        faults.fail(snsDown);
        expect(await alerter.send(alert)).toBe('queued');
        faults.fail({ ...rule, kind });
      } else {
        faults.fail({ ...rule, kind });
      }

      // Act: the first delivery (where it is the one under test), then up to three sweeps. A lease
      // taken by a call whose answer was lost runs out after its 16 minutes.
      if (stage === 'send') await alerter.send(alert);
      for (let i = 0; i < 3 && (await undelivered()) > 0; i++) {
        await world!.aws.clock.advance(17 * 60_000);
        await sweep();
      }

      // Assess
      expect(faults.fired).toContain(`${rule.command}:${kind}`);
      expect(await undelivered()).toBe(0);
      const copies = (await publishedAbout(alert.secretName)).length;
      // SNS Publish has no idempotency key: a publish carried out whose answer was lost is sent again.
      const atLeastOnce = rule.command === 'PublishCommand' && kind === 'timeout-after';
      expect(copies).toBe(atLeastOnce ? 2 : 1);
    },
  );
});
