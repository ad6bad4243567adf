// Every asynchronous path of the deployed suite has somewhere to fail to: each EventBridge rule
// target, the sweep's schedule, each asynchronously invoked function and the alert e-mails put
// what they could not deliver in an encrypted, TLS-only SQS queue kept 14 days, and an alarm
// tells a person as soon as a message lands there.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  functionOf,
  type Json,
  logicalId,
  roleStatements,
  statementsFor,
  statementsOfResource,
  synthApp,
} from './support.ts';

let template: Template;
let resources: Record<string, Json>;

beforeAll(() => {
  template = synthApp({ alertEmails: 'ops@example.com,sec@example.com' }).template;
  resources = template.toJSON().Resources;
}, 300_000);

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const queueOf = (id: string) => logicalId(template, 'AWS::SQS::Queue', `${id}DeadLetters`);
const keyOf = (id: string) => logicalId(template, 'AWS::KMS::Key', id);
const topic = () => ({ Ref: logicalId(template, 'AWS::SNS::Topic', 'AlertTopic') });
const ofType = (type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type) as [string, Json][];

/** The functions invoked asynchronously (EventBridge, the sweep), each with its own queue. */
const ASYNC_FUNCTIONS = ['SecretsManagerEvents', 'TagEvents', 'Revoke', 'RevokeEvents'] as const;

describe('asynchronously invoked functions', () => {
  it.each(ASYNC_FUNCTIONS)('dead-letter %s to its own queue', (id) => {
    // Act
    const fn = functionOf(template, id).props;

    // Assess
    expect(fn.DeadLetterConfig).toEqual({ TargetArn: arnOf(queueOf(id)) });
  });

  it.each(ASYNC_FUNCTIONS)(
    'let %s send to that queue only, and use the alert key only through SQS',
    (id) => {
      // Act
      const statements = roleStatements(template, id);

      // Assess
      expect(statementsFor(statements, 'sqs:SendMessage')).toEqual([
        expect.objectContaining({ Action: ['sqs:SendMessage'], Resource: [arnOf(queueOf(id))] }),
      ]);
      expect(
        statements.filter((s) => JSON.stringify(s.Resource).includes(keyOf('AlertKey'))),
      ).toContainEqual(
        expect.objectContaining({
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
              },
            },
          },
        }),
      );
    },
  );

  it('reserve concurrency for every function: room to run when the account pool is used up', () => {
    // Act
    const reserved = Object.fromEntries(
      ['Rotation', 'Sweep', ...ASYNC_FUNCTIONS].map((id) => [
        id,
        functionOf(template, id).props.ReservedConcurrentExecutions,
      ]),
    );

    // Assess
    expect(reserved).toEqual({
      Rotation: 20,
      Sweep: 1,
      SecretsManagerEvents: 5,
      TagEvents: 10,
      Revoke: 10,
      RevokeEvents: 5,
    });
  });

  it('leave the sweep, whose invocations are clock ticks, without a dead-letter queue', () => {
    // Assess: a dropped tick is expected (one sweep at a time); the next does the same work.
    expect(functionOf(template, 'Sweep').props.DeadLetterConfig).toBeUndefined();
  });
});

describe('EventBridge rule targets', () => {
  it("send what they cannot deliver to the target function's own queue", () => {
    // Act
    const targets = ofType('AWS::Events::Rule').flatMap(([, rule]) => rule.Properties.Targets);
    const byFunction = targets.map((target: Json) => {
      const fn = target.Arn['Fn::GetAtt'][0];
      const id = ASYNC_FUNCTIONS.find((name) => functionOf(template, name).logicalId === fn);
      return [id, target.DeadLetterConfig];
    });

    // Assess: four rules, every target dead-lettered
    expect(byFunction).toHaveLength(4);
    for (const [id, deadLetters] of byFunction) {
      expect(id).toBeDefined();
      expect(deadLetters).toEqual({ Arn: arnOf(queueOf(id)) });
    }
  });

  it('may send to each queue only from the rules that target it', () => {
    for (const id of ['SecretsManagerEvents', 'TagEvents', 'RevokeEvents']) {
      // Prepare
      const queue = queueOf(id);
      const rules = ofType('AWS::Events::Rule')
        .filter(([, rule]) => JSON.stringify(rule.Properties.Targets).includes(queue))
        .map(([ruleId]) => arnOf(ruleId));
      const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
        JSON.stringify(p.Properties.Queues).includes(queue),
      )!;

      // Act
      const fromEvents = statementsOfResource(template, policy[0], 'PolicyDocument').filter(
        (s) => s.Effect === 'Allow',
      );

      // Assess
      const sources = fromEvents.map((s) =>
        JSON.stringify(s.Condition?.ArnEquals?.['aws:SourceArn']),
      );
      expect(sources.sort()).toEqual(rules.map((rule) => JSON.stringify(rule)).sort());
      for (const statement of fromEvents) {
        expect(statement.Principal).toEqual({ Service: 'events.amazonaws.com' });
        expect(statement.Action).toEqual(['sqs:SendMessage']);
      }
    }
  });
});

