// The anchored audit trail's bucket: checkpoints of every audit chain's head, each written once
// and locked in COMPLIANCE mode, so nobody (the suite's own roles, an administrator, the account
// root) can delete or rewrite one before its retention ends, and the small function that writes
// one every sweep interval on its own schedule. verify-audit compares the chains with them; an
// auditor reads them with the AWS CLI alone (docs/anchored-audit.md).
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { secretPk } from '#adapters/audit-table';
import * as ENV from '#commons/env-names';
import type { Alerting } from './alerting.ts';
import type { AuditTrail } from './audit-trail.ts';
import { addDeadLetterQueue } from './dead-letters.ts';
import { grantStatement } from './grants.ts';
import { logicalIdOf } from './logical-ids.ts';
import type { SuiteFunctions } from './suite-functions.ts';

export interface AuditAnchorProps {
  /**
   * How long each checkpoint is locked (COMPLIANCE mode: not even the account root can delete
   * it or shorten its retention before then). The bucket's default retention and the writer's
   * per-object retention both use it.
   * @default 400
   */
  readonly retentionDays?: number;
  /**
   * A bucket for the checkpoint bucket's server access logs (prefix `audit-checkpoints/`).
   * @default none: every checkpoint is locked and hash-chained, so a delete or an overwrite is
   * refused or shows in verify-audit whoever tried; access logs would add who tried.
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * A customer-managed KMS key for the checkpoints.
   * @default SSE-S3 (S3-managed keys): checkpoints hold ARNs, sequence numbers and hashes only,
   * and an auditor then needs no kms:Decrypt to read them.
   */
  readonly encryptionKey?: kms.IKey;
}

/** What the checkpoint writer is wired to (`AuditAnchor.writeCheckpointsEvery`). */
export interface CheckpointWriterProps {
  /** The shared function settings the writer is created with. */
  readonly functions: SuiteFunctions;
  /** The audit table whose chain heads are anchored. */
  readonly auditTrail: AuditTrail;
  /** Where audit.chain-regressed goes, and the key of the schedule's dead-letter queue. */
  readonly alerting: Alerting;
}

/** Actions no checkpoint writer may take, denied outright so no other grant can add them. */
const WRITER_DENIED = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
  's3:PutBucketObjectLockConfiguration',
  's3:BypassGovernanceRetention',
  's3:PutObjectLegalHold',
  's3:PutBucketVersioning',
  's3:PutLifecycleConfiguration',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:DeleteBucket',
];

/**
 * An S3 bucket for audit checkpoints: Object Lock on with a COMPLIANCE default retention,
 * versioned, encrypted, private, TLS only, and kept on `cdk destroy`.
 *
 * @example
 * const anchor = new AuditAnchor(this, 'AuditAnchor', { retentionDays: 400 });
 * anchor.writeCheckpointsEvery(Duration.minutes(15), { functions, auditTrail, alerting });
 * anchor.grantRead(auditorRole);
 */
export class AuditAnchor extends Construct {
  /** The checkpoint bucket. */
  readonly bucket: s3.Bucket;
  /** Days each checkpoint is locked. */
  readonly retentionDays: number;
  /** Writes a checkpoint every interval (after `writeCheckpointsEvery`). */
  writerFunction?: lambda.Function;

