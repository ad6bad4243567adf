// What the deployed stack promises (issue 3), read from the synthesized template of the app as
// `cdk synth` builds it with no context: functions, least privilege, table, topic, rule, alarms.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_TABLE } from '#adapters/audit-table';
import {
  functionOf,
  logicalId,
  roleStatements,
  type Statement,
  type Synthesized,
  statementsFor,
  statementsOfResource,
  synthApp,
} from './support.ts';

let synth: Synthesized;
let template: Template;
const FUNCTIONS = ['Rotation', 'SecretsManagerEvents'] as const;

beforeAll(() => {
  synth = synthApp();
  template = synth.template;
});

const ref = (type: string, id: string) => ({ Ref: logicalId(template, type, id) });
const arnOf = (type: string, id: string) => ({
  'Fn::GetAtt': [logicalId(template, type, id), 'Arn'],
});
const topicRef = () => ref('AWS::SNS::Topic', 'AlertTopic');

describe('functions', () => {
  it.each(FUNCTIONS)('runs %s on nodejs22.x, arm64, traced, with its own log group', (id) => {
    // Prepare
    const fn = functionOf(template, id).props;

    // Assess
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.Handler).toBe('index.handler');
    expect(fn.LoggingConfig).toEqual({ LogGroup: ref('AWS::Logs::LogGroup', `${id}Logs`) });
  });

  it.each(FUNCTIONS)('gives %s the environment the handlers read', (id) => {
    // Prepare
    const env = functionOf(template, id).props.Environment.Variables;

    // Assess
    expect(env).toEqual({
      AUDIT_TABLE_NAME: ref('AWS::DynamoDB::Table', 'AuditTable'),
      ALERT_TOPIC_ARN: topicRef(),
      SWEEP_INTERVAL_MINUTES: '15',
      STACK_NAME: 'TokenRotation',
      POWERTOOLS_SERVICE_NAME: 'token-rotation',
      POWERTOOLS_METRICS_NAMESPACE: 'TokenRotation',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // iam-access-key: a deactivated previous key is deleted this long after (7 days default)
      DELETE_DEACTIVATED_AFTER_HOURS: '168',
      // the longest lifespan a tag may ask for: 30 days unless maxLifespan says otherwise
      MAX_LIFESPAN_HOURS: '720',
      // a still-used previous token's one extension: one more grace period unless graceExtensions says otherwise
      GRACE_EXTENSIONS: '1',
      // the rotation indexes the token it mints (test/infra/fingerprint-key.test.ts)
      ...(id === 'Rotation' && {
        FINGERPRINT_KEY_SECRET_ARN: ref('AWS::SecretsManager::Secret', 'FingerprintKeySecret'),
      }),
    });
  });

  it('caps every lifespan at 30 days unless maxLifespan says otherwise', () => {
    expect(functionOf(template, 'Sweep').props.Environment.Variables.MAX_LIFESPAN_HOURS).toBe(
      '720',
    );
    expect(template.toJSON().Outputs.MaxLifespanHours.Value).toBe('720');
  });

  it('gives rotation 2 minutes, 512 MB and 20 reserved executions (room for 10 rotations)', () => {
    // Prepare
    const fn = functionOf(template, 'Rotation').props;

    // Assess
    expect(fn.Timeout).toBe(120);
    expect(fn.MemorySize).toBe(512);
    expect(fn.ReservedConcurrentExecutions).toBe(20);
  });

  it('gives the Secrets Manager events function 30 seconds, 256 MB and 5 reserved executions', () => {
    // Prepare
    const fn = functionOf(template, 'SecretsManagerEvents').props;

    // Assess
    expect(fn.Timeout).toBe(30);
    expect(fn.MemorySize).toBe(256);
    expect(fn.ReservedConcurrentExecutions).toBe(5);
  });

  it.each(FUNCTIONS)('keeps %s logs for a year, and keeps them after cdk destroy', (id) => {
    // Act
    const logs =
      template.toJSON().Resources[logicalId(template, 'AWS::Logs::LogGroup', `${id}Logs`)];

    // Assess
    expect(logs.Properties.RetentionInDays).toBe(365);
    expect(logs.DeletionPolicy).toBe('Retain');
  });
});

