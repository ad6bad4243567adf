// The emergency revoke in the deployed stack (issue 5): its functions and least-privilege roles,
// the tag and Health rules, the runbook, the operators' policy and the outputs, read from the
// synthesized template. cdk-nag over the whole app is nag.test.ts.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPOSED_CREDENTIAL_CODES } from '#domain/revoke-events';
import { TAG } from '#domain/vocabulary';
import { STACK_OUTPUT } from '../../cli/aws.ts';
import {
  functionOf,
  type Json,
  logicalId,
  roleStatements,
  statementsFor,
  synthApp,
} from './support.ts';

let template: Template;
beforeAll(() => {
  template = synthApp().template;
});

const OPTED_IN = { Null: { 'aws:ResourceTag/token-rotation:lifespan': 'false' } };
const resourcesOf = (type: string) => Object.values(template.findResources(type)) as Json[];

describe('the revoke functions', () => {
  it.each(['Revoke', 'RevokeEvents'])(
    '%s reaches tokens and tags of opted-in secrets only, and only its own two tags',
    (id) => {
      // Act
      const statements = roleStatements(template, id);

      // Assess
      // Besides the fingerprint key (fingerprint-key.test.ts), whose one secret it may read.
      const tokens = statementsFor(statements, 'secretsmanager:GetSecretValue').filter(
        (s) => !JSON.stringify(s.Resource).includes('FingerprintKeySecret'),
      );
      expect(tokens).toHaveLength(1);
      expect(tokens[0]!.Action).toEqual([
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ]);
      expect(tokens[0]!.Condition).toEqual(OPTED_IN);
      const tagging = statementsFor(statements, 'secretsmanager:TagResource');
      expect(tagging).toHaveLength(1);
      expect(tagging[0]!.Action).toEqual([
        'secretsmanager:TagResource',
        'secretsmanager:UntagResource',
      ]);
      expect(tagging[0]!.Condition).toEqual({
        ...OPTED_IN,
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.revoke, TAG.lastRevoked] },
      });
      const lock = statementsFor(statements, 'dynamodb:UpdateItem').find(
        (s) => s.Sid === 'RevokeLockItems',
      );
      expect(lock!.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['STATE#revoke'] },
      });
      expect(statements.flatMap((s) => s.Action)).not.toContain('secretsmanager:DeleteSecret');
      expect(statements.flatMap((s) => s.Action)).not.toContain('secretsmanager:RotateSecret');
    },
  );

  it('lets only the events function list secrets (to find the holder of an exposed key)', () => {
    expect(
      statementsFor(roleStatements(template, 'RevokeEvents'), 'secretsmanager:ListSecrets'),
    ).toHaveLength(1);
    expect(statementsFor(roleStatements(template, 'Revoke'), 'secretsmanager:ListSecrets')).toEqual(
      [],
    );
  });

  it('gives both five minutes and documents the Test event in the description', () => {
    const direct = functionOf(template, 'Revoke').props;
    expect(direct.Timeout).toBe(300);
    expect(direct.Description).toContain(
      '{"secretId": "<name or ARN>", "reason": "<why>", "mode": "reissue" or "quarantine"}',
    );
    expect(functionOf(template, 'RevokeEvents').props.Timeout).toBe(300);
  });

  it("is one of the suite's roles whose tag changes the tag-event path ignores", () => {
    const suiteRoles = JSON.stringify(
      functionOf(template, 'TagEvents').props.Environment.Variables.SUITE_ROLE_ARNS,
    );
    expect(suiteRoles).toContain(logicalId(template, 'AWS::IAM::Role', 'RevokeRole'));
    expect(suiteRoles).toContain(logicalId(template, 'AWS::IAM::Role', 'RevokeEventsRole'));
  });
});

describe('the revoke rules', () => {
  const rules = () => resourcesOf('AWS::Events::Rule').map((r) => r.Properties);
  const target = () => ({ 'Fn::GetAtt': [functionOf(template, 'RevokeEvents').logicalId, 'Arn'] });

  it('sends a CloudTrail TagResource that sets the revoke tag, and nothing else of Secrets Manager, to the events function', () => {
    const rule = rules().find((r) => r.EventPattern?.detail?.requestParameters);
    expect(rule.EventPattern).toEqual({
      source: ['aws.secretsmanager'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ['TagResource'],
        requestParameters: { tags: { key: [TAG.revoke] } },
      },
    });
    expect(rule.Targets[0].Arn).toEqual(target());
    expect(rule.Targets[0].RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: 3600,
      MaximumRetryAttempts: 4,
    });
  });

  it('matches AWS Health events on the exposed-credential type codes, not on the service', () => {
    const rule = rules().find((r) => r.EventPattern?.source?.includes('aws.health'));
    expect(rule.EventPattern).toEqual({
      source: ['aws.health'],
      'detail-type': ['AWS Health Event'],
      detail: { eventTypeCode: [...EXPOSED_CREDENTIAL_CODES] },
    });
    expect(rule.Targets[0].Arn).toEqual(target());
  });
});

