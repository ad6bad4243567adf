import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';
import { referenceRotation } from './reference-rotation.ts';
import { nextWindow, parseRules } from './rotation-schedule.ts';

const at = (iso: string) => new Date(iso);
const window = (rules: Parameters<typeof nextWindow>[0], base: string) => {
  const w = nextWindow(rules, at(base));
  return [w.start.toISOString(), w.end.toISOString()];
};

describe('rotation windows', () => {
  it('opens rate(N days) windows at midnight N days after the last rotation, closing at the end of the day', () => {
    expect(window({ ScheduleExpression: 'rate(1 days)' }, '2025-03-10T05:00:00Z')).toEqual([
      '2025-03-11T00:00:00.000Z',
      '2025-03-12T00:00:00.000Z',
    ]);
    expect(window({ AutomaticallyAfterDays: 7, Duration: '3h' }, '2025-03-10T23:30:00Z')).toEqual([
      '2025-03-17T00:00:00.000Z',
      '2025-03-17T03:00:00.000Z',
    ]);
  });

  it('opens rate(N hours) windows on a grid from midnight, one hour long, restarting each day', () => {
    expect(window({ ScheduleExpression: 'rate(4 hours)' }, '2025-03-10T05:00:00Z')).toEqual([
      '2025-03-10T08:00:00.000Z',
      '2025-03-10T09:00:00.000Z',
    ]);
    expect(window({ ScheduleExpression: 'rate(5 hours)' }, '2025-03-10T21:00:00Z')).toEqual([
      '2025-03-11T00:00:00.000Z',
      '2025-03-11T01:00:00.000Z',
    ]);
  });

  it('opens cron() windows at the matching hour: all day for daily schedules, one hour for several a day', () => {
    expect(window({ ScheduleExpression: 'cron(0 10 * * ? *)' }, '2025-03-10T10:30:00Z')).toEqual([
      '2025-03-11T10:00:00.000Z',
      '2025-03-12T00:00:00.000Z',
    ]);
    // 2025-03-14 is a Friday: the next weekday window is Monday morning.
    expect(
      window({ ScheduleExpression: 'cron(0 8,16 ? * MON-FRI *)' }, '2025-03-14T16:30:00Z'),
    ).toEqual(['2025-03-17T08:00:00.000Z', '2025-03-17T09:00:00.000Z']);
    expect(window({ ScheduleExpression: 'cron(0 0 ? * SUN#1 *)' }, '2025-03-10T00:00:00Z')[0]).toBe(
      '2025-04-06T00:00:00.000Z',
    );
    expect(window({ ScheduleExpression: 'cron(0 17 L * ? *)' }, '2025-02-10T00:00:00Z')[0]).toBe(
      '2025-02-28T17:00:00.000Z',
    );
  });

  it.each([
    ['rate(3 hours)'],
    ['rate(0 days)'],
    ['cron(5 10 * * ? *)'],
    ['cron(0 0/2 * * ? *)'],
    ['cron(0 10 * * ? 2025)'],
    ['cron(0 10 * * MON *)'],
    ['every day'],
  ])('fails the schedule %s', (expression) => {
    expect(() => parseRules({ ScheduleExpression: expression })).toThrow(
      expect.objectContaining({ type: 'InvalidParameterException' }),
    );
  });

  it('fails windows that cross midnight or reach the next window', () => {
    expect(() => parseRules({ ScheduleExpression: 'cron(0 22 * * ? *)', Duration: '3h' })).toThrow(
      /next UTC day/,
    );
    expect(() => parseRules({ ScheduleExpression: 'rate(4 hours)', Duration: '5h' })).toThrow(
      /overlap/,
    );
    expect(() => parseRules({ ScheduleExpression: 'rate(1 days)', Duration: '25h' })).toThrow(
      /1h to 24h/,
    );
  });
});

describe('scheduled rotations on the local clock', () => {
  let aws: LocalAws;
  afterEach(() => aws.stop());

  async function rotatingSecret(point: 'start' | 'end') {
    aws = await startLocalAws({
      clock: '2025-03-10T05:00:00Z',
      secretsManager: { rotationWindowPoint: point },
    });
    const sm = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 });
    const rotation = referenceRotation(sm);
    const fn = aws.functions.register('rotate', rotation.handler);
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v0' }));
    await sm.send(
      new RotateSecretCommand({
        SecretId: 's',
        RotationLambdaARN: fn,
        RotationRules: { ScheduleExpression: 'rate(1 days)' },
      }),
    );
    await aws.idle();
    return { sm, rotation };
  }

  const rotatedAt = () => aws.events.named('RotationSucceeded').map((e) => e.time);

  it('rotates at the end of each window by default, while the clock moves across days', async () => {
    const { sm } = await rotatingSecret('end');

    await aws.clock.advance(3 * 86_400_000);

    expect(rotatedAt()).toEqual([
      '2025-03-10T05:00:00Z',
      '2025-03-11T23:59:59Z',
      '2025-03-12T23:59:59Z',
    ]);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    expect(described.LastRotatedDate).toEqual(at('2025-03-12T23:59:59.999Z'));
    expect(described.NextRotationDate).toEqual(at('2025-03-14T00:00:00Z'));
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 's' }));
    const current = versions.Versions?.find((v) => v.VersionStages?.includes('AWSCURRENT'));
    expect(current?.CreatedDate).toEqual(at('2025-03-12T23:59:59.999Z'));
  });

  it('rotates as each window opens when set to start', async () => {
    await rotatingSecret('start');

    await aws.clock.advance(3 * 86_400_000);

    expect(rotatedAt()).toEqual([
      '2025-03-10T05:00:00Z',
      '2025-03-11T00:00:00Z',
      '2025-03-12T00:00:00Z',
      '2025-03-13T00:00:00Z',
    ]);
  });

  it('does not rotate before the window point is reached', async () => {
    await rotatingSecret('end');

    await aws.clock.advance(42 * 3_600_000); // to 2025-03-11T23:00

    expect(rotatedAt()).toEqual(['2025-03-10T05:00:00Z']);
  });

  it('reattempts a failed scheduled rotation with the same token at the next window', async () => {
    const { rotation } = await rotatingSecret('end');
    rotation.failNext('testSecret', 3);

    await aws.clock.advance(3 * 86_400_000);

    expect(aws.events.named('RotationFailed').map((e) => e.time)).toEqual(['2025-03-11T23:59:59Z']);
    expect(rotatedAt()).toEqual(['2025-03-10T05:00:00Z', '2025-03-12T23:59:59Z']);
    const scheduled = aws.secretsManager.rotations.filter((r) => r.trigger === 'schedule');
    expect(scheduled.map((r) => r.outcome)).toEqual(['failed', 'succeeded']);
    expect(scheduled[1]?.token).toBe(scheduled[0]?.token);
  });
});
