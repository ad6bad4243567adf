// Environment isolation in a local AWS session (embedded, or behind AWS_ENDPOINT_URL; the sweep
// runs here over clients at that endpoint, on the session's clock; the rotations it asks for run
// in the endpoint) (SPEC "Environment isolation"): the sweep indexes
// every token it sees under its keyed fingerprint, catches one token held by two secrets (the
// common case: copied by hand before both were opted in), alerts once per pair, and with
// `token-rotation:isolation=enforce` rotates the less trusted copy; a revoke is recorded in the
// index; and no form of a token reaches the table, a log line (here, or of any of the suite's
// functions in the endpoint, read back through CloudWatch Logs) or an alert.
import { DescribeSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUDIT_TABLE, fingerprintPk } from '#adapters/audit-table';
import { indexedToken } from '#adapters/dynamodb-token-index';
import { keyedFingerprint } from '#domain/keyed-fingerprint';
import { HOUR_MS } from '#domain/policy';
import { scheduleFor } from '#domain/schedule';
import { randomBase62 } from '#domain/tokens';
import { TAG } from '#domain/vocabulary';
import { attachRotation, createTaggedSecret, sweepOnce } from '../cli/support.ts';
import { settleListings } from '../support/settle-listings.ts';
import { captureLogLines, expectNoForm } from './support/canary.ts';
import { functionLogLines } from './support/function-logs.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

const skipped = await needsSessions(
  import.meta.url,
  "a movable clock, what SNS published and the suite's functions' log lines (CloudWatch Logs FilterLogEvents)",
);

const WEEK_MS = 7 * 24 * HOUR_MS;
let aws: Session;
let suite: SuiteAt;
const logLines: string[] = [];
/** Every token planted in a secret by these tests. */
const planted: string[] = [];

const token = () => {
  const t = `isol_${randomBase62(49)}`;
  planted.push(t);
  return t;
};

beforeAll(async () => {
  if (skipped) return;
  // Before the session: embedded, the endpoint's own filing of its functions' lines then passes
  // them on to this capture too.
  captureLogLines(logLines);
  aws = await openSession({ clock: '2026-06-01T09:00:00Z' }, { stackName: 'Isolation' });
  suite = aws.suite;
});

afterAll(async () => {
  vi.restoreAllMocks();
  await aws?.stop();
});

const tags = (environment: string, extra: Record<string, string> = {}) => ({
  [TAG.lifespan]: '7d',
  [TAG.environment]: environment,
  ...extra,
});

/** Creates a secret with rotation already attached (no rotation now), as one opted in a while ago. */
async function optedIn(name: string, value: string, t: Record<string, string>): Promise<string> {
  const arn = await createTaggedSecret(suite.secretsManager, name, value, t);
  await attachRotation(suite, arn, WEEK_MS, false);
  await aws.idle();
  return arn;
}

async function key(): Promise<string> {
  return (await suite.store.getValue(suite.fingerprintKeySecretArn))!;
}

async function holders(value: string) {
  const fp = keyedFingerprint(await key(), value);
  const out = await suite.dynamo.send(
    new QueryCommand({
      TableName: suite.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': fingerprintPk(fp) },
    }),
  );
  return (out.Items ?? []).map((item) => ({ item, token: indexedToken(item)! }));
}

const sharedAlerts = async () =>
  (await aws.published(suite.topicArn)).filter(
    (m) => m.attributes.event?.StringValue === 'token.shared',
  );

async function current(arn: string): Promise<string> {
  const out = await suite.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
  return Object.entries(out.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))![0];
}

async function history(arn: string) {
  return suite.audit.history(arn);
}

