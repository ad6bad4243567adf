// Small pieces the sub-constructs share: ARNs as cdk-nag spells them, console links, outputs,
// the key policy of the suite's own keys, and the opted-in-secrets scope.
import { ArnFormat, Aws, CfnOutput, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { TAG } from '#domain/vocabulary';

/** The `service` dimension of every metric, and the Powertools service name of every function. */
export const SERVICE_NAME = 'token-rotation';

/**
 * An ARN of this stack as cdk-nag spells it in a finding ID: unresolved parts become
 * `<AWS::Region>` and friends, so acknowledgements match env-agnostic and pinned stacks alike.
 */
export function nagArn(stack: Stack, service: string, resource: string): string {
  return [
    'arn',
    nagPart(stack.partition, 'AWS::Partition'),
    service,
    nagPart(stack.region, 'AWS::Region'),
    nagPart(stack.account, 'AWS::AccountId'),
    resource,
  ].join(':');
}

/** One part of an ARN as cdk-nag spells it: a token becomes its pseudo parameter `<AWS::...>`. */
export function nagPart(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<${pseudo}>` : value;
}

export function consoleUrl(pathAndQuery: string): string {
  return `https://${Aws.REGION}.console.aws.amazon.com/${pathAndQuery}`;
}

/** A stack output with a plain logical ID, so `cdk deploy` prints `AlertTopicConsole = ...`. */
export function output(scope: Construct, id: string, value: string, description: string): void {
  new CfnOutput(scope, id, { value, description }).overrideLogicalId(id);
}

/** Every secret of this account and region (opted-in ones are chosen by tag, not by ARN). */
export function secretArns(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: '*',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The condition that limits a statement to opted-in secrets (those carrying the lifespan tag). */
export const OPTED_IN = { Null: { [`aws:ResourceTag/${TAG.lifespan}`]: 'false' } };

/**
 * AWS's default key policy, written out so it does not depend on the app's feature flags: the
 * account administers the key and IAM policies grant its use.
 */
export function accountAdministeredKeyPolicy(): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AccountAdministersKeyThroughIam',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:*'],
        resources: ['*'],
      }),
    ],
  });
}

/** The CLI finds a stack's tables, topic and functions by its outputs: DescribeStacks of it only. */
export function describeThisStack(stack: Stack): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'FindTheStackOutputs',
    actions: ['cloudformation:DescribeStacks'],
    resources: [
      stack.formatArn({
        service: 'cloudformation',
        resource: 'stack',
        resourceName: `${stack.stackName}/*`,
      }),
    ],
  });
}
