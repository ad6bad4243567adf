// The stack's lifespan ceiling (maxLifespan) on the embedded local AWS: a tag asking for longer
// is an invalid policy, alerted once and never attached; a stack that raises the ceiling accepts
// it; the operator CLI's status judges the tag as the stack's functions do.
import { DescribeSecretCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { TAG } from '#domain/vocabulary';
import { cli, createTaggedSecret, settleListings, useLocalAwsEnv } from '../cli/support.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

await needsSessions(
  import.meta.url,
  'a movable clock (sweeps an interval apart in seconds) and what SNS published',
);

logger.setLogLevel('SILENT');

const NAME = 'team/quarterly-key';
const CANARY = 'acme_live_CeilingCanaryTokenNeverShown0123456789abcdef';

let aws: Session | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
  aws = undefined;
});

async function optIn(suite: SuiteAt, local: Session, lifespan: string) {
  const arn = await createTaggedSecret(
    suite.secretsManager,
    NAME,
    JSON.stringify({ token: CANARY }),
    {},
  );
  await suite.secretsManager.send(
    new TagResourceCommand({ SecretId: NAME, Tags: [{ Key: TAG.lifespan, Value: lifespan }] }),
  );
  for (let i = 0; i < 3; i++) await local.idle();
  return arn;
}

const described = (suite: SuiteAt) =>
  suite.secretsManager.send(new DescribeSecretCommand({ SecretId: NAME }));

describe('the lifespan ceiling', () => {
  it('refuses a 45d lifespan under the default ceiling: policy.invalid, one alert, nothing attached', async () => {
    // Prepare
    aws = await openSession({ clock: '2026-03-02T09:00:00Z' }, { triggers: true });
    const suite = aws.suite;

    // Act: the tag event, then three sweeps
    const arn = await optIn(suite, aws, '45d');
    await aws.clock.advance(46 * 60_000);

    // Assess
    expect((await described(suite)).RotationEnabled).toBeFalsy();
    const invalid = (await suite.audit.history(arn)).filter((r) => r.event === 'policy.invalid');
    expect(invalid.length).toBeGreaterThanOrEqual(1);
    expect(String(invalid[0]?.detail?.problems)).toContain(
      "longer than the stack's maxLifespan (30d)",
    );
    const alerts = await aws.published(suite.topicArn);
    expect(alerts.map((m) => m.subject)).toEqual([`[WARNING] policy.invalid: ${NAME}`]);
    expect(alerts[0]?.message).toContain('maxLifespan');
    expect(JSON.stringify(alerts)).not.toContain(CANARY);
  });

  it('accepts the same 45d lifespan when the stack sets maxLifespan to 60d', async () => {
    // Prepare
    aws = await openSession(
      { clock: '2026-03-02T09:00:00Z' },
      { triggers: true, maxLifespanHours: 60 * 24 },
    );
    const suite = aws.suite;

    // Act
    const arn = await optIn(suite, aws, '45d');

    // Assess
    const secret = await described(suite);
    expect(secret.RotationEnabled).toBe(true);
    expect(secret.RotationLambdaARN).toBe(suite.functions.rotation);
    const events = (await suite.audit.history(arn)).map((r) => r.event);
    expect(events).toContain('rotation.attached');
    expect(events).not.toContain('policy.invalid');
    expect(await aws.published(suite.topicArn)).toEqual([]);
  });

  it('keeps the previous valid policy when a 7d secret is retagged 45d: one alert, schedule unchanged', async () => {
    // Prepare: opted in at 7d, attached
    aws = await openSession({ clock: '2026-03-02T09:00:00Z' }, { triggers: true });
    const suite = aws.suite;
    const arn = await optIn(suite, aws, '7d');
    const before = await described(suite);
    expect(before.RotationEnabled).toBe(true);

    // Act: the tag raised past the ceiling, then four sweeps
    await suite.secretsManager.send(
      new TagResourceCommand({ SecretId: NAME, Tags: [{ Key: TAG.lifespan, Value: '45d' }] }),
    );
    for (let i = 0; i < 3; i++) await aws.idle();
    await aws.clock.advance(61 * 60_000);
    const alerts = await aws.published(suite.topicArn);

    // Assess
    const after = await described(suite);
    expect(after.RotationEnabled).toBe(true);
    expect(after.RotationRules).toEqual(before.RotationRules);
    expect(after.RotationLambdaARN).toBe(before.RotationLambdaARN);
    expect(alerts.map((m) => m.subject)).toEqual([`[WARNING] policy.invalid: ${NAME}`]);
    const events = (await suite.audit.history(arn)).map((r) => r.event);
    expect(events.filter((e) => e === 'policy.invalid')).toHaveLength(1);
    expect(events.filter((e) => e === 'rotation.updated')).toEqual([]);
    expect(JSON.stringify(alerts)).not.toContain(CANARY);
  });

  it("judges the tag in status as the stack's functions do, from the stack's output", async () => {
    // Prepare
    aws = await openSession({ clock: '2026-03-02T09:00:00Z' });
    const suite = aws.suite;
    useLocalAwsEnv(aws);
    await createTaggedSecret(suite.secretsManager, NAME, JSON.stringify({ token: CANARY }), {
      [TAG.lifespan]: '45d',
    });
    // Status lists with ListSecrets, which may leave out what changed in the last minutes.
    await settleListings(aws);

    // Act
    const refused = await cli(aws, 'status', '--format', 'json');
    await aws.putStackOutputs(suite.stackName, { MaxLifespanHours: String(60 * 24) });
    const accepted = await cli(aws, 'status', '--format', 'json');

    // Assess
    const [row] = JSON.parse(refused.stdout);
    expect(row.policyValid).toBe(false);
    expect(row.problems.join(' ')).toContain("longer than the stack's maxLifespan (30d)");
    expect(JSON.parse(accepted.stdout)[0].policyValid).toBe(true);
    expect(refused.stdout + accepted.stdout).not.toContain(CANARY);
  });
});
