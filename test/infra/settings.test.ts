// What a user sets (construct props, `cdk deploy -c key=value`) reaches the template, and a
// mistake fails synth early with a message that says what is wrong and what is allowed.
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { readContext } from '../../infra/context.ts';
import { TokenRotation, type TokenRotationProps } from '../../infra/token-rotation.ts';
import {
  buildTestApp,
  functionOf,
  type Json,
  roleStatements,
  type Synthesized,
  statementsFor,
  templateOnlyApp,
} from './support.ts';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** Builds the construct alone; validation throws before any function is bundled. */
const construct = (props: TokenRotationProps) => () =>
  new TokenRotation(new Stack(templateOnlyApp(), 'Check'), 'TokenRotation', props);

describe('settings from context', () => {
  let synth: Synthesized;
  let template: Template;
  beforeAll(() => {
    const built = buildTestApp({
      stackName: 'Tokens',
      alertEmails: 'ops@example.com, sec@example.com',
      sweepInterval: '5',
      logRetentionDays: '30',
      logLevel: 'debug',
      rotationConcurrency: '50',
      secretKeyArns: KEY_ARN,
      accessKeyUserPath: '/ci-bots/',
      deleteDeactivatedAfterHours: '48',
      issuerFunctions: 'acme-issuer',
      graceExtensions: '2',
    });
    // A user's own roles: an auditor reading the trail, a service raising its own alerts.
    const principal = () => new iam.ServicePrincipal('lambda.amazonaws.com');
    const auditor = new iam.Role(built.stack, 'AuditorRole', { assumedBy: principal() });
    const publisher = new iam.Role(built.stack, 'PublisherRole', { assumedBy: principal() });
    built.stack.tokenRotation.grantAuditRead(auditor);
    built.stack.tokenRotation.grantAlertPublish(publisher);
    for (const role of [auditor, publisher]) {
      Validations.of(role).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason: "Stands in for a user's own role, whose policies are the user's to check.",
      });
    }
    synth = { ...built, template: Template.fromStack(built.stack) };
    template = synth.template;
  });

  it('names the stack from stackName', () => {
    // Assess
    expect(synth.stack.stackName).toBe('Tokens');
    expect(functionOf(template, 'Rotation').props.Environment.Variables.STACK_NAME).toBe('Tokens');
  });

  it('subscribes each address of alertEmails to the alert topic by e-mail', () => {
    // Act
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map(
      (s) => [s.Properties.Protocol, s.Properties.Endpoint],
    );

    // Assess
    expect(subscriptions.sort()).toEqual([
      ['email', 'ops@example.com'],
      ['email', 'sec@example.com'],
    ]);
  });

  it('passes sweepInterval and logLevel to every function', () => {
    // Assess
    for (const id of ['Rotation', 'SecretsManagerEvents']) {
      const env = functionOf(template, id).props.Environment.Variables;
      expect(env.SWEEP_INTERVAL_MINUTES).toBe('5');
      expect(env.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
    }
  });

  it('passes graceExtensions to the sweep, which extends still-used previous tokens by it', () => {
    const env = functionOf(template, 'Sweep').props.Environment.Variables;
    expect(env.GRACE_EXTENSIONS).toBe('2');
  });

  it.each([-1, 5, 1.5])('fails when graceExtensions is %d', (value) => {
    expect(construct({ graceExtensions: value })).toThrow(
      `graceExtensions must be a whole number of grace periods from 0 to 4, got ${value}`,
    );
  });

  it('lets rotation invoke the issuerFunctions and rotate keys of users under accessKeyUserPath only', () => {
    // Prepare
    const statements = roleStatements(template, 'Rotation');
    const resources = (action: string) =>
      JSON.stringify(statementsFor(statements, action).flatMap((s) => s.Resource));

    // Assess: a lambda:<fn> kind works only for functions named at deploy time
    expect(resources('lambda:InvokeFunction')).toContain(':function:acme-issuer');
    expect(resources('iam:CreateAccessKey')).toContain(':user/ci-bots/*');
    expect(functionOf(template, 'Rotation').props.Environment.Variables).toMatchObject({
      DELETE_DEACTIVATED_AFTER_HOURS: '48',
    });
  });

  it('keeps logs for logRetentionDays', () => {
    // Act
    const retentions = Object.values(template.findResources('AWS::Logs::LogGroup')).map(
      (g) => g.Properties.RetentionInDays,
    );

    // Assess
    expect(retentions.length).toBeGreaterThanOrEqual(4);
    expect(new Set(retentions)).toEqual(new Set([30]));
  });

  it('reserves rotationConcurrency executions for rotation', () => {
    // Assess
    expect(functionOf(template, 'Rotation').props.ReservedConcurrentExecutions).toBe(50);
  });

  it('lets rotation use only the keys in secretKeyArns', () => {
    // Act
    const secretKeys = statementsFor(roleStatements(template, 'Rotation'), 'kms:Decrypt').filter(
      (s) => JSON.stringify(s.Condition).includes('secretsmanager.'),
    );

    // Assess
    expect(secretKeys).toHaveLength(1);
    expect(secretKeys[0]!.Resource).toEqual([KEY_ARN]);
  });

  it('names alarms after the stack, and trusts CloudWatch for those alarms only', () => {
    // Act
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );

    // Assess
    expect(names.every((name) => name.startsWith('Tokens-'))).toBe(true);
    expect(JSON.stringify(template.findResources('AWS::SNS::TopicPolicy'))).toContain(
      ':alarm:Tokens-*',
    );
  });

  it('grantAuditRead lets a role query the trail and its indexes and read its checkpoints, and nothing more', () => {
    // Prepare
    const table = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0]!;
    const bucket = Object.keys(template.findResources('AWS::S3::Bucket'))[0]!;
    const auditor = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('AuditorRole'),
    )!;

    // Act
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === auditor))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        // cdk.json's minimizePolicies sorts actions and resources.
        Action: ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [
          { 'Fn::GetAtt': [table, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, '/index/byEvent']] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, '/index/byTime']] },
        ],
      },
      expect.objectContaining({ Action: 'kms:Decrypt', Condition: expect.anything() }),
      // The AuditAnchor's checkpoints: every version with its retention, nothing that writes.
      {
        Effect: 'Allow',
        Action: [
          's3:GetObject',
          's3:GetObjectLegalHold',
          's3:GetObjectRetention',
          's3:GetObjectVersion',
        ],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] },
      },
      {
        Effect: 'Allow',
        Action: [
          's3:GetBucketObjectLockConfiguration',
          's3:GetBucketVersioning',
          's3:ListBucket',
          's3:ListBucketVersions',
        ],
        Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
      },
    ]);
  });

  it('grantAlertPublish lets a role publish to the alert topic with its key', () => {
    // Prepare
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0]!;
    const publisher = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('PublisherRole'),
    )!;

    // Act
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === publisher))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

    // Assess
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: topic } },
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: expect.anything(),
      }),
    ]);
  });

  it('offers the metrics the alarms and dashboard use', () => {
    // Act
    const tr = synth.stack.tokenRotation;
    const metrics = [
      tr.metricRotationSucceeded(),
      tr.metricRotationFailed(),
      tr.metricOverdueSecrets(),
    ];

    // Assess
    expect(metrics.map((m) => [m.namespace, m.metricName, m.dimensions, m.statistic])).toEqual([
      ['TokenRotation', 'RotationSucceeded', { service: 'token-rotation' }, 'Sum'],
      ['TokenRotation', 'RotationFailed', { service: 'token-rotation' }, 'Sum'],
      ['TokenRotation', 'OverdueSecrets', { service: 'token-rotation' }, 'Maximum'],
    ]);
  });

  it('fails when a second TokenRotation joins the same stack', () => {
    // Act
    const second = () => new TokenRotation(synth.stack, 'Second');

    // Assess
    expect(second).toThrow(/already has a TokenRotation: deploy one per account and region/);
  });
});

