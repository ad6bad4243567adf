// Lifespan enforcement in the deployed stack (issue 4): the sweep, its schedule and alarm, the
// tag-event rule and function, and their least-privilege roles, read from the synthesized template.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  functionOf,
  logicalId,
  roleStatements,
  type Statement,
  statementsFor,
  synthApp,
} from './support.ts';

let template: Template;

/** The schedule whose target is the function `id` (its role `TokenRotation/<id>Role`). */
const scheduleOf = (id: string) => {
  const target = functionOf(template, id).logicalId;
  const found = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter(
    (r) => r.Properties.Target.Arn['Fn::GetAtt']?.[0] === target,
  );
  expect(found).toHaveLength(1);
  return found[0]!;
};

/** The checkpoint writer's allowed actions (deletes, unlocks and lock changes are denied). */
const WRITER_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  's3:GetObject',
  's3:GetObjectRetention',
  's3:GetObjectVersion',
  's3:ListBucket',
  's3:PutObject',
  's3:PutObjectRetention',
  'sns:Publish',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];
beforeAll(() => {
  template = synthApp({ sweepInterval: 10 }).template;
});

const OPTED_IN = { Null: { 'aws:ResourceTag/token-rotation:lifespan': 'false' } };
const rotationArn = () => ({
  'Fn::GetAtt': [functionOf(template, 'Rotation').logicalId, 'Arn'],
});
const revokeArn = () => ({
  'Fn::GetAtt': [functionOf(template, 'Revoke').logicalId, 'Arn'],
});
const secretActions = (statements: Statement[]) =>
  statements.filter((s) => s.Action.some((a) => a.startsWith('secretsmanager:')));