describe('rotation role: least privilege', () => {
  let statements: Statement[];
  beforeAll(() => {
    statements = roleStatements(template, 'Rotation');
  });

  it('allows exactly the actions rotation needs, and no wildcard action', () => {
    // Act
    const actions = [...new Set(statements.flatMap((s) => s.Action))].sort();

    // Assess
    expect(actions).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      // iam-access-key, on users under accessKeyUserPath only (test/infra/token-kinds.test.ts)
      'iam:CreateAccessKey',
      'iam:DeleteAccessKey',
      // ... and, read-only, what those users may do (scopes, compared at testSecret)
      'iam:GetGroupPolicy',
      'iam:GetPolicy',
      'iam:GetPolicyVersion',
      'iam:GetUserPolicy',
      'iam:ListAccessKeys',
      'iam:ListAttachedGroupPolicies',
      'iam:ListAttachedUserPolicies',
      'iam:ListGroupPolicies',
      'iam:ListGroupsForUser',
      'iam:ListUserPolicies',
      'iam:ListUserTags',
      'iam:UpdateAccessKey',
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      // the fingerprint key with AWSCURRENT, in one call (the minted token's index item)
      'secretsmanager:BatchGetSecretValue',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
      'sns:Publish',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it('reads and writes only secrets that carry token-rotation:lifespan, and reads the fingerprint key', () => {
    // Act
    const secrets = statements.filter((s) => s.Action.some((a) => a.startsWith('secretsmanager:')));
    const key = ref('AWS::SecretsManager::Secret', 'FingerprintKeySecret');
    const [onKey, batch, rest] = [
      secrets.filter((s) => JSON.stringify(s.Resource) === JSON.stringify([key])),
      secrets.filter((s) => s.Sid === 'ReadTheKeyWithTheCurrentValue'),
      secrets.filter(
        (s) =>
          JSON.stringify(s.Resource) !== JSON.stringify([key]) &&
          s.Sid !== 'ReadTheKeyWithTheCurrentValue',
      ),
    ];

    // Assess
    expect(rest).toHaveLength(1);
    expect(rest[0]!.Condition).toEqual({
      Null: { 'aws:ResourceTag/token-rotation:lifespan': 'false' },
    });
    expect(JSON.stringify(rest[0]!.Resource)).toContain(':secret:*');
    expect(onKey.flatMap((s) => s.Action).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    // BatchGetSecretValue has no resource-level permissions; each value still needs the above.
    expect(batch.flatMap((s) => s.Action)).toEqual(['secretsmanager:BatchGetSecretValue']);
  });

  it('uses secret keys only through Secrets Manager in this region', () => {
    // Act
    const secretKeys = statementsFor(statements, 'kms:Decrypt').filter((s) =>
      JSON.stringify(s.Condition).includes('secretsmanager.'),
    );

    // Assess
    expect(secretKeys).toHaveLength(1);
    expect(secretKeys[0]!.Action.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(secretKeys[0]!.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': {
          'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
        },
      },
    });
  });

  it('limits every KMS permission with kms:ViaService', () => {
    // Assess
    for (const statement of statementsFor(
      statements,
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    )) {
      expect(Object.keys(statement.Condition?.StringEquals ?? {})).toEqual(['kms:ViaService']);
    }
  });

  it('uses Resource "*" only for X-Ray and BatchGetSecretValue, which have no resource-level permissions', () => {
    // Act
    const starred = statements.filter((s) => s.Resource.includes('*'));

    // Assess
    expect(starred.flatMap((s) => s.Action).sort()).toEqual([
      'secretsmanager:BatchGetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('appends audit records but may update or delete only alert marks (and update token index items)', () => {
    // Prepare
    const table = arnOf('AWS::DynamoDB::Table', 'AuditTable');

    // Act
    const put = statementsFor(statements, 'dynamodb:PutItem');
    const change = statementsFor(statements, 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    const query = statementsFor(statements, 'dynamodb:Query');

    // Assess
    expect(put).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem'],
        Resource: [table],
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SECRET#*', 'ALERT#*'] },
        },
      }),
    ]);
    expect(change).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
        Resource: [table],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ALERT#*'] } },
      }),
      // the minted token's index item, in the audit's transaction (fingerprint-key.test.ts)
      expect.objectContaining({
        Sid: 'RecordTokensInTheIndex',
        Action: ['dynamodb:UpdateItem'],
        Resource: [table],
      }),
    ]);
    expect(query).toEqual([
      expect.objectContaining({ Action: ['dynamodb:Query'], Resource: [table] }),
    ]);
  });

  it('publishes only to the alert topic', () => {
    // Assess
    expect(statementsFor(statements, 'sns:Publish')).toEqual([
      expect.objectContaining({ Action: ['sns:Publish'], Resource: [topicRef()] }),
    ]);
  });

  it('has no managed policies, so nothing outside this template widens it', () => {
    // Prepare
    const role = template.toJSON().Resources[logicalId(template, 'AWS::IAM::Role', 'RotationRole')];

    // Assess
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });
});

