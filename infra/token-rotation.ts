// The TokenRotation construct: everything the suite deploys (functions, audit table, alert topic,
// alarms, dashboard, outputs), secure by default, so any CDK app adds the suite in one line.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ArnFormat,
  Aws,
  CfnOutput,
  Duration,
  Lazy,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { AUDIT_TABLE, alertPk, OUTBOX_EVENT, secretPk, statePk } from '#adapters/audit-table';
import { METRIC_NAMES } from '#commons/metrics';
import { EXPOSED_CREDENTIAL_CODES } from '#domain/revoke-events';
import { TAG } from '#domain/vocabulary';
import {
  addDeadLetterQueue,
  allowLogsToEncrypt,
  allowServicesToDeadLetter,
} from './dead-letters.ts';

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
   * `RotationFailed`, `OverdueSecrets`).
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
   * Custom issuer functions (kind `lambda:<function>`) the suite may invoke, by name or ARN.
   * Any other function named in a kind tag fails its rotation with AccessDenied.
   *
   * @default - none
   */
  readonly issuerFunctions?: string[];
}

/**
 * Metrics the alarms and the dashboard read. The handlers emit them with Powertools Metrics:
 * namespace from POWERTOOLS_METRICS_NAMESPACE, dimension `service` = POWERTOOLS_SERVICE_NAME
 * (Powertools adds it by default). Renaming one here silences an alarm, so the code side and
 * this list change together.
 *   RotationSucceeded  count, once per finishSecret that promoted a new AWSCURRENT
 *   RotationFailed     count, once per rotation step that failed (the rotation.failed audit)
 *   OverdueSecrets     gauge, emitted by each sweep: opted-in secrets past lifespan + grace
 */
// One list with the handlers' (lambdas/commons/metrics.ts), so alarms can't drift from the code.
export const METRIC = METRIC_NAMES;

/** The `service` dimension of every metric, and the Powertools service name of every function. */
export const SERVICE_NAME = 'token-rotation';

// infra/ sits next to lambdas/ and package.json: resolve from this file, not the cwd, so the
// construct bundles the same code whichever CDK app (and working directory) uses it.
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ESM bundles of the AWS SDK still call require() for Node built-ins; give them one.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __tokenRotationCreateRequire } from 'node:module'; const require = __tokenRotationCreateRequire(import.meta.url);";

const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>".]+$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const NAMESPACE = /^[A-Za-z0-9._/#:-]{1,255}$/;
const LOG_LEVELS: readonly TokenRotationLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