describe('the sweep', () => {
  it('runs one at a time for up to 15 minutes, knowing the rotation function', () => {
    // Act
    const fn = functionOf(template, 'Sweep').props;

    // Assess
    expect(fn.ReservedConcurrentExecutions).toBe(1);
    expect(fn.Timeout).toBe(900);
    expect(fn.Environment.Variables.ROTATION_FUNCTION_ARN).toEqual(rotationArn());
    expect(fn.Environment.Variables.SWEEP_INTERVAL_MINUTES).toBe('10');
  });

  it('is invoked by EventBridge Scheduler every sweep interval, with a retry policy and a role of its own', () => {
    // Act
    const { Properties: schedule } = scheduleOf('Sweep');

    // Assess
    expect(schedule.ScheduleExpression).toBe('rate(10 minutes)');
    expect(schedule.State).toBe('ENABLED');
    expect(schedule.Target.Arn).toEqual({
      'Fn::GetAtt': [functionOf(template, 'Sweep').logicalId, 'Arn'],
    });
    expect(schedule.Target.RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: 600,
      MaximumRetryAttempts: 2,
    });
    expect(schedule.Target.Input).toContain('<aws.scheduler.scheduled-time>');
    const role = logicalId(template, 'AWS::IAM::Role', 'SweepScheduleRole');
    expect(schedule.Target.RoleArn).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    const statements = roleStatements(template, 'SweepSchedule');
    // Invoke the sweep, and dead-letter (through the alert key) the invocations it could not make.
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'lambda:InvokeFunction',
      'sqs:SendMessage',
    ]);
  });

  it('runs the audit anchor on a schedule of its own at the same interval, through a role of its own', () => {
    // Act
    const { Properties: schedule } = scheduleOf('AuditAnchorCheckpointWriter');

    // Assess
    expect(Object.keys(template.findResources('AWS::Scheduler::Schedule'))).toHaveLength(2);
    expect(schedule.ScheduleExpression).toBe('rate(10 minutes)');
    expect(schedule.State).toBe('ENABLED');
    expect(schedule.Target.RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: 600,
      MaximumRetryAttempts: 2,
    });
    expect(schedule.Target.Input).toContain('<aws.scheduler.scheduled-time>');
    const role = logicalId(template, 'AWS::IAM::Role', 'AuditAnchorCheckpointScheduleRole');
    expect(schedule.Target.RoleArn).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    const statements = roleStatements(template, 'AuditAnchorCheckpointSchedule');
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'lambda:InvokeFunction',
      'sqs:SendMessage',
    ]);
  });

  it('leaves the checkpoint to the audit anchor: the sweep has no S3 grant and no bucket', () => {
    // Act
    const sweep = functionOf(template, 'Sweep').props;
    const writer = functionOf(template, 'AuditAnchorCheckpointWriter').props;
    const actions = (id: string) =>
      roleStatements(template, id)
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => s.Action);

    // Assess
    expect(actions('Sweep').filter((a: string) => a.startsWith('s3:'))).toEqual([]);
    expect(actions('Sweep')).not.toContain('dynamodb:BatchGetItem');
    expect(Object.keys(sweep.Environment.Variables)).not.toContain('CHECKPOINT_BUCKET_NAME');
    expect(Object.keys(writer.Environment.Variables)).toContain('CHECKPOINT_BUCKET_NAME');
    expect(writer.ReservedConcurrentExecutions).toBe(1);
    // Least privilege: chain heads, the audit trail's append (alerts are recorded), the alert
    // topic, checkpoint writes (deletes and unlocks denied), its logs and traces.
    expect([...new Set(actions('AuditAnchorCheckpointWriter'))].sort()).toEqual(WRITER_ACTIONS);
    const denied = roleStatements(template, 'AuditAnchorCheckpointWriter')
      .filter((s) => s.Effect === 'Deny')
      .flatMap((s) => s.Action);
    expect(denied).toEqual(expect.arrayContaining(['s3:DeleteObjectVersion', 's3:DeleteObject']));
  });

  it('lists with ListSecrets on "*" only, because ListSecrets cannot be scoped', () => {
    // Act
    const listing = statementsFor(roleStatements(template, 'Sweep'), 'secretsmanager:ListSecrets');

    // Assess
    expect(listing).toHaveLength(1);
    expect(listing[0]!.Action).toEqual(['secretsmanager:ListSecrets']);
    expect(listing[0]!.Resource).toEqual(['*']);
  });

  it('touches tokens and rotates only secrets that carry the lifespan tag, attaching only our function', () => {
    // Act
    const statements = secretActions(roleStatements(template, 'Sweep'));
    const scoped = statements.filter((s) => JSON.stringify(s.Condition ?? {}).includes('Null'));
    const rotate = statementsFor(statements, 'secretsmanager:RotateSecret');

    // Assess
    expect(scoped.flatMap((s) => s.Action).sort()).toEqual([
      'secretsmanager:GetSecretValue',
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:RotateSecret',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    expect(rotate).toHaveLength(1);
    expect(rotate[0]!.Condition).toEqual({
      ...OPTED_IN,
      StringEqualsIfExists: { 'secretsmanager:RotationLambdaARN': rotationArn() },
    });
  });

  it('may describe and detach any secret, and nothing else without the tag', () => {
    // Act
    // The fingerprint key is one named secret (its own statement), not any secret.
    const key = logicalId(template, 'AWS::SecretsManager::Secret', 'FingerprintKeySecret');
    const unscoped = secretActions(roleStatements(template, 'Sweep')).filter(
      (s) =>
        s.Condition === undefined &&
        !s.Action.includes('secretsmanager:ListSecrets') &&
        JSON.stringify(s.Resource) !== JSON.stringify([{ Ref: key }]),
    );

    // Assess
    expect(unscoped.flatMap((s) => s.Action)).toEqual([
      'secretsmanager:CancelRotateSecret',
      'secretsmanager:DescribeSecret',
    ]);
    expect(JSON.stringify(unscoped[0]!.Resource)).toContain(':secret:*');
  });

  it('lets the tag-event function invoke only the rotation function (RotateSecret requires it of the caller)', () => {
    // Act
    const invoke = roleStatements(template, 'TagEvents').filter((s) =>
      s.Action.some((a) => a.startsWith('lambda:')),
    );

    // Assess
    expect(invoke.flatMap((s) => s.Action)).toEqual(['lambda:InvokeFunction']);
    expect(invoke.flatMap((s) => s.Resource)).toEqual([rotationArn()]);
  });

  it('lets the sweep invoke only the rotation function and the revoke function, each exactly', () => {
    // Act
    const invoke = roleStatements(template, 'Sweep').filter((s) =>
      s.Action.some((a) => a.startsWith('lambda:')),
    );

    // Assess
    expect(invoke.flatMap((s) => s.Action)).toEqual([
      'lambda:InvokeFunction',
      'lambda:InvokeFunction',
    ]);
    expect(invoke.flatMap((s) => s.Resource)).toEqual([rotationArn(), revokeArn()]);
    expect(invoke.every((s) => s.Effect === 'Allow' && s.Condition === undefined)).toBe(true);
  });

  it('knows the revoke function, to hand it revoke tags whose event never came', () => {
    // Act
    const variables = functionOf(template, 'Sweep').props.Environment.Variables;

    // Assess
    expect(variables.REVOKE_FUNCTION_ARN).toEqual(revokeArn());
  });

  it('gains none of the revoke function’s own permissions', () => {
    // Act
    const sweep = roleStatements(template, 'Sweep');
    const actions = sweep.flatMap((s) => s.Action);

    // Assess
    expect(actions).not.toContain('secretsmanager:PutSecretValue');
    expect(actions).not.toContain('secretsmanager:TagResource');
    expect(actions).not.toContain('secretsmanager:UntagResource');
    expect(sweep.filter((s) => s.Sid === 'RevokeLockItems')).toEqual([]);
  });

  it('writes only its cursor and the managed set among the suite-state items', () => {
    // Act
    const state = roleStatements(template, 'Sweep').filter((s) => s.Sid === 'SuiteStateItems');

    // Assess
    expect(state).toHaveLength(1);
    expect(state[0]!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['STATE#sweep', 'STATE#managed'] },
    });
  });

  it('raises an alarm when no sweep completed for two intervals, counting silence as failure', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'TokenRotation-sweep-not-completed',
      MetricName: 'SweepCompleted',
      Namespace: 'TokenRotation',
      Statistic: 'Sum',
      Period: 600,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('shows overdue secrets and completed sweeps on the dashboard', () => {
    // Act
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties
        .DashboardBody,
    );

    // Assess
    for (const metric of ['OverdueSecrets', 'SweepCompleted']) {
      expect(body).toContain(`\\"TokenRotation\\",\\"${metric}\\"`);
    }
  });
});