describe('Secrets Manager events role', () => {
  it('may describe opted-in secrets but never read or write a secret value', () => {
    // Prepare
    const statements = roleStatements(template, 'SecretsManagerEvents');

    // Act
    const secrets = statements.filter((s) => s.Action.some((a) => a.startsWith('secretsmanager:')));

    // Assess
    expect(secrets).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:DescribeSecret'],
        Condition: { Null: { 'aws:ResourceTag/token-rotation:lifespan': 'false' } },
      }),
    ]);
    expect(statements.flatMap((s) => s.Action).some((a) => a.includes('*'))).toBe(false);
  });
});

describe('rotation function resource policy', () => {
  it('lets only secretsmanager.amazonaws.com of this account invoke the rotation function', () => {
    // Prepare
    const rotation = functionOf(template, 'Rotation').logicalId;

    // Act
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p) => p.Properties.FunctionName?.['Fn::GetAtt']?.[0] === rotation,
    );

    // Assess
    expect(permissions).toHaveLength(1);
    expect(permissions[0]!.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [rotation, 'Arn'] },
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':secret:*',
          ],
        ],
      },
    });
  });
});

describe('audit table', () => {
  it('uses the key design the code uses, with both indexes and the TTL attribute', () => {
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: AUDIT_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: AUDIT_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: Match.arrayEquals([
        {
          IndexName: AUDIT_TABLE.byTimeIndex,
          KeySchema: [
            { AttributeName: AUDIT_TABLE.byTimePartitionKey, KeyType: 'HASH' },
            { AttributeName: AUDIT_TABLE.indexSortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: AUDIT_TABLE.byEventIndex,
          KeySchema: [
            { AttributeName: AUDIT_TABLE.byEventPartitionKey, KeyType: 'HASH' },
            { AttributeName: AUDIT_TABLE.indexSortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ]),
      TimeToLiveSpecification: { AttributeName: AUDIT_TABLE.ttlAttribute, Enabled: true },
    });
  });

  it('is on-demand, recoverable, deletion-protected and encrypted with its own rotating key', () => {
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: arnOf('AWS::KMS::Key', 'AuditKey'),
      },
    });
    const key = template.toJSON().Resources[logicalId(template, 'AWS::KMS::Key', 'AuditKey')];
    expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('survives cdk destroy, and so does its key', () => {
    // Prepare
    const resources = template.toJSON().Resources;

    // Act
    const table = resources[logicalId(template, 'AWS::DynamoDB::Table', 'AuditTable')];
    const key = resources[logicalId(template, 'AWS::KMS::Key', 'AuditKey')];

    // Assess
    for (const resource of [table, key]) {
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.UpdateReplacePolicy).toBe('Retain');
    }
  });
});

describe('alert topic', () => {
  it('is encrypted with a customer key that rotates', () => {
    // Prepare
    const key = template.toJSON().Resources[logicalId(template, 'AWS::KMS::Key', 'AlertKey')];

    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: arnOf('AWS::KMS::Key', 'AlertKey'),
    });
    expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('refuses publishing without TLS', () => {
    // Prepare
    const policy = logicalId(template, 'AWS::SNS::TopicPolicy', 'AlertTopicPolicy');

    // Act
    const statements = statementsOfResource(template, policy, 'PolicyDocument');

    // Assess
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: ['sns:Publish'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it("lets CloudWatch publish, and use the topic's key, only for this stack's alarms", () => {
    // Prepare
    const topicPolicy = logicalId(template, 'AWS::SNS::TopicPolicy', 'AlertTopicPolicy');
    const alertKey = logicalId(template, 'AWS::KMS::Key', 'AlertKey');
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudwatch:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':alarm:TokenRotation-*',
            ],
          ],
        },
      },
    };

    // Act
    const publish = statementsOfResource(template, topicPolicy, 'PolicyDocument').filter(
      (s) => s.Effect === 'Allow',
    );
    const keyUse = statementsOfResource(template, alertKey, 'KeyPolicy').filter((s) =>
      JSON.stringify(s.Principal).includes('cloudwatch'),
    );

    // Assess
    expect(publish).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['sns:Publish'],
        Resource: [topicRef()],
        Condition: fromOurAlarms,
      }),
    ]);
    expect(keyUse).toEqual([
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: fromOurAlarms,
      }),
    ]);
  });

  it('has no e-mail subscription when no alertEmails are given', () => {
    // Assess
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('Secrets Manager rotation events', () => {
  it('sends RotationFailed and RotationAbandoned to the Secrets Manager events function', () => {
    // Prepare
    const target = functionOf(template, 'SecretsManagerEvents').logicalId;

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed', 'RotationAbandoned'],
        },
      },
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [target, 'Arn'] } })],
    });
  });
});