interface FunctionSpec {
  /** File under lambdas/handlers/ that exports `handler`. */
  entry: string;
  description: string;
  timeout: Duration;
  memorySize: number;
  reservedConcurrency?: number;
  /** What the alarm e-mails tell a person to do. */
  runbook: string;
  /**
   * For a function invoked asynchronously: what its dead-letter queue `<id>DeadLetters` holds
   * and how to replay it. EventBridge targets of the function use the same queue.
   */
  deadLetters?: string;
}

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
  /** Customer-managed key of the audit table. Survives `cdk destroy`. */
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
  /** Attach to the people (or their role) allowed to run the emergency revoke runbook. */
  readonly revokeOperatorPolicy: iam.IManagedPolicy;
  /** IAM path of the users whose access keys the functions may rotate. */
  readonly accessKeyUserPath: string;
  /** Rotations, failures, overdue secrets and function health. */
  readonly dashboard: cloudwatch.Dashboard;

  private readonly table: dynamodb.Table;
  private readonly topic: sns.Topic;
  private readonly alertKey: kms.Key;
  private readonly alarmAction: SnsAction;
  private readonly environment: Record<string, string>;
  private readonly issuerFunctions: string[];
  private readonly logRetention: logs.RetentionDays;
  private readonly namespace: string;
  private readonly healthWidgets: cloudwatch.IWidget[] = [];
  private readonly alarms: cloudwatch.IAlarm[] = [];
  /** Every function role: the tag-event handler ignores tag changes these make. */
  private readonly suiteRoles: iam.IRole[] = [];
  /** Each asynchronously invoked function's dead-letter queue, shared with its event targets. */
  private readonly deadLetterQueues = new Map<lambda.IFunction, sqs.IQueue>();
  private sweepInterval: Duration = Duration.minutes(15);

  constructor(scope: Construct, id: string, props: TokenRotationProps = {}) {
    super(scope, id);
    const settings = validate(props);
    this.accessKeyUserPath = settings.accessKeyUserPath;
    this.issuerFunctions = settings.issuerFunctions;
    const stack = Stack.of(this);
    if (stack.node.findAll().some((c) => c !== this && c instanceof TokenRotation)) {
      throw new Error(
        `stack ${stack.stackName} already has a TokenRotation: deploy one per account and region (the tag opts a secret in, so two suites would rotate the same secrets)`,
      );
    }
    this.namespace = settings.metricsNamespace;
    this.logRetention = settings.logRetention;

    this.alertKey = this.createAlertKey();
    this.topic = new sns.Topic(this, 'AlertTopic', {
      displayName: 'Token rotation alerts',
      masterKey: this.alertKey,
      enforceSSL: true,
    });
    this.allowAlarmsToPublish();
    allowServicesToDeadLetter(this.alertKey);
    this.alertTopic = this.topic;
    this.alarmAction = new SnsAction(this.topic);
    this.subscribeAlertEmails(settings.alertEmails);

    const auditKey = new kms.Key(this, 'AuditKey', {
      description: `Encrypts the token-rotation audit trail and function logs of stack ${stack.stackName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: accountAdministeredKeyPolicy(),
    });
    this.auditKey = auditKey;
    allowLogsToEncrypt(auditKey);
    this.table = this.createAuditTable(auditKey);
    this.auditTable = this.table;

    this.environment = {
      AUDIT_TABLE_NAME: this.table.tableName,
      ALERT_TOPIC_ARN: this.topic.topicArn,
      SWEEP_INTERVAL_MINUTES: String(settings.sweepIntervalMinutes),
      STACK_NAME: stack.stackName,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: this.namespace,
      POWERTOOLS_LOG_LEVEL: settings.logLevel,
      DELETE_DEACTIVATED_AFTER_HOURS: String(settings.deleteDeactivatedAfterHours),
      MAX_LIFESPAN_HOURS: String(settings.maxLifespanHours),
      // Minified bundles: map stack traces back to the TypeScript source.
      NODE_OPTIONS: '--enable-source-maps',
    };

    // Each step is one invocation by Secrets Manager. 2 minutes covers the slowest step:
    // testSecret waits out IAM's eventual consistency (tens of seconds) and issuers are
    // third-party APIs behind SDK retries; beyond that, failing lets Secrets Manager retry.
    // 512 MB: CPU scales with memory, and cold starts (each rotation is usually one) parse a
    // bundle holding three SDK clients; rotations are rare, so the cost is cents.
    const rotation = this.addFunction('Rotation', {
      entry: 'rotation.ts',
      description: 'Rotates opted-in secrets through the four Secrets Manager rotation steps',
      timeout: Duration.minutes(2),
      memorySize: 512,
      reservedConcurrency: settings.rotationConcurrency,
      runbook:
        'Find the secret in the audit trail (byEvent index, event rotation.failed) or the alert e-mail; its AWSCURRENT is untouched. Fix the cause, then rotate it again from the Secrets Manager console.',
    });
    this.rotationFunction = rotation;
    for (const pack of ['Serverless', 'NIST.800.53.R5']) {
      Validations.of(rotation).acknowledge({
        id: `${pack}-LambdaDLQ`,
        reason:
          'Secrets Manager, the only allowed caller, invokes each rotation step synchronously and reacts to its error itself (rotation.failed alert, RotationFailed event to the SecretsManagerEvents function and its dead-letter queue); no asynchronous invocation exists to dead-letter.',
      });
    }
    this.grantOptedInSecrets(
      rotation,
      'RotateOptedInSecretsOnly',
      [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      settings.secretKeyArns,
    );
    this.grantAuditWrite(rotation);
    this.grantAlertPublish(rotation);
    this.grantIssuers(rotation);
    // Only Secrets Manager, for secrets of this account and region, may invoke the rotation.
    rotation.addPermission('SecretsManagerInvoke', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: Aws.ACCOUNT_ID,
      sourceArn: stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    });

    // One audit write and one alert per event: 30 seconds is ample, 256 MB keeps it cheap.
    const smEvents = this.addFunction('SecretsManagerEvents', {
      entry: 'secretsmanager-events.ts',
      description:
        "Audits and alerts Secrets Manager's own RotationFailed and RotationAbandoned events",
      timeout: Duration.seconds(30),
      memorySize: 256,
      // Guaranteed room to alert even when the account's other functions use up the pool, and a
      // cap on a burst of failures (events wait in Lambda's queue, they are not lost).
      reservedConcurrency: 5,
      runbook:
        'Secrets Manager reported a rotation that failed or was abandoned, possibly before our code ran. Check the secret in the Secrets Manager console and the rotation function logs.',
      deadLetters:
        "Secrets Manager RotationFailed/RotationAbandoned events the function failed on (after Lambda's retries) or EventBridge could not deliver, so their audit record or alert may be missing: check each message's secret in the Secrets Manager console, then replay it to the SecretsManagerEvents function.",
    });
    this.secretsManagerEventsFunction = smEvents;
    // DescribeSecret finds the failed rotation's AWSPENDING version (metadata, never a value).
    this.grantOptedInSecrets(
      smEvents,
      'DescribeOptedInSecrets',
      ['secretsmanager:DescribeSecret'],
      'none',
    );
    this.grantAuditWrite(smEvents);
    this.grantAlertPublish(smEvents);
    // Secrets Manager's rotation outcomes are CloudTrail service events: EventBridge receives
    // them with no trail configured.
    new events.Rule(this, 'SecretsManagerRotationEvents', {
      description: 'Secrets Manager rotations that failed or were abandoned',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed', 'RotationAbandoned'],
        },
      },
      targets: [
        new targets.LambdaFunction(smEvents, {
          retryAttempts: 8,
          deadLetterQueue: this.deadLetterQueues.get(smEvents),
        }),
      ],
    });

    const lifespan = this.addLifespanEnforcement(settings, rotation);
    this.sweepFunction = lifespan.sweep;
    this.tagEventsFunction = lifespan.tagEvents;

    const revoke = this.addEmergencyRevoke(settings);
    this.revokeFunction = revoke.direct;
    this.revokeEventsFunction = revoke.events;
    this.revokeRunbookName = revoke.runbookName;
    this.revokeOperatorPolicy = revoke.operatorPolicy;
    this.handRevokeTagsToRevoke(lifespan.sweep, revoke.direct);

    const rotationFailures = new cloudwatch.Alarm(this, 'RotationFailuresAlarm', {
      alarmName: this.alarmName('rotation-failures'),
      alarmDescription:
        'At least one rotation failed in the last 5 minutes. Each failed secret has its own alert e-mail with what to do; the audit trail lists them (event rotation.failed).',
      metric: this.metricRotationFailed({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    rotationFailures.addAlarmAction(this.alarmAction);
    this.alarms.push(rotationFailures);

    this.dashboard = this.createDashboard();

    this.output('AlertTopicArn', this.topic.topicArn, 'Alert topic (SNS)');
    this.output(
      'AlertTopicConsole',
      consoleUrl(`sns/v3/home?region=${Aws.REGION}#/topic/${this.topic.topicArn}`),
      'Alert topic in the SNS console: subscriptions and their confirmation state',
    );
    this.output('AuditTableName', this.table.tableName, 'Audit trail (DynamoDB table)');
    this.output(
      'MaxLifespanHours',
      String(settings.maxLifespanHours),
      'The longest lifespan a token-rotation:lifespan tag may ask for, in hours (maxLifespan)',
    );
    this.output(
      'AuditTableConsole',
      consoleUrl(`dynamodbv2/home?region=${Aws.REGION}#table?name=${this.table.tableName}`),
      'Audit trail in the DynamoDB console',
    );
    this.output(
      'DashboardConsole',
      consoleUrl(
        `cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${this.dashboard.dashboardName}`,
      ),
      'Rotations, failures and overdue secrets',
    );
  }

  /** Count of rotations that promoted a new token. */
  metricRotationSucceeded(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.rotationSucceeded, { statistic: 'Sum', ...options });
  }

  /** Count of failed rotation steps. */
  metricRotationFailed(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.rotationFailed, { statistic: 'Sum', ...options });
  }

  /** Opted-in secrets past their lifespan, as counted by the latest sweep. */
  metricOverdueSecrets(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.overdueSecrets, { statistic: 'Maximum', ...options });
  }

  /** Sweeps that completed a full pass (1) or stopped at their deadline (0), per invocation. */
  metricSweepCompleted(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC.sweepCompleted, { statistic: 'Sum', ...options });
  }

  /**
   * Lets `grantee` reach the issuers of the kinds beyond `random`: the access keys of the IAM
   * users under `accessKeyUserPath` (list, create, activate/deactivate, delete; never another
   * user's), those users' tags (a key is only created or retired for a user whose
   * `token-rotation:secret` tag names the secret), and the `issuerFunctions`. STS GetCallerIdentity needs no permission.
   */
  grantIssuers(grantee: iam.IGrantable, options: { mint?: boolean } = {}): void {
    // The sweep only retires keys (deactivate, delete), never creates one; it still reads the
    // binding tag, which guards retiring too (a secret naming another user's live key).
    const keyActions =
      options.mint === false
        ? [
            'iam:UpdateAccessKey',
            'iam:DeleteAccessKey',
            'iam:ListUserTags',
            'iam:GetAccessKeyLastUsed',
          ]
        : [
            'iam:ListAccessKeys',
            'iam:CreateAccessKey',
            'iam:UpdateAccessKey',
            'iam:DeleteAccessKey',
            'iam:ListUserTags',
            'iam:GetAccessKeyLastUsed',
          ];
    const stack = Stack.of(this);
    const users = stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'user',
      resourceName: `${this.accessKeyUserPath.slice(1)}*`,
    });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RotateAccessKeysOfUsersUnderPath',
        actions: keyActions,
        resources: [users],
      }),
    );
    // cdk-nag names a resource by its template form (`<AWS::AccountId>` for the token).
    const nagged: string[] = [
      `arn:<AWS::Partition>:iam::<AWS::AccountId>:user${this.accessKeyUserPath}*`,
    ];
    const functions = this.issuerFunctions.flatMap((ref) => {
      const byName = !ref.startsWith('arn:');
      const arn = byName
        ? stack.formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: ref,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          })
        : ref;
      // A tag may name an unqualified function with a version or alias qualifier.
      const qualified = byName ? ref.includes(':') : /:function:[^:]+:[^:]+$/.test(ref);
      if (qualified) return [arn];
      nagged.push(
        byName
          ? `arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${ref}:*`
          : `${ref}:*`,
      );
      return [arn, `${arn}:*`];
    });
    if (functions.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'InvokeCustomIssuers',
          actions: ['lambda:InvokeFunction'],
          resources: functions,
        }),
      );
    }
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      for (const resource of nagged) {
        Validations.of(grantee.grantPrincipal).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${resource}]`,
          reason: resource.includes(':iam::')
            ? 'Access keys of the IAM users under accessKeyUserPath only: the administrator decides which users the suite may rotate by where they put them.'
            : 'A custom issuer named in issuerFunctions, with any version or alias qualifier a kind tag may use.',
        });
      }
    }
  }

  /** Lets `grantee` read the audit trail (Query and GetItem on the table and its indexes). */
  grantAuditRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DescribeTable'],
      resourceArns: this.auditTableArns(),
    });
    this.grantKeyVia(grantee, this.auditKey, 'dynamodb', ['kms:Decrypt']);
    return grant;
  }

  /** Lets `grantee` publish alerts to the alert topic (and use its key to do so). */
  grantAlertPublish(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.topic.topicArn],
    });
    this.grantKeyVia(grantee, this.alertKey, 'sns', ['kms:Decrypt', 'kms:GenerateDataKey']);
    return grant;
  }

  private metric(metricName: string, options: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { service: SERVICE_NAME },
      ...options,
    });
  }

  /**
   * What the handlers do to the audit table, and no more. Audit records (SECRET#) are appended
   * with a conditional Put and read back by Query to find the chain's tip; alert marks (ALERT#)
   * are claimed, confirmed and released. Update and Delete are limited to marks
   * (dynamodb:LeadingKeys is the item's partition key), so no function can update or delete an
   * audit record. IAM cannot require PutItem's condition, so a compromised function could still
   * overwrite one with a Put: the hash chain is what reveals that (verify-audit), not IAM.
   */
  private grantAuditWrite(grantee: iam.IGrantable): void {
    const table = this.table.tableArn;
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AppendAuditRecordsAndAlertMarks',
        actions: ['dynamodb:PutItem'],
        resources: [table],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [secretPk('*'), alertPk('*')] },
        },
      }),
    );
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAuditChainTip',
        actions: ['dynamodb:Query'],
        resources: [table],
      }),
    );
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SettleAlertMarksOnly',
        actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [table],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [alertPk('*')] } },
      }),
    );
    this.grantKeyVia(grantee, this.auditKey, 'dynamodb', [
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
  }

  /**
   * Secrets Manager `actions` on opted-in secrets only: any secret of this account and region
   * that carries the lifespan tag. Secret ARNs are unknown at deploy time (users opt in by tag
   * later), so the tag condition, not the resource, is the scope.
   */
  private grantOptedInSecrets(
    fn: lambda.IFunction,
    sid: string,
    actions: string[],
    secretKeyArns?: string[] | 'none',
  ): void {
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid,
        actions,
        resources: [
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
        conditions: { Null: { [`aws:ResourceTag/${TAG.lifespan}`]: 'false' } },
      }),
    );
    // Acknowledged on the role: cdk-nag looks for acknowledgements on the policy's ancestors.
    const role = fn.role!;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'secretsmanager', 'secret:*')}]`,
      reason: `Secrets opt in by tag after deployment, so their ARNs are unknown here; the statement applies only to secrets carrying ${TAG.lifespan} (aws:ResourceTag condition) and lists its actions exactly.`,
    });
    if (secretKeyArns === 'none') return;

    // Reading and writing a secret encrypted with a customer key needs that key.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SecretKeysThroughSecretsManager',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: secretKeyArns ?? [
          stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' }),
        ],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
        },
      }),
    );
    if (!secretKeyArns) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'kms', 'key/*')}]`,
        reason:
          'Opted-in secrets may be encrypted with any customer key, unknown at deploy time; kms:ViaService limits use to Secrets Manager in this region, and the secretKeyArns prop pins the keys.',
      });
    }
  }

  /** KMS use of one of our keys, only through the AWS service that encrypts with it. */
  private grantKeyVia(
    grantee: iam.IGrantable,
    key: kms.IKey,
    service: 'dynamodb' | 'sns' | 'sqs',
    actions: string[],
  ): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions,
        resources: [key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `${service}.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }

  private auditTableArns(): string[] {
    const arn = this.table.tableArn;
    return [
      arn,
      `${arn}/index/${AUDIT_TABLE.byTimeIndex}`,
      `${arn}/index/${AUDIT_TABLE.byEventIndex}`,
    ];
  }

  // ---- lifespan enforcement: the sweep, its schedule and alarm, and the tag-event fast path ----

  /**
   * IAM, thought through (SPEC "Lifespan enforcement"; issue 4):
   *  - ListSecrets supports no resource or tag scoping, so it is granted on "*"; the sweep
   *    filters the listing on the lifespan tag itself.
   *  - What touches a secret's tokens (ListSecretVersionIds, GetSecretValue and
   *    UpdateSecretVersionStage to revoke a previous token after grace) and RotateSecret need the
   *    lifespan tag on the secret (aws:ResourceTag). RotateSecret may also name no function but
   *    ours (secretsmanager:RotationLambdaARN, IfExists: an immediate rotation of a secret whose
   *    rotation belongs to another function names none).
   *  - DescribeSecret and CancelRotateSecret are granted without the tag condition, on purpose:
   *    detaching rotation from a secret whose tag was removed is exactly the case where the tag
   *    is gone. Neither reads a value; the code cancels only where the secret's rotation function
   *    is ours (sweep-plan.ts `detach`), so another function's rotation is never detached.
   *  - RotateSecret's API reference: the caller "also need[s] lambda:InvokeFunction permissions
   *    on the rotation function". Both roles get it on our rotation function only (not on any
   *    other function: an overdue secret whose rotation belongs to another function may then be
   *    refused, and its lifespan.overdue alert is what a person acts on). The sweep may also
   *    invoke the revoke function, granted where that exists (handRevokeTagsToRevoke). No
   *    TagResource or UntagResource: neither function tags.
   */
  private addLifespanEnforcement(
    settings: Settings,
    rotation: lambda.IFunction,
  ): { sweep: lambda.Function; tagEvents: lambda.IFunction } {
    const stack = Stack.of(this);
    const interval = Duration.minutes(settings.sweepIntervalMinutes);
    this.sweepInterval = interval;
    const secretArns = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const optedIn = { Null: { [`aws:ResourceTag/${TAG.lifespan}`]: 'false' } };
    const rotateWithOurs = new iam.PolicyStatement({
      sid: 'RotateOptedInSecretsWithOurFunctionOnly',
      actions: ['secretsmanager:RotateSecret'],
      resources: [secretArns],
      conditions: {
        ...optedIn,
        StringEqualsIfExists: { 'secretsmanager:RotationLambdaARN': rotation.functionArn },
      },
    });
    const invokeOurs = new iam.PolicyStatement({
      sid: 'StartRotationsOfOurFunction',
      actions: ['lambda:InvokeFunction'],
      resources: [rotation.functionArn],
    });
    const detach = new iam.PolicyStatement({
      sid: 'DescribeAndDetachWhereTheTagIsGone',
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:CancelRotateSecret'],
      resources: [secretArns],
    });
    const acknowledgeSecrets = (fn: lambda.IFunction) =>
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'secretsmanager', 'secret:*')}]`,
        reason: `Secrets opt in by tag after deployment, so their ARNs are unknown here. Token access and RotateSecret apply only to secrets carrying ${TAG.lifespan} (aws:ResourceTag); DescribeSecret and CancelRotateSecret apply to any secret because detaching a secret whose tag was removed is the case they exist for, and the code detaches only rotation of our own function.`,
      });

    // 15 minutes, Lambda's longest: a sweep lists 100 secrets a call (1,000 calls at 100,000)
    // and paces its writes at 40/s, so a mass opt-in can need more than any one invocation; the
    // handler stops 2 minutes before the end, saves a cursor, and the next sweep carries on.
    // 1024 MB: a page and the set of ARNs seen stay in memory, and CPU scales with memory.
    // Reserved concurrency 1: the cursor assumes one sweep at a time.
    const sweep = this.addFunction('Sweep', {
      entry: 'sweep.ts',
      description:
        'Enforces lifespans: attaches, updates or detaches rotation, rotates overdue secrets, revokes previous tokens after grace',
      timeout: Duration.minutes(15),
      memorySize: 1024,
      reservedConcurrency: 1,
      runbook:
        'A sweep failed: lifespans are not being enforced until one succeeds. Read the Sweep function logs (the one-line summary and the error), fix the cause; the next scheduled sweep carries on from its cursor.',
    });
    sweep.addEnvironment('ROTATION_FUNCTION_ARN', rotation.functionArn);
    // Revokes previous tokens at their issuers after grace.
    this.grantIssuers(sweep, { mint: false });
    // A sweep queued behind a running one (concurrency 1) is dropped after one interval: the
    // next scheduled one is due by then.
    sweep.configureAsyncInvoke({ maxEventAge: interval, retryAttempts: 1 });
    // A sweep's event is a clock tick with no data of its own; the dropped one above is expected.
    const tick =
      'A sweep invocation carries nothing but its scheduled time and the next sweep does the same work from the saved cursor, so a failed or expired one (expected when a sweep outlasts its interval under reserved concurrency 1) has nothing to replay; SweepNotCompletedAlarm alerts when no sweep completes in two intervals, and the schedule has its own dead-letter queue for invocations that never reached the function.';
    for (const id of ['Serverless-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ']) {
      Validations.of(sweep).acknowledge({ id, reason: tick });
    }
    Validations.of(sweep).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason: tick,
    });
    sweep.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListSecretsCannotBeScoped',
        actions: ['secretsmanager:ListSecrets'],
        resources: ['*'],
      }),
    );
    sweep.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EnforceLifespanOnOptedInSecrets',
        actions: [
          'secretsmanager:ListSecretVersionIds',
          'secretsmanager:GetSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [secretArns],
        conditions: optedIn,
      }),
    );
    sweep.addToRolePolicy(rotateWithOurs);
    sweep.addToRolePolicy(invokeOurs);
    sweep.addToRolePolicy(detach);
    // Revoking a previous token reads it (GetSecretValue), so the secrets' keys are needed.
    sweep.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SecretKeysThroughSecretsManager',
        actions: ['kms:Decrypt'],
        resources: settings.secretKeyArns ?? [
          stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' }),
        ],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
        },
      }),
    );
    if (!settings.secretKeyArns) {
      Validations.of(sweep.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'kms', 'key/*')}]`,
        reason:
          'Opted-in secrets may be encrypted with any customer key, unknown at deploy time; kms:ViaService limits use to Secrets Manager in this region, and the secretKeyArns prop pins the keys.',
      });
    }
    acknowledgeSecrets(sweep);
    Validations.of(sweep.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets supports no resource-level permissions (the sweep filters on the lifespan tag itself), and active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords on "*".',
    });
    this.grantAuditWrite(sweep);
    this.grantAlertPublish(sweep);
    // The alert outbox: pending alerts sit in the byEvent index under one key, which the sweep
    // queries to deliver them (lambdas/adapters/sns-alerter.ts).
    sweep.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FindUndeliveredAlerts',
        actions: ['dynamodb:Query'],
        resources: [`${this.table.tableArn}/index/${AUDIT_TABLE.byEventIndex}`],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [OUTBOX_EVENT] } },
      }),
    );
    this.grantSuiteState(sweep, ['sweep', 'managed']);

    // Scheduler's own role may invoke the sweep and nothing else.
    const schedulerRole = new iam.Role(this, 'SweepScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'token-rotation: EventBridge Scheduler invokes the sweep',
    });
    const sweepLogicalId = stack.getLogicalId(sweep.node.defaultChild as lambda.CfnFunction);
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${sweepLogicalId}.Arn>:*]`,
      reason:
        'The scheduler target grants lambda:InvokeFunction on the sweep function and its own versions and aliases (CDK grantInvoke); no other function.',
    });
    // Invocations Scheduler could not make (a broken role, a deleted function): the function's
    // throttles do not count, Lambda queues those itself.
    const scheduleDeadLetters = addDeadLetterQueue(this, 'SweepSchedule', {
      key: this.alertKey,
      alarmName: this.alarmName('sweep-schedule-dead-letters'),
      alarmAction: this.alarmAction,
      description:
        'EventBridge Scheduler could not invoke the Sweep function (the message attributes give the error). Fix the cause (the SweepScheduleRole, the function), then purge the queue: the next sweep does the missed work, nothing needs replaying.',
    });
    this.alarms.push(scheduleDeadLetters.alarm);
    this.grantKeyVia(schedulerRole, this.alertKey, 'sqs', ['kms:Decrypt', 'kms:GenerateDataKey']);
    Validations.of(schedulerRole).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "The schedule's own permissions (invoke the sweep, send to its dead-letter queue), one to one with its role and deleted with it; a managed policy could be attached elsewhere.",
    });
    new scheduler.Schedule(this, 'SweepSchedule', {
      description: `token-rotation sweep every ${settings.sweepIntervalMinutes} minutes`,
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new schedulerTargets.LambdaInvoke(sweep, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledAt: scheduler.ContextAttribute.scheduledTime,
        }),
        // Retried while the Invoke call itself fails; no point past the next scheduled sweep.
        retryAttempts: 2,
        maxEventAge: interval,
        deadLetterQueue: scheduleDeadLetters.queue,
      }),
    });

    // Two intervals without a completed pass (missing data included: a sweep that never runs
    // emits nothing) means lifespans are not being enforced. One interval could be jitter: a
    // sweep finishing just after a period boundary leaves one period empty and the next with two.
    const notCompleted = new cloudwatch.Alarm(this, 'SweepNotCompletedAlarm', {
      alarmName: this.alarmName('sweep-not-completed'),
      alarmDescription: `No sweep has completed a full pass in two sweep intervals (${settings.sweepIntervalMinutes} minutes each): lifespans are not being enforced. Check the Sweep function's errors and logs (its one-line summary says whether it stops at its deadline, and where), and that the stack's SweepSchedule is enabled in EventBridge Scheduler.`,
      metric: this.metricSweepCompleted({ period: interval }),
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    notCompleted.addAlarmAction(this.alarmAction);
    this.alarms.push(notCompleted);

    // One DescribeSecret and at most a RotateSecret or CancelRotateSecret and an audit write per
    // event: a minute covers SDK retries on throttling. 256 MB keeps it cheap.
    const tagEvents = this.addFunction('TagEvents', {
      entry: 'tag-events.ts',
      description:
        'Attaches, updates or detaches rotation when a secret is tagged, untagged or created with the lifespan tag',
      timeout: Duration.minutes(1),
      memorySize: 256,
      // Paces a mass tagging (each event may start a rotation) under Secrets Manager's quotas;
      // events beyond wait in Lambda's queue, they are not lost.
      reservedConcurrency: 10,
      runbook:
        'A tag change could not be applied; the next sweep applies it anyway. Read the TagEvents function logs for the secret and the error.',
      deadLetters:
        'Secrets Manager tag changes (CloudTrail events) that failed to apply. The next sweep applies the tags anyway, so purging is safe; replay to the TagEvents function to apply them at once.',
    });
    tagEvents.addEnvironment('ROTATION_FUNCTION_ARN', rotation.functionArn);
    // Resolved at synth, so roles added after this point (the revoke function's) are included.
    tagEvents.addEnvironment(
      'SUITE_ROLE_ARNS',
      Lazy.string({ produce: () => this.suiteRoles.map((role) => role.roleArn).join(',') }),
    );
    tagEvents.addToRolePolicy(rotateWithOurs);
    tagEvents.addToRolePolicy(invokeOurs);
    tagEvents.addToRolePolicy(detach);
    acknowledgeSecrets(tagEvents);
    this.grantAuditWrite(tagEvents);
    this.grantAlertPublish(tagEvents);
    this.grantSuiteState(tagEvents, ['managed']);
    // CloudTrail management events (API calls) reach EventBridge only where a trail records
    // them: see README.md "CloudTrail, and what works without it". The sweep covers accounts without one, one interval later.
    new events.Rule(this, 'TagEventsRule', {
      description: 'Secrets Manager tag changes and new secrets: attach, update or detach rotation',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['TagResource', 'UntagResource', 'CreateSecret'],
        },
      },
      targets: [
        new targets.LambdaFunction(tagEvents, {
          retryAttempts: 4,
          maxEventAge: Duration.hours(1),
          deadLetterQueue: this.deadLetterQueues.get(tagEvents),
        }),
      ],
    });
    return { sweep, tagEvents };
  }

  // ---- emergency revoke: the functions, the tag and Health rules, the runbook, the operators' policy ----

  /**
   * SPEC "Emergency revoke". IAM, thought through:
   *  - Token access (GetSecretValue, PutSecretValue, UpdateSecretVersionStage) only on opted-in
   *    secrets (aws:ResourceTag). DescribeSecret on any secret of the account: a request for a
   *    secret that is not opted in must be answered "not opted in", not AccessDenied.
   *  - TagResource and UntagResource only on opted-in secrets and only for the two tags the
   *    revoke owns (aws:TagKeys): it removes token-rotation:revoke and sets last-revoked.
   *  - ListSecrets (no resource scoping) for the events function only: a Health event names an
   *    access key, and the secret holding it is found among iam-access-key secrets.
   *  - The lock is one STATE#revoke item per secret: GetItem and UpdateItem on those only.
   *  - The runbook runs as its own role, which may invoke the revoke function and read its own
   *    executions (who ran it); people need the operator policy to start it.
   */
  private addEmergencyRevoke(settings: Settings): {
    direct: lambda.IFunction;
    events: lambda.IFunction;
    runbookName: string;
    operatorPolicy: iam.IManagedPolicy;
  } {
    const stack = Stack.of(this);
    const secretArns = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const optedIn = { Null: { [`aws:ResourceTag/${TAG.lifespan}`]: 'false' } };
    // 5 minutes: an iam-access-key reissue waits out IAM's eventual consistency when testing the
    // new key, and a custom issuer may take 30 seconds a call; the lock goes stale at 15.
    const spec = {
      timeout: Duration.minutes(5),
      memorySize: 512,
      runbook:
        'An emergency revoke failed: its revoke.failed alert lists what was and was not revoked. Run the EmergencyRevoke runbook again for that secret, or revoke the token at its issuer by hand.',
    };
    const direct = this.addFunction('Revoke', {
      ...spec,
      // Reserved: an emergency revoke must find room even when the account's pool is used up.
      reservedConcurrency: 10,
      deadLetters:
        'Revoke requests the sweep handed over (a revoke tag still on the secret) that failed; one that got as far as the audit also sent a revoke.failed alert saying what was and was not revoked. The sweep hands a tag still on the secret over again at its next run; to revoke at once, run the EmergencyRevoke runbook for the secret, or replay the message to the Revoke function.',
      entry: 'revoke.ts',
      description:
        'Emergency revoke. Test event: {"secretId": "<name or ARN>", "reason": "<why>", "mode": "reissue" or "quarantine"}',
    });
    // Only the sweep invokes it asynchronously (a revoke tag whose event never came), and it hands
    // the same request over again at its next run: Lambda's own retries would only triple the
    // revoke.failed records of a request the revoke refuses.
    direct.configureAsyncInvoke({ retryAttempts: 0 });
    Validations.of(direct).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason:
        "A failed asynchronous revoke goes to the function's dead-letter queue (RevokeDeadLetters), which keeps the request exactly as the sweep sent it, the form a replay invokes with; an on-failure destination as well would hold every failure twice.",
    });
    const onEvents = this.addFunction('RevokeEvents', {
      ...spec,
      reservedConcurrency: 5,
      deadLetters:
        "Revoke-tag and AWS Health events whose emergency revoke failed after Lambda's retries or never reached the function. Revoke each named secret now with the EmergencyRevoke runbook (a revoke tag still on a secret is also picked up by the next sweep), or replay the message to the RevokeEvents function.",
      entry: 'revoke-events.ts',
      description:
        'Emergency revoke on the token-rotation:revoke tag and on AWS Health exposed-credential events',
    });
    for (const fn of [direct, onEvents]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'RevokeOptedInSecretsTokens',
          actions: [
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecretVersionStage',
          ],
          resources: [secretArns],
          conditions: optedIn,
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'DescribeAnySecretToAnswerNotOptedIn',
          actions: ['secretsmanager:DescribeSecret'],
          resources: [secretArns],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyTheRevokeTags',
          actions: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
          resources: [secretArns],
          conditions: {
            ...optedIn,
            'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.revoke, TAG.lastRevoked] },
          },
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'SecretKeysThroughSecretsManager',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: settings.secretKeyArns ?? [
            stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' }),
          ],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
          },
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'RevokeLockItems',
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resources: [this.table.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [statePk('revoke')] },
          },
        }),
      );
      this.grantAuditWrite(fn);
      this.grantAlertPublish(fn);
      this.grantIssuers(fn);
      const role = fn.role!;
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'secretsmanager', 'secret:*')}]`,
        reason: `Secrets opt in by tag after deployment, so their ARNs are unknown here. Token access and tagging apply only to secrets carrying ${TAG.lifespan} (aws:ResourceTag), tagging only to the revoke's two tags (aws:TagKeys); DescribeSecret reads no value and answers a request for a secret that is not opted in.`,
      });
      if (!settings.secretKeyArns) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'kms', 'key/*')}]`,
          reason:
            'Opted-in secrets may be encrypted with any customer key, unknown at deploy time; kms:ViaService limits use to Secrets Manager in this region, and the secretKeyArns prop pins the keys.',
        });
      }
    }
    onEvents.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListSecretsCannotBeScoped',
        actions: ['secretsmanager:ListSecrets'],
        resources: ['*'],
      }),
    );
    // Retried on failure (a partial revoke runs again and finishes); the lock keeps retries and
    // redeliveries to one revoke. An hour: an emergency revoke that late is still wanted.
    const eventTarget = new targets.LambdaFunction(onEvents, {
      retryAttempts: 4,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: this.deadLetterQueues.get(onEvents),
    });
    new events.Rule(this, 'RevokeTagRule', {
      description: `Emergency revoke: the ${TAG.revoke} tag set on a secret`,
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['TagResource'],
          requestParameters: { tags: { key: [TAG.revoke] } },
        },
      },
      targets: [eventTarget],
    });
    // Matched on the type code, not the service: these codes name exposed IAM access keys.
    new events.Rule(this, 'RevokeHealthRule', {
      description: 'Emergency revoke: AWS Health reports an exposed or compromised access key',
      eventPattern: {
        source: ['aws.health'],
        detailType: ['AWS Health Event'],
        detail: { eventTypeCode: [...EXPOSED_CREDENTIAL_CODES] },
      },
      targets: [eventTarget],
    });

    const runbook = this.addRevokeRunbook(direct);
    this.output(
      'RevokeFunctionName',
      direct.functionName,
      'Emergency revoke function (Test it in the Lambda console)',
    );
    this.output(
      'RevokeTestEvent',
      '{"secretId": "<secret name or ARN>", "reason": "<why>", "mode": "reissue"}',
      'Test event for the revoke function (mode reissue or quarantine)',
    );
    this.output(
      'RevokeRunbookName',
      runbook.name,
      'Emergency revoke runbook (Systems Manager Automation)',
    );
    this.output(
      'RevokeRunbookConsole',
      consoleUrl(`systems-manager/automation/execute/${runbook.name}?region=${Aws.REGION}`),
      'Run the emergency revoke runbook in the Systems Manager console',
    );
    this.output(
      'RevokeOperatorPolicyArn',
      runbook.operatorPolicy.managedPolicyArn,
      'Attach to the people allowed to run the emergency revoke runbook',
    );
    return {
      direct,
      events: onEvents,
      runbookName: runbook.name,
      operatorPolicy: runbook.operatorPolicy,
    };
  }

  /**
   * A revoke tag whose CloudTrail event never came (no trail) or whose revoke stopped part-way
   * stays on the secret; the sweep sees it and hands it to the revoke function (an asynchronous
   * invoke with REVOKE_FUNCTION_ARN). The sweep may invoke that function only, and gains none of
   * the revoke's own permissions: the revoke function does the work under its role.
   */
  private handRevokeTagsToRevoke(sweep: lambda.Function, revoke: lambda.IFunction): void {
    sweep.addEnvironment('REVOKE_FUNCTION_ARN', revoke.functionArn);
    sweep.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'HandRevokeTagsToTheRevokeFunction',
        actions: ['lambda:InvokeFunction'],
        resources: [revoke.functionArn],
      }),
    );
  }

  /**
   * The `<stack>-EmergencyRevoke` runbook: one aws:invokeLambdaFunction step, no script. It sends
   * the revoke function only the execution's ID (a UUID Systems Manager makes, so the form's text
   * is never spliced into JSON); the function reads the form's fields and who started the
   * execution (ExecutedBy) back with GetAutomationExecution, so no invoker can claim to be
   * someone else. The runbook's role may invoke the revoke function, nothing more.
   */
  private addRevokeRunbook(revoke: lambda.Function): {
    name: string;
    operatorPolicy: iam.ManagedPolicy;
  } {
    const stack = Stack.of(this);
    const name = `${stack.stackName}-EmergencyRevoke`;
    const executions = stack.formatArn({
      service: 'ssm',
      resource: 'automation-execution',
      resourceName: '*',
    });
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
        resources: [executions],
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
    new ssm.CfnDocument(this, 'RevokeRunbook', {
      name,
      documentType: 'Automation',
      documentFormat: 'JSON',
      updateMethod: 'NewVersion',
      content: {
        schemaVersion: '0.3',
        description: `# Emergency revoke\n\nRevokes every live token of a secret managed by token-rotation (AWSCURRENT, AWSPREVIOUS, AWSPENDING) at its issuer, now. **reissue** (default) makes a fresh token current at once; **quarantine** leaves no valid token until a person runs this again with reissue. The revoke is audited (with who ran this runbook) and alerted.`,
        assumeRole: role.roleArn,
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
              FunctionName: revoke.functionArn,
              InvocationType: 'RequestResponse',
              Payload: '{"runbook": {"executionId": "{{ automation:EXECUTION_ID }}"}}',
            },
          },
        ],
        outputs: ['Revoke.Payload'],
      },
    });

    const operatorPolicy = new iam.ManagedPolicy(this, 'RevokeOperatorPolicy', {
      description: `token-rotation: may run the ${name} runbook (emergency revoke) and follow its executions`,
      statements: [
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
          resources: [executions],
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
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ssm', `automation-definition/${name}:*`)}]`,
      reason: 'Every version of this one runbook (the suffix is the document version).',
    });
    return { name, operatorPolicy };
  }

  /** GetItem, PutItem and DeleteItem on the suite-state items `names` (STATE#<name>) only. */
  private grantSuiteState(fn: lambda.IFunction, names: string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SuiteStateItems',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': names.map((n) => statePk(n)) },
        },
      }),
    );
  }

  /**
   * A NodejsFunction with the suite's shared settings: its own role (no managed policies), its
   * own log group, the handler environment, tracing, and Errors/Throttles alarms.
   */
  private addFunction(id: string, spec: FunctionSpec): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: this.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
      // The audit key is kept after cdk destroy, as the log groups are, so they stay readable.
      encryptionKey: this.auditKey,
    });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `token-rotation ${id} function`,
    });
    this.suiteRoles.push(role);
    // The log group exists before the function, so CreateLogGroup is not needed.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: `The ${id} function's least privilege, one to one with its role and deleted with it; a managed policy could be attached elsewhere. Its statements are asserted action by action in test/infra.`,
    });
    const deadLetters =
      spec.deadLetters === undefined
        ? undefined
        : addDeadLetterQueue(this, id, {
            key: this.alertKey,
            alarmName: this.alarmName(`${id}-dead-letters`),
            alarmAction: this.alarmAction,
            description: spec.deadLetters,
          });
    if (deadLetters) {
      this.alarms.push(deadLetters.alarm);
      this.grantKeyVia(role, this.alertKey, 'sqs', ['kms:Decrypt', 'kms:GenerateDataKey']);
    }

    const fn = new nodejs.NodejsFunction(this, id, {
      entry: path.join(projectRoot, 'lambdas', 'handlers', spec.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: spec.description,
      timeout: spec.timeout,
      memorySize: spec.memorySize,
      reservedConcurrentExecutions: spec.reservedConcurrency,
      deadLetterQueue: deadLetters?.queue,
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: this.environment,
      bundling: bundlingOptions(),
    });

    // X-Ray has no resource-level permissions: PutTraceSegments needs Resource "*".
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*".',
    });
    // Node.js 22 is the runtime this suite is built and tested on (package engines, bundle target).
    for (const rule of ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion']) {
      Validations.of(fn).acknowledge({
        id: rule,
        reason:
          'nodejs22.x is the runtime the suite is built, bundled (target node22) and tested for; moving to a newer runtime is a tested change, not a default.',
      });
    }
    Validations.of(fn).acknowledge({
      id: 'NIST.800.53.R5-LambdaInsideVPC',
      reason:
        "The function calls only AWS APIs (Secrets Manager, DynamoDB, SNS, KMS, IAM, Lambda, X-Ray) and the token issuers' public HTTPS APIs; there is nothing in a VPC to reach, and a VPC would need a NAT gateway or an endpoint per service for the same TLS calls. IAM policies scope what it may do.",
    });
    if (deadLetters) this.deadLetterQueues.set(fn, deadLetters.queue);

    const period = Duration.minutes(5);
    const errors = new cloudwatch.Alarm(this, `${id}ErrorsAlarm`, {
      alarmName: this.alarmName(`${id}-errors`),
      alarmDescription: `The ${id} function failed at least once in 5 minutes. ${spec.runbook}`,
      metric: fn.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const throttles = new cloudwatch.Alarm(this, `${id}ThrottlesAlarm`, {
      alarmName: this.alarmName(`${id}-throttles`),
      alarmDescription: `The ${id} function was throttled in the last 5 minutes: its concurrency (or the account's) is exhausted, so work is delayed or lost. Raise the concurrency or the account quota.`,
      metric: fn.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [errors, throttles]) {
      alarm.addAlarmAction(this.alarmAction);
      this.alarms.push(alarm);
    }

    this.healthWidgets.push(
      new cloudwatch.GraphWidget({
        title: `${id}: invocations, errors, throttles`,
        left: [
          fn.metricInvocations({ statistic: 'Sum' }),
          fn.metricErrors({ statistic: 'Sum' }),
          fn.metricThrottles({ statistic: 'Sum' }),
        ],
        width: 12,
      }),
    );

    this.output(
      `${id}FunctionConsole`,
      consoleUrl(`lambda/home?region=${Aws.REGION}#/functions/${fn.functionName}`),
      `${id} function in the Lambda console`,
    );
    return fn;
  }

  private createAlertKey(): kms.Key {
    const key = new kms.Key(this, 'AlertKey', {
      description: `Encrypts token-rotation alerts of stack ${Stack.of(this).stackName}`,
      enableKeyRotation: true,
      // Alerts are transient (SNS keeps no messages): nothing to decrypt after destroy.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
      policy: accountAdministeredKeyPolicy(),
    });
    // CloudWatch alarms publish to the encrypted topic, so CloudWatch must use this key, for
    // alarms of this account and region only (confused deputy).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishEncrypted',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: this.alarmSourceConditions(),
      }),
    );
    return key;
  }

  /**
   * One e-mail subscription per address, each redriving what SNS could not deliver (after its
   * retries) to the AlertEmailsDeadLetters queue, so a lost alert is kept and alarmed. That
   * alarm publishes to the same topic: the console and any confirmed address still see it.
   */
  private subscribeAlertEmails(addresses: string[]): void {
    if (addresses.length === 0) return;
    const deadLetters = addDeadLetterQueue(this, 'AlertEmails', {
      key: this.alertKey,
      alarmName: this.alarmName('alert-emails-dead-letters'),
      alarmAction: this.alarmAction,
      description:
        'Alerts SNS could not deliver to an e-mail subscription. Each message body is the alert (Subject and Message): read them in the SQS console, then purge; republishing to the topic would send them to every subscriber again.',
    });
    this.alarms.push(deadLetters.alarm);
    for (const address of addresses) {
      this.topic.addSubscription(
        new subscriptions.EmailSubscription(address, { deadLetterQueue: deadLetters.queue }),
      );
    }
  }

  private allowAlarmsToPublish(): void {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: this.alarmSourceConditions(),
      }),
    );
  }

  /**
   * Alarm names start with the stack name: the alarm e-mail's subject is readable, and the
   * topic and key trust CloudWatch for this stack's alarms only.
   */
  private alarmName(suffix: string): string {
    return `${Stack.of(this).stackName}-${suffix}`;
  }

  private alarmSourceConditions(): Record<string, Record<string, string>> {
    return {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: {
        'aws:SourceArn': Stack.of(this).formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: this.alarmName('*'),
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
  }

  private createAuditTable(key: kms.IKey): dynamodb.Table {
    const table = new dynamodb.Table(this, 'AuditTable', {
      partitionKey: { name: AUDIT_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AUDIT_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: AUDIT_TABLE.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(table).acknowledge({
      id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
      reason:
        'The audit trail has point-in-time recovery (any second of the last 35 days), deletion protection, a retain policy and a hash chain that reveals any rewrite (verify-audit); an organization whose AWS Backup plans select resources by tag covers it there.',
    });
    for (const [indexName, partitionKey] of [
      [AUDIT_TABLE.byTimeIndex, AUDIT_TABLE.byTimePartitionKey],
      [AUDIT_TABLE.byEventIndex, AUDIT_TABLE.byEventPartitionKey],
    ] as const) {
      table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: AUDIT_TABLE.indexSortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }

  private createDashboard(): cloudwatch.Dashboard {
    const hour = Duration.hours(1);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Rotations per hour',
        left: [
          this.metricRotationSucceeded({ period: hour, label: 'succeeded' }),
          this.metricRotationFailed({ period: hour, label: 'failed' }),
        ],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Overdue secrets (latest sweep)',
        left: [
          this.metricOverdueSecrets({ period: this.sweepInterval, label: 'overdue' }),
          this.metricSweepCompleted({ period: this.sweepInterval, label: 'sweeps completed' }),
        ],
        width: 12,
      }),
      new cloudwatch.TextWidget({
        markdown:
          '**Overdue secrets** is emitted by the sweep at each run: opted-in secrets whose live token is older than their lifespan. Anything above zero for more than one sweep interval needs a look: the alert e-mails name each secret.',
        width: 12,
      }),
    );
    dashboard.addWidgets(...this.healthWidgets);
    return dashboard;
  }

  private output(id: string, value: string, description: string): void {
    // Plain logical IDs, so `cdk deploy` prints `AlertTopicConsole = https://...`.
    new CfnOutput(this, id, { value, description }).overrideLogicalId(id);
  }
}

interface Settings {
  alertEmails: string[];
  sweepIntervalMinutes: number;
  logRetention: logs.RetentionDays;
  logLevel: TokenRotationLogLevel;
  secretKeyArns: string[] | undefined;
  rotationConcurrency: number;
  metricsNamespace: string;
  accessKeyUserPath: string;
  deleteDeactivatedAfterHours: number;
  issuerFunctions: string[];
  maxLifespanHours: number;
}

/** Checks every prop before any resource exists, so a mistake fails synth with a clear reason. */
function validate(props: TokenRotationProps): Settings {
  const alertEmails = props.alertEmails ?? [];
  const seen = new Set<string>();
  for (const address of alertEmails) {
    if (Token.isUnresolved(address)) continue;
    if (!EMAIL.test(address)) {
      throw new Error(
        `alertEmails: "${address}" is not an e-mail address (expected one address like ops@example.com per entry)`,
      );
    }
    const key = address.toLowerCase();
    if (seen.has(key)) {
      throw new Error(
        `alertEmails: "${address}" is listed twice (each address gets one subscription)`,
      );
    }
    seen.add(key);
  }

  const interval = props.sweepInterval ?? Duration.minutes(15);
  let sweepIntervalMinutes: number;
  try {
    sweepIntervalMinutes = interval.toMinutes();
  } catch {
    throw new Error(
      `sweepInterval must be a whole number of minutes from 1 to 1440, got ${interval.toHumanString()}`,
    );
  }
  if (sweepIntervalMinutes < 1 || sweepIntervalMinutes > 1440) {
    throw new Error(
      `sweepInterval must be a whole number of minutes from 1 to 1440, got ${interval.toHumanString()}`,
    );
  }

  const logLevel = props.logLevel ?? 'INFO';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const secretKeyArns = props.secretKeyArns;
  if (secretKeyArns !== undefined) {
    if (secretKeyArns.length === 0) {
      throw new Error(
        'secretKeyArns must list at least one KMS key ARN, or be left out to allow any key through Secrets Manager',
      );
    }
    for (const arn of secretKeyArns) {
      if (!Token.isUnresolved(arn) && !KMS_KEY_ARN.test(arn)) {
        throw new Error(
          `secretKeyArns: "${arn}" is not a KMS key ARN (expected arn:aws:kms:<region>:<account>:key/<key id>; aliases are not allowed)`,
        );
      }
    }
  }

  const rotationConcurrency = props.rotationConcurrency ?? 20;
  if (
    !Number.isInteger(rotationConcurrency) ||
    rotationConcurrency < 10 ||
    rotationConcurrency > 1000
  ) {
    throw new Error(
      `rotationConcurrency must be a whole number from 10 to 1000 (Secrets Manager needs room for 10 concurrent rotations), got ${rotationConcurrency}`,
    );
  }

  const metricsNamespace = props.metricsNamespace ?? 'TokenRotation';
  if (!NAMESPACE.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) {
    throw new Error(
      `metricsNamespace must be 1 to 255 letters, digits or . _ - / # : and must not start with AWS/, got "${metricsNamespace}"`,
    );
  }

  const maxLifespanHours = props.maxLifespan?.toHours({ integral: false }) ?? 30 * 24;
  if (!Number.isInteger(maxLifespanHours) || maxLifespanHours < 4 || maxLifespanHours > 365 * 24) {
    throw new Error(
      `maxLifespan must be whole hours from 4 hours to 365 days, got ${props.maxLifespan?.toHumanString()}`,
    );
  }

  return {
    alertEmails,
    sweepIntervalMinutes,
    maxLifespanHours,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    logLevel,
    secretKeyArns,
    rotationConcurrency,
    metricsNamespace,
    ...validateIssuers(props),
  };
}

// IAM's path characters (\u0021-\u007E) less `/` and the IAM policy wildcards `*` and `?`: the
// path becomes a resource ARN, and `/*/` would grant key management over every user with a path.
const USER_PATH = /^\/([\x21-\x29\x2b-\x2e\x30-\x3e\x40-\x7e]+\/)+$/;
const FUNCTION_REF =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;

/** The token kinds' settings: the IAM path, the delete-after time and the issuer functions. */
function validateIssuers(
  props: TokenRotationProps,
): Pick<Settings, 'accessKeyUserPath' | 'deleteDeactivatedAfterHours' | 'issuerFunctions'> {
  const accessKeyUserPath = props.accessKeyUserPath ?? '/token-rotation/';
  if (
    !Token.isUnresolved(accessKeyUserPath) &&
    (!USER_PATH.test(accessKeyUserPath) || accessKeyUserPath.length > 512)
  ) {
    throw new Error(
      `accessKeyUserPath must be an IAM path below the root that starts and ends with / (e.g. /token-rotation/), got "${accessKeyUserPath}"`,
    );
  }
  const hours = props.deleteDeactivatedAfter?.toHours({ integral: false }) ?? 7 * 24;
  if (!Number.isInteger(hours) || hours < 1 || hours > 365 * 24) {
    throw new Error(
      `deleteDeactivatedAfter must be whole hours from 1 hour to 365 days, got ${props.deleteDeactivatedAfter?.toHumanString()}`,
    );
  }
  const issuerFunctions = props.issuerFunctions ?? [];
  for (const ref of issuerFunctions) {
    if (!Token.isUnresolved(ref) && !FUNCTION_REF.test(ref)) {
      throw new Error(
        `issuerFunctions must hold Lambda function names or ARNs (a qualifier allowed), got "${ref}"`,
      );
    }
  }
  return { accessKeyUserPath, deleteDeactivatedAfterHours: hours, issuerFunctions };
}

/**
 * AWS's default key policy, written out so it does not depend on the app's feature flags: the
 * account administers the key and IAM policies grant its use (the grants above).
 */
function accountAdministeredKeyPolicy(): iam.PolicyDocument {
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

function bundlingOptions(): nodejs.BundlingOptions {
  requireLocalEsbuild();
  return {
    format: nodejs.OutputFormat.ESM,
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    // Ship the SDK version the suite is tested with, not whatever the runtime carries.
    bundleAwsSDK: true,
    forceDockerBundling: false,
    logLevel: nodejs.LogLevel.ERROR,
  };
}

/**
 * NodejsFunction falls back to Docker when it cannot find esbuild. We never want that (no Docker
 * on CI, and a different esbuild would ship a different bundle), so fail with the fix instead.
 */
function requireLocalEsbuild(): void {
  try {
    createRequire(import.meta.url).resolve('esbuild');
  } catch {
    throw new Error(
      'esbuild is not installed: run `npm ci` in the token-rotation project (functions are bundled with the local esbuild, never with Docker)',
    );
  }
}

/**
 * An ARN of this stack as cdk-nag spells it in a finding ID: unresolved parts become
 * `<AWS::Region>` and friends, so acknowledgements match env-agnostic and pinned stacks alike.
 */
function nagArn(stack: Stack, service: string, resource: string): string {
  const part = (value: string, pseudo: string) =>
    Token.isUnresolved(value) ? `<${pseudo}>` : value;
  return [
    'arn',
    part(stack.partition, 'AWS::Partition'),
    service,
    part(stack.region, 'AWS::Region'),
    part(stack.account, 'AWS::AccountId'),
    resource,
  ].join(':');
}

function consoleUrl(pathAndQuery: string): string {
  return `https://${Aws.REGION}.console.aws.amazon.com/${pathAndQuery}`;
}
