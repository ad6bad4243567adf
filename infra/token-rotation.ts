// The TokenRotation construct: everything the suite deploys (functions, audit table, alert topic,
// alarms, dashboard, outputs), secure by default, so any CDK app adds the suite in one line. It
// composes the sub-constructs (AuditTrail, Alerting, RotationFunction, LifespanEnforcement,
// EmergencyRevoke, Monitoring, AuditAnchor); infra/logical-ids.ts keeps their resources' logical
// IDs as they were when all of it was this one class.
import { Aspects, Aws, type Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import * as ENV from '#commons/env-names';
import { METRIC_NAMES } from '#commons/metric-names';
import type { KindSettings } from '#domain/kinds/registry';
import { Alerting } from './alerting.ts';
import { AuditAnchor } from './audit-anchor.ts';
import { AuditTrail } from './audit-trail.ts';
import { AuditorPolicy } from './auditor-policy.ts';
import { EmergencyRevoke } from './emergency-revoke.ts';
import { FingerprintKey } from './fingerprint-key.ts';
import { grantKindIssuers } from './grants.ts';
import { LifespanEnforcement } from './lifespan-enforcement.ts';
import { FlatLogicalIds } from './logical-ids.ts';
import { SuiteMetrics } from './metrics.ts';
import { Monitoring } from './monitoring.ts';
import { RotationFunction } from './rotation-function.ts';
import { SuiteFunctions } from './suite-functions.ts';
import { consoleUrl, output, SERVICE_NAME } from './support.ts';
import { type Settings, validate } from './validate.ts';

export { SERVICE_NAME };

/** Powertools log levels the handlers understand. */
export type TokenRotationLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface TokenRotationProps {
  /**
   * E-mail addresses that receive alerts, one SNS subscription each. Each address gets a
   * confirmation e-mail from AWS and receives nothing until someone clicks its link.
   *
   * @default - no subscriptions: alerts reach the topic (and its console) only
   */
  readonly alertEmails?: string[];

  /**
   * How often the sweep enforces lifespans. The lifespan promise's slack is one interval, so a
   * shorter interval tightens it (and costs a little more). Whole minutes from 1 to 1440.
   *
   * @default Duration.minutes(15)
   */
  readonly sweepInterval?: Duration;

  /**
   * How long the functions' CloudWatch log groups keep their logs. The audit trail in DynamoDB
   * is the record of what happened; logs are for debugging.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Powertools log level of every function.
   *
   * @default 'INFO'
   */
  readonly logLevel?: TokenRotationLogLevel;

  /**
   * ARNs of the customer-managed KMS keys that encrypt opted-in secrets. When set, the rotation
   * function may use only these keys, and only through Secrets Manager in this region.
   *
   * @default - any KMS key of this account and region, only through Secrets Manager in this
   * region (`kms:ViaService`); this covers `aws/secretsmanager` and every customer key whose key
   * policy delegates to IAM
   */
  readonly secretKeyArns?: string[];

  /**
   * Concurrent executions reserved for the rotation function. Secrets Manager needs room for at
   * least 10 concurrent rotations; the reservation also caps the function so a burst of
   * rotations stays under Secrets Manager's write quotas and the issuers' rate limits.
   * From 10 to 1000; the account must keep 100 unreserved executions besides.
   *
   * @default 20
   */
  readonly rotationConcurrency?: number;

  /**
   * CloudWatch namespace of the metrics the functions emit (`RotationSucceeded`,
   * `RotationFailed`, `OverdueSecrets`, `SweepBacklog` and the others README "What it costs"
   * counts).
   *
   * @default 'TokenRotation'
   */
  readonly metricsNamespace?: string;

  /**
   * IAM path of the users whose access keys the suite may rotate (kind `iam-access-key`). The
   * functions may list, create, activate, deactivate and delete access keys of users under this
   * path only: create such users with `aws iam create-user --path /token-rotation/ ...`, or move
   * one there with `aws iam update-user --new-path`. Starts and ends with `/`; not `/` alone.
   *
   * @default '/token-rotation/'
   */
  readonly accessKeyUserPath?: string;

  /**
   * How long a previous IAM access key stays deactivated (after its grace) before it is deleted.
   * Whole hours from 1 hour to 365 days. Until then a person can reactivate it.
   *
   * @default Duration.days(7)
   */
  readonly deleteDeactivatedAfter?: Duration;

  /**
   * The longest lifespan any secret's `token-rotation:lifespan` tag may ask for: tokens live days,
   * not months. A longer tag is an invalid policy (audited and alerted once; nothing changes on
   * the secret). Whole hours from 4 hours to 365 days.
   *
   * @default Duration.days(30)
   */
  readonly maxLifespan?: Duration;

  /**
   * How many more grace periods a previous token may live when, at the end of its grace, its
   * issuer (or consumers' verifiers) says it is still used: its grace is extended once, and at
   * the extension's end it is revoked whether still used or not. Never past the secret's
   * lifespan. 0: revoked when grace ends, used or not. Whole numbers from 0 to 4.
   *
   * @default 1
   */
  readonly graceExtensions?: number;

  /**
   * Custom issuer functions (kind `lambda:<function>`) the suite may invoke, by name or ARN.
   * Any other function named in a kind tag fails its rotation with AccessDenied.
   *
   * @default - none
   */
  readonly issuerFunctions?: string[];

  /**
   * Days each audit checkpoint (the AuditAnchor bucket, COMPLIANCE Object Lock) is locked; not
   * even the account root can delete one sooner. Whole days from 1 to 36500.
   *
   * @default 400
   */
  readonly checkpointRetentionDays?: number;

  /**
   * Environments as `token-rotation:environment` names them, least trusted first: with
   * `token-rotation:isolation=enforce`, a token shared across two is rotated in the lower one
   * (both when their ranks are equal or either is not listed).
   *
   * @default ['ci', 'dev', 'staging', 'prod']
   */
  readonly environmentOrder?: string[];

  /**
   * An existing DynamoDB table to hold the audit trail, instead of creating `AuditTable`. It must
   * have the suite's key schema and indexes (lambdas/adapters/audit-table.ts).
   *
   * @default - a new table: on-demand, point-in-time recovery, deletion protection, retained
   */
  readonly auditTable?: dynamodb.ITable;

  /**
   * An existing KMS key for the audit table (when one is created) and the functions' logs. Its
   * key policy must let CloudWatch Logs of this account and region use it. Not together with an
   * `auditTable` that has its own key.
   *
   * @default - `auditTable`'s own key if it has one, else a new key `AuditKey` (retained)
   */
  readonly auditKey?: kms.IKey;

  /**
   * An existing SNS topic for alerts, instead of creating `AlertTopic`. Its policy must let this
   * stack's CloudWatch alarms publish (and use its key).
   *
   * @default - a new topic encrypted with the alert key
   */
  readonly alertTopic?: sns.ITopic;
}

/**
 * Metrics the alarms and the dashboard read. The handlers emit them with Powertools Metrics:
 * namespace from POWERTOOLS_METRICS_NAMESPACE, dimension `service` = POWERTOOLS_SERVICE_NAME
 * (Powertools adds it by default). Renaming one here silences an alarm, so the code side and
 * this list change together.
 *   RotationSucceeded  count, once per finishSecret that promoted a new AWSCURRENT
 *   RotationFailed     count, once per rotation step that failed (the rotation.failed audit)
 *   OverdueSecrets     gauge, emitted by each sweep: opted-in secrets past lifespan + grace
 *   SweepBacklog       gauge, emitted by each sweep: opted-in secrets its pass has yet to reach
 */
// One list with the handlers' (lambdas/commons/metrics.ts), so alarms can't drift from the code.
export const METRIC = METRIC_NAMES;

/**
 * Token rotation for AWS Secrets Manager: rotates every secret tagged `token-rotation:lifespan`,
 * audits every event in a hash-chained DynamoDB trail and alerts by e-mail.
 *
 * One per account and region: the tag is the opt-in, so two suites would fight over the same
 * secrets (and both alert on every rotation failure).
 */
export class TokenRotation extends Construct {
  /** The audit trail (and alert de-duplication marks). Survives `cdk destroy`. */
  readonly auditTable: dynamodb.ITable;
  /** Key of the audit table and the function logs. Survives `cdk destroy`. */
  readonly auditKey: kms.IKey;
  /** Alerts for people: e-mail subscriptions and the alarms publish here. */
  readonly alertTopic: sns.ITopic;
  /** Secrets Manager's rotation function (the four steps). */
  readonly rotationFunction: lambda.IFunction;
  /** Turns Secrets Manager's own RotationFailed / RotationAbandoned events into alerts. */
  readonly secretsManagerEventsFunction: lambda.IFunction;
  /** The lifespan sweep, run by EventBridge Scheduler every `sweepInterval`. */
  readonly sweepFunction: lambda.IFunction;
  /** Attaches, updates or detaches rotation on CloudTrail tag events, within about a minute. */
  readonly tagEventsFunction: lambda.IFunction;
  /** Emergency revoke by direct invoke (Lambda console Test) and by the runbook. */
  readonly revokeFunction: lambda.IFunction;
  /** Emergency revoke by the revoke tag (CloudTrail TagResource) and AWS Health events. */
  readonly revokeEventsFunction: lambda.IFunction;
  /** The SSM Automation runbook `<stack>-EmergencyRevoke`. */
  readonly revokeRunbookName: string;
  /**
   * Attach to the people (or their role) allowed to revoke: run the emergency revoke runbook
   * (Systems Manager console) and `token-rotation revoke`. Stack output `RevokeOperatorPolicyArn`.
   */
  readonly revokeOperatorPolicy: iam.IManagedPolicy;
  /**
   * Attach to the people (or their role) who audit: `token-rotation status`, `audit`,
   * `verify-audit` and `evidence`, and nothing that writes, revokes or reads a secret value.
   * Stack output `AuditorPolicyArn`.
   */
  readonly auditorPolicy: iam.IManagedPolicy;
  /** IAM path of the users whose access keys the functions may rotate. */
  readonly accessKeyUserPath: string;
  /** Rotations, failures, overdue secrets and function health. */
  readonly dashboard: cloudwatch.Dashboard;
  /** The S3 Object Lock bucket audit checkpoints are written to. Survives `cdk destroy`. */
  readonly checkpointBucket: s3.IBucket;

  /** The audit table and its key. */
  readonly auditTrail: AuditTrail;
  /** The alert topic, its key and subscriptions. */
  readonly alerting: Alerting;
  /** The audit checkpoints' bucket. */
  readonly auditAnchor: AuditAnchor;
  /** The sweep, its schedule and the tag-event fast path. */
  readonly lifespanEnforcement: LifespanEnforcement;
  /** The revoke functions, rules and runbook. */
  readonly emergencyRevoke: EmergencyRevoke;
  /** The token index's fingerprint key (a generated secret). Survives `cdk destroy`. */
  readonly fingerprintKey: FingerprintKey;

  private readonly metrics: SuiteMetrics;
  private readonly kinds: KindSettings;

  constructor(scope: Construct, id: string, props: TokenRotationProps = {}) {
    super(scope, id);
    const settings = validate(props);
    const stack = Stack.of(this);
    if (stack.node.findAll().some((c) => c !== this && c instanceof TokenRotation)) {
      throw new Error(
        `stack ${stack.stackName} already has a TokenRotation: deploy one per account and region (the tag opts a secret in, so two suites would rotate the same secrets)`,
      );
    }
    Aspects.of(this).add(new FlatLogicalIds(this));
    this.accessKeyUserPath = settings.accessKeyUserPath;
    this.kinds = settings;
    this.metrics = new SuiteMetrics(settings.metricsNamespace);

    this.alerting = new Alerting(this, 'Alerting', {
      emails: settings.alertEmails,
      topic: props.alertTopic,
    });
    this.alertTopic = this.alerting.topic;
    this.auditTrail = new AuditTrail(this, 'AuditTrail', {
      table: props.auditTable,
      encryptionKey: props.auditKey,
    });
    this.auditTable = this.auditTrail.table;
    this.auditKey = this.auditTrail.key;
    const functions = new SuiteFunctions({
      environment: this.environment(settings),
      logRetention: settings.logRetention,
      logKey: this.auditKey,
      alerting: this.alerting,
    });
    if (this.alerting.emailDeadLetters) functions.alarms.push(this.alerting.emailDeadLetters.alarm);
    this.auditAnchor = new AuditAnchor(this, 'AuditAnchor', {
      retentionDays: settings.checkpointRetentionDays,
    });
    this.checkpointBucket = this.auditAnchor.bucket;
    this.fingerprintKey = new FingerprintKey(this, 'FingerprintKey', this.auditTrail);
    const { rotation, lifespan, revoke, monitoring } = this.compose(settings, functions);
    this.rotationFunction = rotation.function;
    this.secretsManagerEventsFunction = rotation.eventsFunction;
    this.lifespanEnforcement = lifespan;
    this.sweepFunction = lifespan.sweepFunction;
    lifespan.indexTokens(this.fingerprintKey, settings.environmentOrder);
    revoke.indexRevokes(this.fingerprintKey);
    rotation.indexMinted(this.fingerprintKey);
    this.tagEventsFunction = lifespan.tagEventsFunction;
    this.emergencyRevoke = revoke;
    this.revokeFunction = revoke.revokeFunction;
    this.revokeEventsFunction = revoke.eventsFunction;
    this.revokeRunbookName = revoke.runbook.runbookName;
    this.revokeOperatorPolicy = revoke.runbook.operatorPolicy;
    this.dashboard = monitoring.dashboard;
    this.auditorPolicy = new AuditorPolicy(this, 'Auditor', {
      auditTrail: this.auditTrail,
      checkpointBucket: this.checkpointBucket,
    }).policy;
    addOutputs(this, settings);
  }

  /** Count of rotations that promoted a new token. */
  metricRotationSucceeded(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metrics.rotationSucceeded(options);
  }

  /** Count of failed rotation steps. */
  metricRotationFailed(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metrics.rotationFailed(options);
  }

  /** Opted-in secrets past their lifespan, as counted by the latest sweep. */
  metricOverdueSecrets(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metrics.overdueSecrets(options);
  }

  /** Sweeps that completed a full pass (1) or stopped at their deadline (0), per invocation. */
  metricSweepCompleted(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metrics.sweepCompleted(options);
  }

  /** Opted-in secrets a sweep pass had yet to reach when an invocation ended (0: it finished). */
  metricSweepBacklog(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metrics.sweepBacklog(options);
  }

  /**
   * Lets `grantee` reach the issuers of the token kinds, as the kinds registry states them
   * (`kindPermissions`): the access keys of the IAM users under `accessKeyUserPath` and the
   * `issuerFunctions`. With `mint: false`, only what retiring a previous token needs.
   */
  grantIssuers(grantee: iam.IGrantable, options: { mint?: boolean } = {}): iam.Grant {
    return grantKindIssuers(this, grantee, this.kinds, options.mint === false ? 'retire' : 'mint');
  }

  /**
   * Lets `grantee` read the audit trail (Query and GetItem on the table and its indexes) and its
   * checkpoints (every version, with its retention).
   */
  grantAuditRead(grantee: iam.IGrantable): iam.Grant {
    return this.auditTrail.grantRead(grantee).combine(this.auditAnchor.grantRead(grantee));
  }

  /** Lets `grantee` publish alerts to the alert topic (and use its key to do so). */
  grantAlertPublish(grantee: iam.IGrantable): iam.Grant {
    return this.alerting.grantPublish(grantee);
  }

  /**
   * Lets a service that accepts `random` tokens record, with the verifier
   * (lambdas/consumer/token-verifier.ts), that it was still presented the previous token of
   * these secrets: UpdateItem on their USE# items in the audit table only. Give it
   * secretsmanager:GetSecretValue on the secrets yourself (it already reads them).
   */
  grantRecordTokenUse(grantee: iam.IGrantable, secretArns: string[]): iam.Grant {
    return this.auditTrail.grantTokenUses(grantee, 'record', secretArns);
  }

  /** Lets `grantee` run `token-rotation scan`: read the fingerprint key and Query the token index. */
  grantScan(grantee: iam.IGrantable): iam.Grant {
    return this.fingerprintKey.grantScan(grantee);
  }

  /** Lets `grantee` start an emergency revoke by invoking the revoke function. */
  grantRevoke(grantee: iam.IGrantable): iam.Grant {
    return this.emergencyRevoke.grantInvoke(grantee);
  }

  /** Every function's handler environment; no --enable-source-maps (README "Cold starts"). */
  private environment(settings: Settings): Record<string, string> {
    return {
      [ENV.AUDIT_TABLE_NAME]: this.auditTable.tableName,
      [ENV.ALERT_TOPIC_ARN]: this.alertTopic.topicArn,
      [ENV.SWEEP_INTERVAL_MINUTES]: String(settings.sweepIntervalMinutes),
      [ENV.STACK_NAME]: Stack.of(this).stackName,
      [ENV.POWERTOOLS_SERVICE_NAME]: SERVICE_NAME,
      [ENV.POWERTOOLS_METRICS_NAMESPACE]: settings.metricsNamespace,
      [ENV.POWERTOOLS_LOG_LEVEL]: settings.logLevel,
      [ENV.DELETE_DEACTIVATED_AFTER_HOURS]: String(settings.deleteDeactivatedAfterHours),
      [ENV.MAX_LIFESPAN_HOURS]: String(settings.maxLifespanHours),
      [ENV.GRACE_EXTENSIONS]: String(settings.graceExtensions),
    };
  }

  /** The functions' sub-constructs, wired together, and the dashboard over them. */
  private compose(settings: Settings, functions: SuiteFunctions) {
    const shared = { functions, auditTrail: this.auditTrail, alerting: this.alerting };
    const rotation = new RotationFunction(this, 'RotationFunction', {
      ...shared,
      kinds: this.kinds,
      concurrency: settings.rotationConcurrency,
      secretKeyArns: settings.secretKeyArns,
    });

    const lifespan = new LifespanEnforcement(this, 'LifespanEnforcement', {
      ...shared,
      metrics: this.metrics,
      rotationFunction: rotation.function,
      kinds: this.kinds,
      sweepIntervalMinutes: settings.sweepIntervalMinutes,
      secretKeyArns: settings.secretKeyArns,
    });
    // The checkpoint writer runs on its own schedule, at the sweep's interval.
    this.auditAnchor.writeCheckpointsEvery(lifespan.sweepInterval, shared);

    const revoke = new EmergencyRevoke(this, 'EmergencyRevoke', {
      ...shared,
      kinds: this.kinds,
      secretKeyArns: settings.secretKeyArns,
    });
    lifespan.handRevokeTagsTo(revoke.revokeFunction);

    const monitoring = new Monitoring(this, 'Monitoring', {
      metrics: this.metrics,
      alerting: this.alerting,
      functions,
      sweepInterval: lifespan.sweepInterval,
    });
    return { rotation, lifespan, revoke, monitoring };
  }
}

/** The stack outputs, each with a console link where one helps (module-level: the class stays short). */
function addOutputs(suite: TokenRotation, settings: Settings): void {
  const topicArn = suite.alertTopic.topicArn;
  const tableName = suite.auditTable.tableName;
  output(suite, 'AlertTopicArn', topicArn, 'Alert topic (SNS)');
  output(
    suite,
    'AlertTopicConsole',
    consoleUrl(`sns/v3/home?region=${Aws.REGION}#/topic/${topicArn}`),
    'Alert topic in the SNS console: subscriptions and their confirmation state',
  );
  output(suite, 'AuditTableName', tableName, 'Audit trail (DynamoDB table)');
  output(
    suite,
    'MaxLifespanHours',
    String(settings.maxLifespanHours),
    'The longest lifespan a token-rotation:lifespan tag may ask for, in hours (maxLifespan)',
  );
  output(
    suite,
    'AuditTableConsole',
    consoleUrl(`dynamodbv2/home?region=${Aws.REGION}#table?name=${tableName}`),
    'Audit trail in the DynamoDB console',
  );
  output(
    suite,
    'DashboardConsole',
    consoleUrl(
      `cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${suite.dashboard.dashboardName}`,
    ),
    'Rotations, failures and overdue secrets',
  );
  output(
    suite,
    'AuditorPolicyArn',
    suite.auditorPolicy.managedPolicyArn,
    'Attach to the people who audit: token-rotation status, audit, verify-audit and evidence (read only)',
  );
  output(
    suite,
    'CheckpointBucketName',
    suite.checkpointBucket.bucketName,
    'Audit checkpoints (S3, Object Lock): verify-audit and evidence read them',
  );
}