describe('the EmergencyRevoke runbook', () => {
  const runbook = () => resourcesOf('AWS::SSM::Document')[0].Properties;

  it('is an Automation document named after the stack with the form fields SecretId, Reason and Mode', () => {
    const doc = runbook();
    expect(doc.Name).toBe('TokenRotation-EmergencyRevoke');
    expect(doc.DocumentType).toBe('Automation');
    expect(Object.keys(doc.Content.parameters)).toEqual(['SecretId', 'Reason', 'Mode']);
    expect(doc.Content.parameters.Mode).toMatchObject({
      allowedValues: ['reissue', 'quarantine'],
      default: 'reissue',
    });
    expect(doc.Content.assumeRole).toEqual({
      'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'RevokeRunbookRole'), 'Arn'],
    });
  });

  it('invokes the revoke function with only its execution ID: no script, no form text spliced into JSON', () => {
    const { mainSteps, outputs } = runbook().Content;
    expect(mainSteps).toEqual([
      {
        name: 'Revoke',
        action: 'aws:invokeLambdaFunction',
        timeoutSeconds: 300,
        onFailure: 'Abort',
        inputs: {
          FunctionName: { 'Fn::GetAtt': [functionOf(template, 'Revoke').logicalId, 'Arn'] },
          InvocationType: 'RequestResponse',
          Payload: '{"runbook": {"executionId": "{{ automation:EXECUTION_ID }}"}}',
        },
      },
    ]);
    expect(outputs).toEqual(['Revoke.Payload']);
  });

  it('runs as a role that may invoke the revoke function, nothing more', () => {
    const statements = roleStatements(template, 'RevokeRunbook');
    expect(statements.flatMap((s) => s.Action).sort()).toEqual(['lambda:InvokeFunction']);
    const invoke = statementsFor(statements, 'lambda:InvokeFunction')[0]!;
    expect(invoke.Resource).toEqual([
      { 'Fn::GetAtt': [functionOf(template, 'Revoke').logicalId, 'Arn'] },
    ]);
  });

  it("lets the revoke function read the runbook's executions (the form and who ran it), and the events function not", () => {
    const read = statementsFor(roleStatements(template, 'Revoke'), 'ssm:GetAutomationExecution');
    expect(read).toHaveLength(1);
    expect(read[0]!.Action).toEqual(['ssm:GetAutomationExecution']);
    expect(JSON.stringify(read[0]!.Resource)).toContain(':automation-execution/*');
    expect(
      statementsFor(roleStatements(template, 'RevokeEvents'), 'ssm:GetAutomationExecution'),
    ).toEqual([]);
  });

  it('comes with a managed policy for operators: start this runbook, follow it, pass its role to SSM only, invoke only the revoke function', () => {
    const policy =
      template.toJSON().Resources[
        logicalId(template, 'AWS::IAM::ManagedPolicy', 'RevokeOperatorPolicy')
      ];
    const statements = policy.Properties.PolicyDocument.Statement as Json[];
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(bySid.RunTheEmergencyRevokeRunbook.Action).toBe('ssm:StartAutomationExecution');
    expect(JSON.stringify(bySid.RunTheEmergencyRevokeRunbook.Resource)).toContain(
      'automation-definition/TokenRotation-EmergencyRevoke:*',
    );
    expect(bySid.RunbookRunsAsItsOwnRole.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' },
    });
    // token-rotation revoke invokes the revoke function; nothing else may be invoked.
    const invokes = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:'));
    expect(invokes).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [functionOf(template, 'Revoke').logicalId, 'Arn'] },
      }),
    ]);
  });
});

describe('the revoke outputs', () => {
  it('name the revoke function and the runbook, each with a console link, the Test event and the operator policy', () => {
    const outputs = template.toJSON().Outputs as Record<string, Json>;
    for (const id of [
      'RevokeFunctionName',
      'RevokeFunctionConsole',
      'RevokeTestEvent',
      'RevokeRunbookName',
      'RevokeRunbookConsole',
      'RevokeOperatorPolicyArn',
    ]) {
      expect(outputs[id], id).toBeDefined();
    }
    expect(JSON.stringify(outputs.RevokeRunbookConsole.Value)).toContain(
      'systems-manager/automation/execute/TokenRotation-EmergencyRevoke',
    );
  });
});

describe('the outputs the operator CLI reads', () => {
  it('publishes every stack output `npx token-rotation` looks up by name', () => {
    // Prepare
    const outputs = Object.keys(template.toJSON().Outputs ?? {});

    // Assess: renaming one breaks the CLI against every deployed stack
    expect(outputs).toContain(STACK_OUTPUT.auditTable);
    expect(outputs).toContain(STACK_OUTPUT.alertTopic);
    expect(outputs).toContain(STACK_OUTPUT.maxLifespanHours);
    expect(STACK_OUTPUT.revokeFunction.some((name) => outputs.includes(name))).toBe(true);
  });
});

describe('the revoke function invoked by the sweep', () => {
  it('is not retried by Lambda: the sweep hands the request over again at its next run', () => {
    // Prepare
    const revoke = functionOf(template, 'Revoke').logicalId;
    const configs = template.findResources('AWS::Lambda::EventInvokeConfig');

    // Assess
    const config = Object.values(configs).find((c: Json) =>
      JSON.stringify(c.Properties.FunctionName).includes(revoke),
    ) as Json;
    expect(config?.Properties.MaximumRetryAttempts).toBe(0);
  });
});