describe('context parsing', () => {
  const read = (context: Record<string, unknown>) => readContext((key) => context[key]);

  it('uses the documented defaults when only alertEmails=none is set', () => {
    // Act
    const props = read({ alertEmails: 'none' });

    // Assess
    expect(props).toEqual({
      stackName: 'TokenRotation',
      alertEmails: [],
      sweepInterval: undefined,
      logRetention: undefined,
      logLevel: undefined,
      secretKeyArns: undefined,
      rotationConcurrency: undefined,
      accessKeyUserPath: undefined,
      deleteDeactivatedAfter: undefined,
      issuerFunctions: undefined,
      maxLifespan: undefined,
      graceExtensions: undefined,
    });
  });

  it('accepts alertEmails as a JSON array from cdk.json', () => {
    // Act
    const props = read({ alertEmails: ['ops@example.com', 'sec@example.com'] });

    // Assess
    expect(props.alertEmails).toEqual(['ops@example.com', 'sec@example.com']);
  });

  it('fails when sweepInterval is not a whole number', () => {
    expect(() => read({ sweepInterval: '15m' })).toThrow(
      'context sweepInterval must be a whole number, got "15m"',
    );
  });

  it('fails when logRetentionDays is not a retention CloudWatch offers', () => {
    expect(() => read({ logRetentionDays: '45' })).toThrow(
      /context logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, .* got 45/,
    );
  });

  it('fails when alertEmails has an empty entry', () => {
    expect(() => read({ alertEmails: 'ops@example.com,,sec@example.com' })).toThrow(
      'context alertEmails has an empty entry in "ops@example.com,,sec@example.com" (expected a comma list)',
    );
  });

  it('fails when stackName is not a valid stack name', () => {
    expect(() => read({ stackName: 'token_rotation' })).toThrow(
      /context stackName must start with a letter and hold only letters, digits and hyphens/,
    );
  });
});