describe('a token copied by hand from staging into prod before both were opted in', () => {
  it('is indexed under both secrets, audited token.shared and alerted once, critical, naming both and their environments', async () => {
    if (skipped) return;
    // Prepare: one value in two secrets, then both opted in.
    const value = token();
    const staging = await optedIn('staging/payments/api-key', value, tags('staging'));
    const prod = await optedIn('prod/payments/api-key', value, tags('prod'));
    const alertsBefore = (await sharedAlerts()).length;

    // Act
    const report = await sweepOnce(aws, suite);

    // Assess: both versions indexed under the one fingerprint, with their environments.
    expect(report.failures).toEqual([]);
    const found = await holders(value);
    expect(
      found.map((h) => [h.token.secretArn, h.token.environment, h.token.stages]).sort(),
    ).toEqual(
      [
        [prod, 'prod', ['AWSCURRENT']],
        [staging, 'staging', ['AWSCURRENT']],
      ].sort(),
    );
    for (const { item } of found) {
      expect(item.day).toBeUndefined();
      expect(item.event).toBeUndefined();
    }
    const alerts = (await sharedAlerts()).slice(alertsBefore);
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert.subject).toMatch(/^\[CRITICAL\] token\.shared: /);
    expect(alert.message).toContain('staging/payments/api-key (staging)');
    expect(alert.message).toContain('prod/payments/api-key (prod)');
    expect(alert.message).toMatch(/Rotate one of them now/);
    const records = [...(await history(staging)), ...(await history(prod))].filter(
      (r) => r.event === 'token.shared',
    );
    expect(records).toHaveLength(1);
    expect(records[0]!.detail).toMatchObject({ enforce: false });
    // Alert only: neither copy was rotated.
    expect(report.isolation).toMatchObject({ shared: 1, rotated: 0 });

    // Act again: a later sweep sends nothing more for the same pair.
    await aws.clock.advance(15 * 60_000);
    await sweepOnce(aws, suite);
    expect((await sharedAlerts()).slice(alertsBefore)).toHaveLength(1);
  });

  it('with token-rotation:isolation=enforce rotates the staging copy at once and leaves prod alone', async () => {
    if (skipped) return;
    // Prepare
    const value = token();
    const staging = await optedIn('staging/orders/api-key', value, tags('staging'));
    const prod = await optedIn(
      'prod/orders/api-key',
      value,
      tags('prod', { [TAG.isolation]: 'enforce' }),
    );
    const before = { staging: await current(staging), prod: await current(prod) };
    // ListSecrets shows what was just created or changed only once settled, as on AWS.
    await settleListings(aws);

    // Act
    const report = await sweepOnce(aws, suite);

    // Assess: the lower environment's copy holds a new token; prod still holds the shared one.
    expect(report.failures).toEqual([]);
    expect(report.isolation?.rotated).toBe(1);
    expect(await current(staging)).not.toBe(before.staging);
    expect(await current(prod)).toBe(before.prod);
    expect(await suite.store.getValue(staging)).not.toContain(value);
    expect(await suite.store.getValue(prod)).toBe(value);
    const requested = (await history(staging)).filter((r) => r.event === 'rotation.requested');
    expect(requested.map((r) => [r.outcome, r.detail?.reason])).toEqual([
      ['succeeded', 'token.shared'],
    ]);
    expect((await history(prod)).some((r) => r.event === 'rotation.requested')).toBe(false);
  });
});

describe('the token index', () => {
  it('records a revoke: the previous token revoked after grace carries revokedAt', async () => {
    if (skipped) return;
    // Prepare: indexed, rotated, the new token indexed, then grace (1h) runs out.
    const value = token();
    const arn = await optedIn('ci/build/api-key', value, tags('ci', { [TAG.grace]: '1h' }));
    await settleListings(aws);
    await sweepOnce(aws, suite);
    const first = (await holders(value))[0]!.token;
    expect(first.revokedAt).toBeUndefined();
    await aws.clock.advance(10 * 60_000);
    const schedule = scheduleFor(WEEK_MS);
    await suite.secretsManager.send(
      new RotateSecretCommand({
        SecretId: arn,
        RotationLambdaARN: suite.rotationFunctionArn,
        RotationRules: {
          ScheduleExpression: schedule.scheduleExpression,
          Duration: schedule.duration,
        },
        RotateImmediately: true,
      }),
    );
    await aws.idle();
    await settleListings(aws);
    await sweepOnce(aws, suite);
    expect((await holders(value))[0]!.token.stages).toEqual(['AWSPREVIOUS']);
    await aws.clock.advance(2 * HOUR_MS);

    // Act
    const report = await sweepOnce(aws, suite);

    // Assess
    expect(report.failures).toEqual([]);
    expect((await history(arn)).filter((r) => r.event === 'previous.revoked')).toHaveLength(1);
    const [held] = await holders(value);
    expect(held!.token.revokedAt).toBe(aws.clock.now().toISOString());
    // First seen is kept; last seen moved when the sweep saw the version become AWSPREVIOUS.
    expect(held!.token.firstSeen).toBe(first.firstSeen);
    expect(held!.token.lastSeen > first.lastSeen).toBe(true);
  });

  it('holds no form of any planted token in any item of the table, any log line or any alert', async () => {
    if (skipped) return;
    expect(planted.length).toBeGreaterThanOrEqual(3);
    const items: unknown[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await suite.dynamo.send(
        new ScanCommand({ TableName: suite.tableName, ...(start && { ExclusiveStartKey: start }) }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const indexItems = items.filter((i) => String((i as { pk: string }).pk).startsWith('FP#'));
    expect(indexItems.length).toBeGreaterThanOrEqual(planted.length);
    const alerts = (await aws.published(suite.topicArn)).map((m) => JSON.stringify(m));
    // The lines of the suite's functions that ran in the endpoint (the rotations the tests and the
    // sweep asked for), as CloudWatch Logs holds them.
    const endpointLines: string[] = [];
    for (const fn of Object.values(suite.functions)) {
      endpointLines.push(...(await functionLogLines(aws, fn)));
    }
    expect(
      (await functionLogLines(aws, suite.functions.rotation)).length,
      'the rotation function logged in the endpoint',
    ).toBeGreaterThan(0);
    const lines = [...logLines, ...endpointLines];
    expectNoForm(JSON.stringify(items), planted);
    expectNoForm(lines.join('\n'), planted);
    expectNoForm(alerts.join('\n'), planted);
    // Nor the fingerprint key, which would make every fingerprint reversible by guessing.
    expectNoForm([JSON.stringify(items), ...lines, ...alerts].join('\n'), [await key()]);
  });
});
