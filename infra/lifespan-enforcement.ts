// Lifespan enforcement: the sweep (run by EventBridge Scheduler every sweep interval, with its
// own role and dead-letter queue, and an alarm when no sweep completes), and the tag-event fast
// path that attaches, updates or detaches rotation within about a minute of a tag change.
import { Aws, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { AUDIT_TABLE, OUTBOX_EVENT } from '#adapters/audit-table';
import * as ENV from '#commons/env-names';
import type { KindSettings } from '#domain/kinds/registry';
import { TAG } from '#domain/vocabulary';
import type { Alerting } from './alerting.ts';
import type { AuditTrail } from './audit-trail.ts';
import { addDeadLetterQueue } from './dead-letters.ts';
import type { FingerprintKey } from './fingerprint-key.ts';
import { grantKindIssuers, grantSecretKeys, grantStatement } from './grants.ts';
import { keepParentLogicalIds, logicalIdOf } from './logical-ids.ts';
import type { SuiteMetrics } from './metrics.ts';
import type { SuiteFunctions } from './suite-functions.ts';
import { nagArn, OPTED_IN, secretArns } from './support.ts';

export interface LifespanEnforcementProps {
  /** The shared function settings the functions are created with. */
  readonly functions: SuiteFunctions;
  readonly auditTrail: AuditTrail;
  readonly alerting: Alerting;
  /** The metrics the sweep alarm reads. */
  readonly metrics: SuiteMetrics;
  /** The rotation function the sweep and the tag events attach to secrets. */
  readonly rotationFunction: lambda.IFunction;
  /** The token kinds' settings the sweep's issuer grants (retire only) depend on. */
  readonly kinds: KindSettings;
  /**
   * Minutes between sweeps, from 1 to 1440.
   *
   * @default 15
   */
  readonly sweepIntervalMinutes?: number;
  /**
   * Keys of the opted-in secrets (the sweep reads previous tokens to revoke them).
   *
   * @default - any key of the account and region, through Secrets Manager only
   */
  readonly secretKeyArns?: string[];
}

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
 *    on the rotation function". Both roles get it on our rotation function only. The sweep may
 *    also invoke the revoke function (`handRevokeTagsTo`). No TagResource or UntagResource.
 */
export class LifespanEnforcement extends Construct {
  /** The lifespan sweep, run by EventBridge Scheduler every sweep interval. */
  readonly sweepFunction: lambda.Function;
  /** Attaches, updates or detaches rotation on CloudTrail tag events, within about a minute. */
  readonly tagEventsFunction: lambda.Function;
  /** The time between sweeps. */
  readonly sweepInterval: Duration;

  constructor(scope: Construct, id: string, props: LifespanEnforcementProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    this.sweepInterval = Duration.minutes(props.sweepIntervalMinutes ?? 15);
    this.sweepFunction = this.createSweep(props);
    this.schedule(props);
    this.tagEventsFunction = this.createTagEvents(props);
  }

  /**
   * The sweep indexes every token it sees under its keyed fingerprint (#domain/isolation): it
   * alone reads the key and writes the index.
   */
  indexTokens(key: FingerprintKey, environmentOrder: readonly string[]): iam.Grant {
    this.sweepFunction.addEnvironment(ENV.FINGERPRINT_KEY_SECRET_ARN, key.secret.secretArn);
    this.sweepFunction.addEnvironment(ENV.ENVIRONMENT_ORDER, environmentOrder.join(','));
    return key.grantIndex(this.sweepFunction);
  }

  /**
   * A revoke tag whose CloudTrail event never came (no trail) or whose revoke stopped part-way
   * stays on the secret; the sweep sees it and hands it to the revoke function (an asynchronous
   * invoke with REVOKE_FUNCTION_ARN). The sweep may invoke that function only, and gains none of
   * the revoke's own permissions: the revoke function does the work under its role.
   */
  handRevokeTagsTo(revoke: lambda.IFunction): iam.Grant {
    this.sweepFunction.addEnvironment(ENV.REVOKE_FUNCTION_ARN, revoke.functionArn);
    return grantStatement(this.sweepFunction, {
      sid: 'HandRevokeTagsToTheRevokeFunction',
      actions: ['lambda:InvokeFunction'],
      resources: [revoke.functionArn],
    });
  }

  /** The statements the sweep and the tag events share: rotate with ours, detach where untagged. */
  private attachStatements(rotation: lambda.IFunction): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        sid: 'RotateOptedInSecretsWithOurFunctionOnly',
        actions: ['secretsmanager:RotateSecret'],
        resources: [secretArns(this)],
        conditions: {
          ...OPTED_IN,
          StringEqualsIfExists: { 'secretsmanager:RotationLambdaARN': rotation.functionArn },
        },
      }),
      new iam.PolicyStatement({
        sid: 'StartRotationsOfOurFunction',
        actions: ['lambda:InvokeFunction'],
        resources: [rotation.functionArn],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeAndDetachWhereTheTagIsGone',
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:CancelRotateSecret'],
        resources: [secretArns(this)],
      }),
    ];
  }

  private acknowledgeSecrets(fn: lambda.IFunction): void {
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(Stack.of(this), 'secretsmanager', 'secret:*')}]`,
      reason: `Secrets opt in by tag after deployment, so their ARNs are unknown here. Token access and RotateSecret apply only to secrets carrying ${TAG.lifespan} (aws:ResourceTag); DescribeSecret and CancelRotateSecret apply to any secret because detaching a secret whose tag was removed is the case they exist for, and the code detaches only rotation of our own function.`,
    });
  }

  private createSweep(props: LifespanEnforcementProps): lambda.Function {
    // 15 minutes, Lambda's longest: a sweep lists 100 secrets a call (1,000 calls at 100,000)
    // and paces its writes at 40/s, so a mass opt-in can need more than any one invocation; the
    // handler stops 2 minutes before the end, saves a cursor, and the next sweep carries on.
    // 1024 MB: a page and the set of ARNs seen stay in memory, and CPU scales with memory.
    // Reserved concurrency 1: the cursor assumes one sweep at a time.
    const sweep = props.functions.add(this, 'Sweep', {
      entry: 'sweep.ts',
      description:
        'Enforces lifespans: attaches, updates or detaches rotation, rotates overdue secrets, revokes previous tokens after grace',
      timeout: Duration.minutes(15),
      memorySize: 1024,
      reservedConcurrency: 1,
      runbook:
        'A sweep failed: lifespans are not being enforced until one succeeds. Read the Sweep function logs (the one-line summary and the error), fix the cause; the next scheduled sweep carries on from its cursor.',
    });
    sweep.addEnvironment(ENV.ROTATION_FUNCTION_ARN, props.rotationFunction.functionArn);
    // Revokes previous tokens at their issuers after grace.
    grantKindIssuers(this, sweep, props.kinds, 'retire');
    // A sweep queued behind a running one (concurrency 1) is dropped after one interval: the
    // next scheduled one is due by then.
    sweep.configureAsyncInvoke({ maxEventAge: this.sweepInterval, retryAttempts: 1 });
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
    this.grantSweepSecrets(sweep, props);
    props.auditTrail.grantAppend(sweep);
    props.alerting.grantPublish(sweep);
    // The alert outbox: pending alerts sit in the byEvent index under one key, which the sweep
    // queries to deliver them (lambdas/adapters/sns-alerter.ts).
    grantStatement(sweep, {
      sid: 'FindUndeliveredAlerts',
      actions: ['dynamodb:Query'],
      resources: [`${props.auditTrail.table.tableArn}/index/${AUDIT_TABLE.byEventIndex}`],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [OUTBOX_EVENT] } },
    });
    props.auditTrail.grantSuiteState(sweep, ['sweep', 'managed']);
    // Whether consumers switched before a previous `random` token is revoked (switch-over).
    props.auditTrail.grantTokenUses(sweep, 'read');
    return sweep;
  }

  private grantSweepSecrets(sweep: lambda.Function, props: LifespanEnforcementProps): void {
    grantStatement(sweep, {
      sid: 'ListSecretsCannotBeScoped',
      actions: ['secretsmanager:ListSecrets'],
      resources: ['*'],
    });
    grantStatement(sweep, {
      sid: 'EnforceLifespanOnOptedInSecrets',
      actions: [
        'secretsmanager:ListSecretVersionIds',
        'secretsmanager:GetSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: [secretArns(this)],
      conditions: OPTED_IN,
    });
    for (const statement of this.attachStatements(props.rotationFunction)) {
      sweep.addToRolePolicy(statement);
    }
    // Revoking a previous token reads it (GetSecretValue), so the secrets' keys are needed.
    grantSecretKeys(sweep, ['kms:Decrypt'], props.secretKeyArns);
    this.acknowledgeSecrets(sweep);
    Validations.of(sweep.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets supports no resource-level permissions (the sweep filters on the lifespan tag itself), and active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords on "*".',
    });
  }

  /** The schedule, its own role (invoke the sweep, nothing else), dead letters and alarm. */
  private schedule(props: LifespanEnforcementProps): void {
    const { alerting, functions } = props;
    const sweep = this.sweepFunction;
    const schedulerRole = new iam.Role(this, 'SweepScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'token-rotation: EventBridge Scheduler invokes the sweep',
    });
    const sweepLogicalId = logicalIdOf(sweep.node.defaultChild as lambda.CfnFunction);
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${sweepLogicalId}.Arn>:*]`,
      reason:
        'The scheduler target grants lambda:InvokeFunction on the sweep function and its own versions and aliases (CDK grantInvoke); no other function.',
    });
    // Invocations Scheduler could not make (a broken role, a deleted function): the function's
    // throttles do not count, Lambda queues those itself.
    const deadLetters = addDeadLetterQueue(this, 'SweepSchedule', {
      key: alerting.key,
      alarmName: alerting.alarmName('sweep-schedule-dead-letters'),
      alarmAction: alerting.alarmAction,
      description:
        'EventBridge Scheduler could not invoke the Sweep function (the message attributes give the error). Fix the cause (the SweepScheduleRole, the function), then purge the queue: the next sweep does the missed work, nothing needs replaying.',
    });
    functions.alarms.push(deadLetters.alarm);
    alerting.grantDeadLetterKey(schedulerRole);
    Validations.of(schedulerRole).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "The schedule's own permissions (invoke the sweep, send to its dead-letter queue), one to one with its role and deleted with it; a managed policy could be attached elsewhere.",
    });
    const minutes = this.sweepInterval.toMinutes();
    new scheduler.Schedule(this, 'SweepSchedule', {
      description: `token-rotation sweep every ${minutes} minutes`,
      schedule: scheduler.ScheduleExpression.rate(this.sweepInterval),
      target: new schedulerTargets.LambdaInvoke(sweep, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledAt: scheduler.ContextAttribute.scheduledTime,
        }),
        // Retried while the Invoke call itself fails; no point past the next scheduled sweep.
        retryAttempts: 2,
        maxEventAge: this.sweepInterval,
        deadLetterQueue: deadLetters.queue,
      }),
    });
    // Two intervals without a completed pass (missing data included: a sweep that never runs
    // emits nothing) means lifespans are not being enforced. One interval could be jitter: a
    // sweep finishing just after a period boundary leaves one period empty and the next with two.
    const notCompleted = new cloudwatch.Alarm(this, 'SweepNotCompletedAlarm', {
      alarmName: alerting.alarmName('sweep-not-completed'),
      alarmDescription: `No sweep has completed a full pass in two sweep intervals (${minutes} minutes each): lifespans are not being enforced. Check the Sweep function's errors and logs (its one-line summary says whether it stops at its deadline, and where), and that the stack's SweepSchedule is enabled in EventBridge Scheduler.`,
      metric: props.metrics.sweepCompleted({ period: this.sweepInterval }),
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    functions.addAlarm(notCompleted);
  }

  private createTagEvents(props: LifespanEnforcementProps): lambda.Function {
    // One DescribeSecret and at most a RotateSecret or CancelRotateSecret and an audit write per
    // event: a minute covers SDK retries on throttling. 256 MB keeps it cheap.
    const tagEvents = props.functions.add(this, 'TagEvents', {
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
    tagEvents.addEnvironment(ENV.ROTATION_FUNCTION_ARN, props.rotationFunction.functionArn);
    // Resolved at synth, so roles added after this point (the revoke function's) are included.
    const roles = props.functions.roles;
    tagEvents.addEnvironment(
      ENV.SUITE_ROLE_ARNS,
      Lazy.string({ produce: () => roles.map((role) => role.roleArn).join(',') }),
    );
    for (const statement of this.attachStatements(props.rotationFunction)) {
      tagEvents.addToRolePolicy(statement);
    }
    this.acknowledgeSecrets(tagEvents);
    props.auditTrail.grantAppend(tagEvents);
    props.alerting.grantPublish(tagEvents);
    props.auditTrail.grantSuiteState(tagEvents, ['managed']);
    // CloudTrail management events (API calls) reach EventBridge only where a trail records
    // them: see README.md "CloudTrail, and what works without it". The sweep covers accounts
    // without one, one interval later.
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
          deadLetterQueue: props.functions.deadLettersOf(tagEvents),
        }),
      ],
    });
    return tagEvents;
  }
}