describe('prop validation', () => {
  it('fails when an alert e-mail is not an address', () => {
    expect(construct({ alertEmails: ['ops@example.com', 'ops-team'] })).toThrow(
      'alertEmails: "ops-team" is not an e-mail address (expected one address like ops@example.com per entry)',
    );
  });

  it('fails when an alert e-mail is listed twice', () => {
    expect(construct({ alertEmails: ['ops@example.com', 'OPS@example.com'] })).toThrow(
      'alertEmails: "OPS@example.com" is listed twice (each address gets one subscription)',
    );
  });

  it.each([
    ['1 minute 30 seconds', Duration.seconds(90)],
    ['0 minutes', Duration.minutes(0)],
    ['2 days', Duration.days(2)],
  ])('fails when sweepInterval is %s', (shown, interval) => {
    expect(construct({ sweepInterval: interval })).toThrow(
      `sweepInterval must be a whole number of minutes from 1 to 1440, got ${shown}`,
    );
  });

  it.each([9, 1001, 12.5])('fails when rotationConcurrency is %s', (value) => {
    expect(construct({ rotationConcurrency: value })).toThrow(
      `rotationConcurrency must be a whole number from 10 to 1000 (Secrets Manager needs room for 10 concurrent rotations), got ${value}`,
    );
  });

  it('fails when secretKeyArns names an alias instead of a key', () => {
    expect(
      construct({ secretKeyArns: ['arn:aws:kms:eu-west-1:111122223333:alias/secrets'] }),
    ).toThrow(
      'secretKeyArns: "arn:aws:kms:eu-west-1:111122223333:alias/secrets" is not a KMS key ARN (expected arn:aws:kms:<region>:<account>:key/<key id>; aliases are not allowed)',
    );
  });

  it('fails when secretKeyArns is empty', () => {
    expect(construct({ secretKeyArns: [] })).toThrow(
      /secretKeyArns must list at least one KMS key ARN/,
    );
  });

  it('fails when logLevel is not a Powertools level', () => {
    expect(construct({ logLevel: 'TRACE' as 'DEBUG' })).toThrow(
      'logLevel must be one of DEBUG, INFO, WARN, ERROR, got "TRACE"',
    );
  });

  it('fails when metricsNamespace claims an AWS namespace', () => {
    expect(construct({ metricsNamespace: 'AWS/Lambda' })).toThrow(
      /metricsNamespace must be 1 to 255 letters, .* must not start with AWS\/, got "AWS\/Lambda"/,
    );
  });
});

describe('accessKeyUserPath with an IAM wildcard', () => {
  it('fails when the path holds * or ?, which would widen key management to other users', () => {
    expect(construct({ accessKeyUserPath: '/*/' })).toThrow(/accessKeyUserPath/);
    expect(construct({ accessKeyUserPath: '/ci?/' })).toThrow(/accessKeyUserPath/);
    expect(construct({ accessKeyUserPath: '/ci-bots/' })).not.toThrow();
  });
});
