// Where the suite's asynchronous paths fail to: one SQS dead-letter queue per destination (a
// function's asynchronous invocations together with the EventBridge targets that invoke it, the
// sweep's schedule, the alert e-mails), each with an alarm on the first message to land, so no
// event is dropped unseen. README.md "Dead-letter queues and replay" says how to replay each.
import { ArnFormat, Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** The key of the transient messages (the alert key): dead letters are alerts and events. */
  key: kms.IKey;
  alarmName: string;
  alarmAction: cloudwatch.IAlarmAction;
  /** What a message in the queue is, and what a person does about it (the alarm e-mail's text). */
  description: string;
}

/**
 * The queue `<id>DeadLetters` and its alarm `<id>DeadLettersAlarm`: encrypted with the alert key,
 * TLS only, messages kept 14 days (SQS's longest), alarmed as soon as one is visible.
 */
export function addDeadLetterQueue(
  scope: Construct,
  id: string,
  props: DeadLetterQueueProps,
): { queue: sqs.Queue; alarm: cloudwatch.Alarm } {
  const queue = new sqs.Queue(scope, `${id}DeadLetters`, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    // Reused data keys: one KMS request per 5 minutes per sender, not one per message.
    dataKeyReuse: Duration.minutes(5),
    retentionPeriod: Duration.days(14),
    enforceSSL: true,
  });
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'This queue is itself the dead-letter queue of the suite; what lands here stays 14 days and raises its alarm, so a dead-letter queue of its own would only move the same messages one queue further.',
  });
  // cdk-nag recognises a queue as a DLQ only when another queue or a function's DeadLetterConfig
  // names it, not when an EventBridge target, a schedule or an SNS subscription does.
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is a dead-letter queue: ${props.description}`,
  });
  const alarm = new cloudwatch.Alarm(scope, `${id}DeadLettersAlarm`, {
    alarmName: props.alarmName,
    alarmDescription: `${props.description} See README "Dead-letter queues and replay".`,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    // An idle queue publishes no metric: that is an empty queue, not a failure.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(props.alarmAction);
  return { queue, alarm };
}

/**
 * EventBridge (a rule target's dead letters) and SNS (an e-mail subscription's dead letters)
 * send to the queues as services, so the alert key's policy must let them encrypt; IAM cannot.
 * Scoped to this account's rules and topics: naming the exact rules or topic would make the key
 * depend on resources that depend on the key. Each queue's own policy admits only its senders
 * (the exact rule or topic ARN), so the key alone lets no one put a message anywhere.
 */
export function allowServicesToDeadLetter(key: kms.IKey): void {
  const stack = Stack.of(key);
  const senders: [string, string, string][] = [
    [
      'EventBridgeRulesSendDeadLetters',
      'events.amazonaws.com',
      stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }),
    ],
    [
      'SnsSubscriptionsSendDeadLetters',
      'sns.amazonaws.com',
      stack.formatArn({ service: 'sns', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }),
    ],
  ];
  for (const [sid, service, sourceArn] of senders) {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': sourceArn },
        },
      }),
    );
  }
}

/**
 * CloudWatch Logs encrypts the functions' log groups with the audit key (kept, like the log
 * groups, after cdk destroy), for log groups of this account and region only.
 */
export function allowLogsToEncrypt(key: kms.IKey): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryptsFunctionLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: [
        'kms:Encrypt*',
        'kms:Decrypt*',
        'kms:ReEncrypt*',
        'kms:GenerateDataKey*',
        'kms:Describe*',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}
