// The managed policy of the people who read the trail: exactly what the CLI's `status`, `audit`,
// `verify-audit` and `evidence` call (test/cli/people-policies.test.ts derives that list from the
// calls the commands make on the local AWS), and nothing that writes, revokes or reads a value.
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { AuditTrail } from './audit-trail.ts';
import { keepParentLogicalIds } from './logical-ids.ts';
import { describeThisStack, nagArn, secretArns } from './support.ts';

export interface AuditorPolicyProps {
  readonly auditTrail: AuditTrail;
  readonly checkpointBucket: s3.IBucket;
}

/** Attach to the people (or their role) who audit: read the trail, verify it, export evidence. */
export class AuditorPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: AuditorPolicyProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const stack = Stack.of(this);
    const bucket = props.checkpointBucket;
    this.policy = new iam.ManagedPolicy(this, 'AuditorPolicy', {
      description: `token-rotation: may read, verify and export the audit trail of ${stack.stackName} and its status (token-rotation status, audit, verify-audit, evidence); no writes, no secret values`,
      statements: readStatements(this, props),
    });
    // Reading an encrypted table (and checkpoints under a customer key): through the service only.
    const decryptVia = (key: { keyArn: string }, service: string) =>
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `${service}.${stack.region}.amazonaws.com` },
        },
      });
    this.policy.addStatements(decryptVia(props.auditTrail.key, 'dynamodb'));
    if (bucket.encryptionKey) this.policy.addStatements(decryptVia(bucket.encryptionKey, 's3'));
    acknowledgeWildcards(this.policy, bucket);
  }
}

/** What each CLI command reads: stack outputs, the trail, secrets' metadata, the checkpoints. */
function readStatements(scope: Construct, props: AuditorPolicyProps): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const bucket = props.checkpointBucket;
  return [
    describeThisStack(stack),
    new iam.PolicyStatement({
      sid: 'ReadTheAuditTrail',
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resources: props.auditTrail.tableArns(),
    }),
    new iam.PolicyStatement({
      // verify-audit and evidence list every chain, also of secrets deleted long ago.
      sid: 'FindEveryChain',
      actions: ['dynamodb:Scan'],
      resources: [props.auditTrail.table.tableArn],
    }),
    new iam.PolicyStatement({
      sid: 'ListOptedInSecrets',
      actions: ['secretsmanager:ListSecrets'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      // Metadata and version dates; never GetSecretValue.
      sid: 'DescribeSecrets',
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds'],
      resources: [secretArns(scope)],
    }),
    new iam.PolicyStatement({
      sid: 'ListCheckpoints',
      actions: ['s3:ListBucket', 's3:ListBucketVersions'],
      resources: [bucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadCheckpoints',
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [bucket.arnForObjects('*')],
    }),
  ];
}

/** The wildcards the reads need, each with its reason. */
function acknowledgeWildcards(policy: iam.ManagedPolicy, bucket: s3.IBucket): void {
  const stack = Stack.of(policy);
  const bucketLogicalId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  for (const [resource, reason] of [
    [
      '*',
      'secretsmanager:ListSecrets supports no resource-level permissions; the CLI lists the opted-in secrets by their tag.',
    ],
    [
      nagArn(stack, 'cloudformation', `stack/${stack.stackName}/*`),
      "This stack's ID suffix is known only once it is deployed; DescribeStacks of this one stack.",
    ],
    [
      nagArn(stack, 'secretsmanager', 'secret:*'),
      'Metadata and version dates of any secret the trail names, also one opted out since; no secret value (no GetSecretValue).',
    ],
    [
      `<${bucketLogicalId}.Arn>/*`,
      'Checkpoint objects are named by the time they are written; read-only, this bucket only.',
    ],
  ]) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resource}]`,
      reason: reason!,
    });
  }
}