describe('alarms', () => {
  it.each(FUNCTIONS)('alerts on %s errors and throttles', (id) => {
    // Prepare
    const fn = functionOf(template, id).logicalId;

    // Assess
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef()],
      });
    }
  });

  it('alerts on any RotationFailed the code emits', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'TokenRotation-rotation-failures',
      Namespace: 'TokenRotation',
      MetricName: 'RotationFailed',
      Dimensions: [{ Name: 'service', Value: 'token-rotation' }],
      Statistic: 'Sum',
      Threshold: 1,
      AlarmActions: [topicRef()],
    });
  });

  it('names every alarm after the stack and sends it to the alert topic', () => {
    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));

    // Assess
    // Errors and throttles per function (rotation, Secrets Manager events, sweep, tag events),
    // rotation failures, and the sweep not completing.
    expect(alarms.length).toBeGreaterThanOrEqual(10);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmName).toMatch(/^TokenRotation-/);
      expect(alarm.Properties.AlarmActions).toEqual([topicRef()]);
    }
  });

  it('shows rotations, failures and overdue secrets on the dashboard', () => {
    // Act
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties
        .DashboardBody,
    );

    // Assess
    for (const metric of ['RotationSucceeded', 'RotationFailed', 'OverdueSecrets']) {
      expect(body).toContain(
        `\\"TokenRotation\\",\\"${metric}\\",\\"service\\",\\"token-rotation\\"`,
      );
    }
  });
});

describe('outputs', () => {
  it.each([
    ['AlertTopicConsole', () => topicRef()],
    ['AuditTableConsole', () => ref('AWS::DynamoDB::Table', 'AuditTable')],
    ['RotationFunctionConsole', () => ({ Ref: functionOf(template, 'Rotation').logicalId })],
    [
      'SecretsManagerEventsFunctionConsole',
      () => ({ Ref: functionOf(template, 'SecretsManagerEvents').logicalId }),
    ],
    ['DashboardConsole', () => ref('AWS::CloudWatch::Dashboard', 'Dashboard')],
  ])('prints %s, a console link to the resource', (name, resource) => {
    // Act
    const output = template.findOutputs(name)[name];

    // Assess
    expect(output).toBeDefined();
    const parts: unknown[] = output!.Value['Fn::Join'][1];
    expect(parts[0]).toBe('https://');
    expect(
      parts.some((p) => typeof p === 'string' && p.startsWith('.console.aws.amazon.com/')),
    ).toBe(true);
    expect(parts).toContainEqual(resource());
  });

  it('prints the alert topic ARN and the audit table name for scripts', () => {
    // Assess
    template.hasOutput('AlertTopicArn', { Value: topicRef() });
    template.hasOutput('AuditTableName', { Value: ref('AWS::DynamoDB::Table', 'AuditTable') });
  });
});
