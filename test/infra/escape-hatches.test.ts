// Escape hatches (STYLE "Escape hatches"): an existing audit table, audit key or alert topic is
// used instead of a new one; grant* methods return an iam.Grant; metric* methods give the metrics
// the alarms and the dashboard read.
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { TokenRotation, type TokenRotationProps } from '../../infra/token-rotation.ts';
import { type Json, templateOnlyApp } from './support.ts';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:existing-alerts`;

function build(props: (stack: Stack) => TokenRotationProps = () => ({})) {
  const stack = new Stack(templateOnlyApp(), 'EscapeHatches', {
    env: { account: ACCOUNT, region: REGION },
  });
  const tokenRotation = new TokenRotation(stack, 'TokenRotation', props(stack));
  return { stack, tokenRotation };
}

/** The environment of the rotation function, as the template writes it. */
function rotationEnvironment(template: Template): Record<string, Json> {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('^Rotates opted-in secrets') },
  });
  return Object.values(functions)[0]!.Properties.Environment.Variables;
}

describe('escape hatches', () => {
  it('uses an existing audit table and its key instead of creating them', () => {
    // Prepare
    const { stack, tokenRotation } = build((s) => ({
      auditTable: dynamodb.Table.fromTableAttributes(s, 'Existing', {
        tableName: 'existing-audit',
        encryptionKey: kms.Key.fromKeyArn(s, 'ExistingKey', KEY_ARN),
      }),
    }));

    // Act
    const template = Template.fromStack(stack);

    // Assess: no table, only the alert key; the functions and the logs use what was given.
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(tokenRotation.auditTable.tableName).toBe('existing-audit');
    expect(tokenRotation.auditKey.keyArn).toBe(KEY_ARN);
    expect(rotationEnvironment(template).AUDIT_TABLE_NAME).toBe('existing-audit');
    template.allResourcesProperties('AWS::Logs::LogGroup', { KmsKeyId: KEY_ARN });
  });

  it('uses an existing audit key for a new audit table and the logs', () => {
    // Prepare
    const { stack } = build((s) => ({ auditKey: kms.Key.fromKeyArn(s, 'ExistingKey', KEY_ARN) }));

    // Act
    const template = Template.fromStack(stack);

    // Assess
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { KMSMasterKeyId: KEY_ARN, SSEEnabled: true, SSEType: 'KMS' },
    });
  });

  it('fails when auditKey is given with an audit table that brings its own key', () => {
    // Act
    const act = () =>
      build((s) => ({
        auditTable: dynamodb.Table.fromTableAttributes(s, 'Existing', {
          tableName: 'existing-audit',
          encryptionKey: kms.Key.fromKeyArn(s, 'TableKey', KEY_ARN),
        }),
        auditKey: kms.Key.fromKeyArn(s, 'OtherKey', KEY_ARN.replace('5555', '6666')),
      }));

    // Assess
    expect(act).toThrow(/auditKey and an auditTable with its own encryptionKey are both given/);
  });

  it('publishes alerts to an existing topic instead of creating one', () => {
    // Prepare
    const { stack, tokenRotation } = build((s) => ({
      alertTopic: sns.Topic.fromTopicArn(s, 'ExistingTopic', TOPIC_ARN),
      alertEmails: ['ops@example.com'],
    }));

    // Act
    const template = Template.fromStack(stack);

    // Assess: no topic; the subscription, the functions and the alarms use the given one.
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(tokenRotation.alertTopic.topicArn).toBe(TOPIC_ARN);
    expect(rotationEnvironment(template).ALERT_TOPIC_ARN).toBe(TOPIC_ARN);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: TOPIC_ARN,
      Endpoint: 'ops@example.com',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [TOPIC_ARN] });
  });

  it('returns an iam.Grant from every grant method', () => {
    // Prepare
    const { stack, tokenRotation } = build(() => ({ issuerFunctions: ['acme-issuer'] }));
    const role = (id: string) =>
      new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
    const auditor = role('Auditor');
    const responder = role('Responder');
    const publisher = role('Publisher');
    const issuerUser = role('IssuerUser');

    // Act
    const grants = [
      tokenRotation.grantAuditRead(auditor),
      tokenRotation.grantRevoke(responder),
      tokenRotation.grantAlertPublish(publisher),
      tokenRotation.grantIssuers(issuerUser),
    ];
    const template = Template.fromStack(stack);

    // Assess: each grant succeeded and put its statements on the grantee's policy.
    for (const grant of grants) {
      expect(grant).toBeInstanceOf(iam.Grant);
      expect(grant.success).toBe(true);
      expect(grant.principalStatements.length).toBeGreaterThan(0);
    }
    const actionsOf = (roleId: string): string[] => {
      const policies = template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${roleId}`) }] },
      });
      return Object.values(policies).flatMap((p: Json) =>
        p.Properties.PolicyDocument.Statement.flatMap((s: Json) => [s.Action].flat()),
      );
    };
    expect(actionsOf('Auditor')).toEqual(
      expect.arrayContaining(['dynamodb:Query', 's3:GetObjectVersion', 's3:ListBucketVersions']),
    );
    expect(actionsOf('Responder')).toContain('lambda:InvokeFunction');
    expect(actionsOf('Publisher')).toContain('sns:Publish');
    expect(actionsOf('IssuerUser')).toEqual(
      expect.arrayContaining(['iam:CreateAccessKey', 'lambda:InvokeFunction']),
    );
  });

  it('lets a service record uses of the previous tokens of its own secrets only, never audit records', () => {
    // Prepare
    const { stack, tokenRotation } = build();
    const service = new iam.Role(stack, 'OrdersApi', { assumedBy: new iam.AccountRootPrincipal() });
    const secret = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:orders/api-token-AbCdEf`;

    // Act
    const grant = tokenRotation.grantRecordTokenUse(service, [secret]);
    const template = Template.fromStack(stack);

    // Assess
    expect(grant).toBeInstanceOf(iam.Grant);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^OrdersApi') }] },
    });
    const statements: Json[] = Object.values(policies).flatMap(
      (p: Json) => p.Properties.PolicyDocument.Statement,
    );
    const dynamo = statements.filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')),
    );
    expect(dynamo).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`USE#${secret}`] },
          'ForAllValues:StringEquals': {
            'dynamodb:Attributes': ['pk', 'sk', 'lastUsedAt', 'usedBy', 'expiresAt'],
          },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        },
      }),
    ]);
  });

  it('gives the metrics the alarms and the dashboard read', () => {
    // Prepare
    const { tokenRotation } = build(() => ({ metricsNamespace: 'Acme/Tokens' }));

    // Act
    const metrics = [
      tokenRotation.metricRotationSucceeded(),
      tokenRotation.metricRotationFailed(),
      tokenRotation.metricOverdueSecrets(),
      tokenRotation.metricSweepCompleted(),
    ];

    // Assess
    expect(metrics.map((m) => [m.namespace, m.metricName, m.statistic])).toEqual([
      ['Acme/Tokens', 'RotationSucceeded', 'Sum'],
      ['Acme/Tokens', 'RotationFailed', 'Sum'],
      ['Acme/Tokens', 'OverdueSecrets', 'Maximum'],
      ['Acme/Tokens', 'SweepCompleted', 'Sum'],
    ]);
  });
});
