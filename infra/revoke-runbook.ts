// The `<stack>-EmergencyRevoke` SSM Automation runbook, its own role, and the managed policy of
// the people allowed to run it.
import { Aws, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { keepParentLogicalIds } from './logical-ids.ts';
import { describeThisStack, nagArn, secretArns } from './support.ts';

export interface RevokeRunbookProps {
  /** The revoke function the runbook invokes (and which reads who ran it). */
  readonly revokeFunction: lambda.Function;
  /**
   * The runbook's name.
   *
   * @default `<stack name>-EmergencyRevoke`
   */
  readonly runbookName?: string;
}

/**
 * One aws:invokeLambdaFunction step, no script. It sends the revoke function only the execution's
 * ID (a UUID Systems Manager makes, so the form's text is never spliced into JSON); the function
 * reads the form's fields and who started the execution (ExecutedBy) back with
 * GetAutomationExecution, so no invoker can claim to be someone else. The runbook's role may
 * invoke the revoke function, nothing more.
 */
export class RevokeRunbook extends Construct {
  /** The SSM Automation document's name. */
  readonly runbookName: string;
  /** Attach to the people (or their role) allowed to run the runbook. */
  readonly operatorPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: RevokeRunbookProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const stack = Stack.of(this);
    const name = props.runbookName ?? `${stack.stackName}-EmergencyRevoke`;
    this.runbookName = name;
    const revoke = props.revokeFunction;
    const role = this.createRole(revoke);
    new ssm.CfnDocument(this, 'RevokeRunbook', {
      name,
      documentType: 'Automation',
      documentFormat: 'JSON',
      updateMethod: 'NewVersion',
      content: runbookContent(role.roleArn, revoke.functionArn),
    });
    this.operatorPolicy = this.createOperatorPolicy(name, role, revoke);
  }

  private executions(): string {
    return Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'automation-execution',
      resourceName: '*',
    });
  }

  private createRole(revoke: lambda.Function): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'RevokeRunbookRole', {
      assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'token-rotation: the EmergencyRevoke runbook invokes the revoke function',
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeTheRevokeFunctionOnly',
        actions: ['lambda:InvokeFunction'],
        resources: [revoke.functionArn],
      }),
    );
    revoke.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadWhoRanTheRunbook',
        actions: ['ssm:GetAutomationExecution'],
        resources: [this.executions()],
      }),
    );
    Validations.of(revoke.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ssm', 'automation-execution/*')}]`,
      reason:
        "An execution's ID is known only once it runs; the revoke function reads the runbook's execution (its form and ExecutedBy), nothing else.",
    });
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "The runbook's own permissions (invoke the revoke function, read its executions), one to one with its role and deleted with it; a managed policy could be attached elsewhere.",
    });
    return role;
  }

  private createOperatorPolicy(
    name: string,
    role: iam.Role,
    revoke: lambda.Function,
  ): iam.ManagedPolicy {
    const stack = Stack.of(this);
    const operatorPolicy = new iam.ManagedPolicy(this, 'RevokeOperatorPolicy', {
      description: `token-rotation: may run the ${name} runbook (emergency revoke) and follow its executions, and run token-rotation revoke`,
      statements: [
        ...this.cliRevokeStatements(revoke),
        new iam.PolicyStatement({
          sid: 'RunTheEmergencyRevokeRunbook',
          actions: ['ssm:StartAutomationExecution'],
          resources: [
            stack.formatArn({
              service: 'ssm',
              resource: 'automation-definition',
              resourceName: `${name}:*`,
            }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'SeeTheRunbookForm',
          actions: ['ssm:DescribeDocument', 'ssm:GetDocument'],
          resources: [
            stack.formatArn({ service: 'ssm', resource: 'document', resourceName: name }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'FollowExecutions',
          actions: ['ssm:GetAutomationExecution', 'ssm:DescribeAutomationStepExecutions'],
          resources: [this.executions()],
        }),
        new iam.PolicyStatement({
          sid: 'ListRunbooksAndExecutions',
          actions: ['ssm:ListDocuments', 'ssm:DescribeAutomationExecutions'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'RunbookRunsAsItsOwnRole',
          actions: ['iam:PassRole'],
          resources: [role.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
        }),
      ],
    });
    Validations.of(operatorPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ssm:ListDocuments and ssm:DescribeAutomationExecutions support no resource-level permissions; they let the console show the runbook and its executions.',
    });
    Validations.of(operatorPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ssm', 'automation-execution/*')}]`,
      reason:
        "An execution's ID is known only once it runs; operators may read executions, nothing else.",
    });
    Validations.of(operatorPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'cloudformation', `stack/${stack.stackName}/*`)}]`,
      reason:
        "This stack's ID suffix is known only once it is deployed; DescribeStacks of this one stack.",
    });
    Validations.of(operatorPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'secretsmanager', 'secret:*')}]`,
      reason:
        'The secret to revoke is chosen when a token leaks; DescribeSecret (metadata, no value) checks it exists before the revoke.',
    });
    Validations.of(operatorPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ssm', `automation-definition/${name}:*`)}]`,
      reason: 'Every version of this one runbook (the suffix is the document version).',
    });
    return operatorPolicy;
  }

  /**
   * What `token-rotation revoke` calls (test/cli/people-policies.test.ts derives these from its
   * calls): find the stack's outputs, check the secret exists, invoke the revoke function.
   */
  private cliRevokeStatements(revoke: lambda.Function): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    return [
      describeThisStack(stack),
      new iam.PolicyStatement({
        sid: 'CheckTheSecretExists',
        actions: ['secretsmanager:DescribeSecret'],
        resources: [secretArns(this)],
      }),
      new iam.PolicyStatement({
        sid: 'InvokeTheRevokeFunction',
        actions: ['lambda:InvokeFunction'],
        resources: [revoke.functionArn],
      }),
    ];
  }
}

/**
 * The Automation document: one step that invokes the revoke function with the execution ID. The
 * template's document, and the one the demo runs on the local AWS (with the local function).
 */
export function runbookContent(
  roleArn: string,
  revokeFunctionArn: string,
): Record<string, unknown> {
  return {
    schemaVersion: '0.3',
    description: `# Emergency revoke\n\nRevokes every live token of a secret managed by token-rotation (AWSCURRENT, AWSPREVIOUS, AWSPENDING) at its issuer, now. **reissue** (default) makes a fresh token current at once; **quarantine** leaves no valid token until a person runs this again with reissue. The revoke is audited (with who ran this runbook) and alerted.`,
    assumeRole: roleArn,
    parameters: {
      SecretId: { type: 'String', description: 'Name or ARN of the secret.' },
      Reason: {
        type: 'String',
        description:
          'Why the token must be revoked (1 to 256 characters): it goes to the audit trail and the alert e-mail.',
      },
      Mode: {
        type: 'String',
        description:
          'reissue: a fresh token at once. quarantine: no valid token until a person acts.',
        allowedValues: ['reissue', 'quarantine'],
        default: 'reissue',
      },
    },
    mainSteps: [
      {
        name: 'Revoke',
        action: 'aws:invokeLambdaFunction',
        // The action's limit, and the revoke function's own timeout.
        timeoutSeconds: 300,
        onFailure: 'Abort',
        inputs: {
          FunctionName: revokeFunctionArn,
          InvocationType: 'RequestResponse',
          Payload: '{"runbook": {"executionId": "{{ automation:EXECUTION_ID }}"}}',
        },
      },
    ],
    outputs: ['Revoke.Payload'],
  };
}