  constructor(scope: Construct, id: string, props: AuditAnchorProps = {}) {
    super(scope, id);
    const days = props.retentionDays ?? 400;
    // S3 takes a whole number of days, 1 or more; 100 years is S3's own upper bound.
    if (!Number.isInteger(days) || days < 1 || days > 36_500) {
      throw new Error(`retentionDays must be a whole number from 1 to 36500, found ${days}`);
    }
    this.retentionDays = days;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(days)),
      versioned: true,
      ...(props.encryptionKey
        ? {
            encryption: s3.BucketEncryption.KMS,
            encryptionKey: props.encryptionKey,
            bucketKeyEnabled: true,
          }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Locked objects cannot be deleted anyway; the bucket outlives the stack like the audit table.
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.accessLogsBucket
        ? {
            serverAccessLogsBucket: props.accessLogsBucket,
            serverAccessLogsPrefix: 'audit-checkpoints/',
          }
        : {}),
    });
    if (!props.accessLogsBucket) {
      const reason =
        'Checkpoints are written once under COMPLIANCE Object Lock and chained by hash: a delete or overwrite is refused, and any new version or delete marker is reported by verify-audit, so access logs would only add who tried. Pass accessLogsBucket to keep them.';
      Validations.of(this.bucket).acknowledge({ id: 'AwsSolutions-S1', reason });
      Validations.of(this.bucket).acknowledge({
        id: 'NIST.800.53.R5-S3BucketLoggingEnabled',
        reason,
      });
    }
    if (!props.encryptionKey) {
      Validations.of(this.bucket).acknowledge({
        id: 'NIST.800.53.R5-S3DefaultEncryptionKMS',
        reason:
          'Checkpoints hold secret ARNs, record numbers and hashes only, never a secret value; SSE-S3 lets an auditor read them with S3 permissions alone. Pass encryptionKey for a customer-managed key.',
      });
    }
    Validations.of(this.bucket).acknowledge({
      id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
      reason:
        'A checkpoint anchors the audit table in the same region; losing the region loses the table it anchors too. COMPLIANCE Object Lock, not a replica, is what keeps checkpoints from being removed.',
    });
  }

  /**
   * The checkpoint writer: a function (lambdas/handlers/audit-anchor.ts) run by its own
   * EventBridge schedule every `interval`, which reads the HEAD items of the managed secrets and of
   * the chains the previous checkpoint anchored (BatchGetItem, never a Scan), alerts
   * audit.chain-regressed on each chain that went back, and writes one checkpoint to the bucket.
   */
  writeCheckpointsEvery(interval: Duration, props: CheckpointWriterProps): lambda.Function {
    const { functions, auditTrail, alerting } = props;
    // A BatchGetItem a 100 chains and one PutObject: a minute covers 100,000 chains with retries.
    // Concurrency 1: each checkpoint chains to the previous one by its hash.
    const writer = functions.add(this, 'CheckpointWriter', {
      entry: 'audit-anchor.ts',
      description:
        'Writes a checkpoint of every audit chain head to the Object Lock bucket; alerts when a chain went back',
      timeout: Duration.minutes(1),
      memorySize: 256,
      reservedConcurrency: 1,
      runbook:
        'An audit checkpoint run failed: records written since the last checkpoint are not anchored yet. Read the CheckpointWriter function logs; the next scheduled run writes a checkpoint that covers this interval too.',
    });
    writer.addEnvironment(ENV.CHECKPOINT_BUCKET_NAME, this.bucket.bucketName);
    writer.addEnvironment(ENV.CHECKPOINT_RETENTION_DAYS, String(this.retentionDays));
    writer.configureAsyncInvoke({ maxEventAge: interval, retryAttempts: 1 });
    const tick =
      'A checkpoint run carries nothing but its scheduled time and the next one anchors the same heads and more, so a failed or expired one has nothing to replay; the schedule has its own dead-letter queue for invocations that never reached the function.';
    for (const id of [
      'Serverless-LambdaDLQ',
      'NIST.800.53.R5-LambdaDLQ',
      'Serverless-LambdaAsyncFailureDestination',
    ]) {
      Validations.of(writer).acknowledge({ id, reason: tick });
    }
    this.grantWrite(writer);
    // Alerts are recorded in the audit trail (the outbox) before they are published.
    auditTrail.grantAppend(writer);
    alerting.grantPublish(writer);
    grantStatement(writer, {
      sid: 'ReadChainHeadsForCheckpoints',
      actions: ['dynamodb:BatchGetItem'],
      resources: [auditTrail.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [secretPk('*')] } },
    });
    this.schedule(writer, interval, props);
    this.writerFunction = writer;
    return writer;
  }

  /** The writer's schedule, its own role (invoke the writer, nothing else) and dead letters. */
  private schedule(writer: lambda.Function, interval: Duration, props: CheckpointWriterProps) {
    const { alerting, functions } = props;
    const role = new iam.Role(this, 'CheckpointScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'token-rotation: EventBridge Scheduler invokes the checkpoint writer',
    });
    const writerId = logicalIdOf(writer.node.defaultChild as lambda.CfnFunction);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${writerId}.Arn>:*]`,
      reason:
        'The scheduler target grants lambda:InvokeFunction on the checkpoint writer and its own versions and aliases (CDK grantInvoke); no other function.',
    });
    const deadLetters = addDeadLetterQueue(this, 'CheckpointSchedule', {
      key: alerting.key,
      alarmName: alerting.alarmName('checkpoint-schedule-dead-letters'),
      alarmAction: alerting.alarmAction,
      description:
        'EventBridge Scheduler could not invoke the CheckpointWriter function (the message attributes give the error). Fix the cause (the CheckpointScheduleRole, the function), then purge the queue: the next run anchors everything, nothing needs replaying.',
    });
    functions.alarms.push(deadLetters.alarm);
    alerting.grantDeadLetterKey(role);
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "The schedule's own permissions (invoke the writer, send to its dead-letter queue), one to one with its role and deleted with it; a managed policy could be attached elsewhere.",
    });
    new scheduler.Schedule(this, 'CheckpointSchedule', {
      description: `token-rotation audit checkpoint every ${interval.toMinutes()} minutes`,
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new schedulerTargets.LambdaInvoke(writer, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledAt: scheduler.ContextAttribute.scheduledTime,
        }),
        retryAttempts: 2,
        maxEventAge: interval,
        deadLetterQueue: deadLetters.queue,
      }),
    });
  }

  /**
   * Lets `grantee` write checkpoints: PutObject and PutObjectRetention (extend only: COMPLIANCE
   * retention cannot be shortened), and read back what it wrote. Deletes, lock changes and
   * governance bypass are denied explicitly, so no other policy can grant them.
   */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = this.grantObjects(
      grantee,
      'checkpoints/*',
      [
        's3:PutObject',
        's3:PutObjectRetention',
        's3:GetObject',
        's3:GetObjectVersion',
        's3:GetObjectRetention',
      ],
      ['s3:ListBucket'],
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'NeverDeleteOrUnlockCheckpoints',
        effect: iam.Effect.DENY,
        actions: WRITER_DENIED,
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );
    this.bucket.encryptionKey?.grantEncryptDecrypt(grantee);
    return grant;
  }

  /**
   * Lets `grantee` (an auditor, the CLI's verify-audit and evidence) list every version of every
   * checkpoint and read it with its retention: nothing that changes the bucket.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = this.grantObjects(
      grantee,
      '*',
      ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectRetention', 's3:GetObjectLegalHold'],
      [
        's3:ListBucket',
        's3:ListBucketVersions',
        's3:GetBucketObjectLockConfiguration',
        's3:GetBucketVersioning',
      ],
    );
    this.bucket.encryptionKey?.grantDecrypt(grantee);
    return grant;
  }

  /**
   * `objectActions` on the objects under `pattern` and `bucketActions` on the bucket, one grant;
   * the object wildcard acknowledged to cdk-nag.
   */
  private grantObjects(
    grantee: iam.IGrantable,
    pattern: string,
    objectActions: string[],
    bucketActions: string[],
  ): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: objectActions,
      resourceArns: [this.bucket.arnForObjects(pattern)],
    });
    grant.combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: bucketActions,
        resourceArns: [this.bucket.bucketArn],
      }),
    );
    this.acknowledgeObjectWildcard(grantee, pattern);
    return grant;
  }

  private acknowledgeObjectWildcard(grantee: iam.IGrantable, pattern: string): void {
    if (!Construct.isConstruct(grantee.grantPrincipal)) return;
    // cdk-nag names the resource by its template form: `<BucketLogicalId.Arn>/pattern`.
    const bucket = this.bucket.node.defaultChild as s3.CfnBucket;
    Validations.of(grantee.grantPrincipal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(bucket)}.Arn>/${pattern}]`,
      reason:
        'Checkpoint objects are named by the time they are written, so no fixed list of keys exists; the grant is limited to the checkpoint bucket.',
    });
  }
}