describe('the tag-event fast path', () => {
  it('receives TagResource, UntagResource and CreateSecret calls on Secrets Manager from CloudTrail', () => {
    // Act
    const fn = functionOf(template, 'TagEvents').logicalId;
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r.Properties.Targets).includes(fn),
    );

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.EventPattern).toEqual({
      source: ['aws.secretsmanager'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ['TagResource', 'UntagResource', 'CreateSecret'],
      },
    });
    expect(rules[0]!.Properties.Targets[0].RetryPolicy.MaximumRetryAttempts).toBe(4);
  });

  it("knows the rotation function and every role of the suite, so it can ignore the suite's own tag changes", () => {
    // Act
    const env = functionOf(template, 'TagEvents').props.Environment.Variables;
    const roles = JSON.stringify(env.SUITE_ROLE_ARNS);

    // Assess
    expect(env.ROTATION_FUNCTION_ARN).toEqual(rotationArn());
    for (const id of ['RotationRole', 'SecretsManagerEventsRole', 'SweepRole', 'TagEventsRole']) {
      expect(roles).toContain(logicalId(template, 'AWS::IAM::Role', id));
    }
  });

  it('may rotate (attach) only opted-in secrets with our function, and describe and detach any', () => {
    // Act
    const statements = secretActions(roleStatements(template, 'TagEvents'));

    // Assess
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      'secretsmanager:CancelRotateSecret',
      'secretsmanager:DescribeSecret',
      'secretsmanager:RotateSecret',
    ]);
    const rotate = statementsFor(statements, 'secretsmanager:RotateSecret')[0]!;
    expect(rotate.Condition).toMatchObject(OPTED_IN);
    const values = roleStatements(template, 'TagEvents').flatMap((s) => s.Action);
    expect(values).not.toContain('secretsmanager:GetSecretValue');
  });
});