describe('the schedules (the sweep, the audit anchor)', () => {
  it.each(['SweepSchedule', 'AuditAnchorCheckpointSchedule'])(
    '%s: dead-letters the invocations Scheduler could not make, through its own role',
    (id) => {
      // Act
      const schedule = resources[logicalId(template, 'AWS::Scheduler::Schedule', id)];
      const statements = roleStatements(template, id);

      // Assess
      expect(schedule.Properties.Target.DeadLetterConfig).toEqual({ Arn: arnOf(queueOf(id)) });
      expect(statementsFor(statements, 'sqs:SendMessage')[0]?.Resource).toEqual([
        arnOf(queueOf(id)),
      ]);
      expect(statementsFor(statements, 'kms:GenerateDataKey')[0]?.Resource).toEqual([
        arnOf(keyOf('AlertKey')),
      ]);
    },
  );
});

describe('alert e-mails', () => {
  it('redrive every e-mail subscription to one queue that only the alert topic may send to', () => {
    // Prepare
    const queue = queueOf('AlertEmails');
    const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
      JSON.stringify(p.Properties.Queues).includes(queue),
    )!;

    // Act
    const subscriptions = ofType('AWS::SNS::Subscription').map(([, s]) => s.Properties);
    const senders = statementsOfResource(template, policy[0], 'PolicyDocument').filter(
      (s) => s.Effect === 'Allow',
    );

    // Assess
    expect(subscriptions).toHaveLength(2);
    for (const subscription of subscriptions) {
      expect(subscription.Protocol).toBe('email');
      expect(subscription.RedrivePolicy).toEqual({ deadLetterTargetArn: arnOf(queue) });
    }
    expect(senders).toEqual([
      expect.objectContaining({
        Principal: { Service: 'sns.amazonaws.com' },
        Action: ['sqs:SendMessage'],
        Condition: { ArnEquals: { 'aws:SourceArn': topic() } },
      }),
    ]);
  });
});

describe('every dead-letter queue', () => {
  const QUEUES = [
    ...ASYNC_FUNCTIONS,
    'SweepSchedule',
    'AuditAnchorCheckpointSchedule',
    'AlertEmails',
  ];

  it('is one of the queues above, and the stack has no other', () => {
    // Assess
    expect(
      ofType('AWS::SQS::Queue')
        .map(([id]) => id)
        .sort(),
    ).toEqual(QUEUES.map(queueOf).sort());
  });

  it.each(QUEUES)('%s: encrypted with the alert key, TLS only, messages kept 14 days', (id) => {
    // Prepare
    const queue = queueOf(id);
    const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
      JSON.stringify(p.Properties.Queues).includes(queue),
    )!;

    // Act
    const props = resources[queue].Properties;
    const statements = statementsOfResource(template, policy[0], 'PolicyDocument');

    // Assess
    expect(props.KmsMasterKeyId).toEqual(arnOf(keyOf('AlertKey')));
    expect(props.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['sqs:*'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it.each(QUEUES)('%s: raises an alarm to the alert topic on its first message', (id) => {
    // Act
    const alarm = resources[logicalId(template, 'AWS::CloudWatch::Alarm', `${id}DeadLettersAlarm`)];

    // Assess
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueOf(id), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic()],
    });
    expect(alarm.Properties.AlarmName).toMatch(/^TokenRotation-.*dead-letters$/);
    expect(alarm.Properties.AlarmDescription).toContain('Dead-letter queues and replay');
  });
});

describe('the keys', () => {
  it('let EventBridge and SNS encrypt dead letters with the alert key, for this account only', () => {
    // Act
    const services = statementsOfResource(template, keyOf('AlertKey'), 'KeyPolicy').filter((s) =>
      /events|sns/.test(JSON.stringify(s.Principal)),
    );

    // Assess
    expect(services.map((s) => s.Principal)).toEqual([
      { Service: 'events.amazonaws.com' },
      { Service: 'sns.amazonaws.com' },
    ]);
    for (const statement of services) {
      expect(statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(statement.Condition?.StringEquals).toEqual({
        'aws:SourceAccount': { Ref: 'AWS::AccountId' },
      });
    }
  });

  it("encrypt every function's log group with the audit key, which CloudWatch Logs may use for this account's log groups", () => {
    // Act
    const groups = ofType('AWS::Logs::LogGroup').map(([, g]) => g.Properties.KmsKeyId);
    const logs = statementsOfResource(template, keyOf('AuditKey'), 'KeyPolicy').filter((s) =>
      JSON.stringify(s.Principal).includes('logs.'),
    );

    // Assess
    expect(groups).toHaveLength(7);
    for (const key of groups) expect(key).toEqual(arnOf(keyOf('AuditKey')));
    expect(logs).toHaveLength(1);
    expect(JSON.stringify(logs[0]!.Condition)).toContain('kms:EncryptionContext:aws:logs:arn');
    expect(JSON.stringify(logs[0]!.Condition)).toContain(':log-group:*');
  });
});
