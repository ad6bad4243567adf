// Alerts for people: the encrypted SNS topic, its e-mail subscriptions (with their dead letters),
// the key that encrypts alerts and every dead-letter queue, and how alarms publish to the topic.
import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { addDeadLetterQueue, allowServicesToDeadLetter } from './dead-letters.ts';
import { grantKeyVia } from './grants.ts';
import { keepParentLogicalIds } from './logical-ids.ts';
import { accountAdministeredKeyPolicy } from './support.ts';

export interface AlertingProps {
  /**
   * E-mail addresses that receive alerts, one SNS subscription each (with a dead-letter queue
   * `AlertEmailsDeadLetters` for what SNS could not deliver).
   *
   * @default - no subscriptions
   */
  readonly emails?: string[];

  /**
   * An existing topic to publish alerts to instead of creating one. Its access policy must let
   * CloudWatch alarms of this stack publish, and its key (if any) must let CloudWatch use it.
   *
   * @default - a new topic `AlertTopic`, encrypted with the alert key, TLS only
   */
  readonly topic?: sns.ITopic;

  /**
   * An existing KMS key for alerts and the dead-letter queues. Its key policy must let
   * CloudWatch, EventBridge and SNS use it (see dead-letters.ts).
   *
   * @default - a new key `AlertKey` (rotated yearly, deleted 7 days after `cdk destroy`)
   */
  readonly key?: kms.IKey;
}

/** The alert topic and key, the alarm action, and alarm names this stack's topic trusts. */
export class Alerting extends Construct {
  /** Alerts for people: e-mail subscriptions and the alarms publish here. */
  readonly topic: sns.ITopic;
  /** Encrypts alerts (when the topic is ours) and every dead-letter queue. */
  readonly key: kms.IKey;
  /** Publishes an alarm's state changes to the topic. */
  readonly alarmAction: cloudwatch.IAlarmAction;
  /** The alert e-mails' dead-letter queue and alarm, when there are addresses. */
  readonly emailDeadLetters?: { queue: sqs.IQueue; alarm: cloudwatch.IAlarm };

  constructor(scope: Construct, id: string, props: AlertingProps = {}) {
    super(scope, id);
    keepParentLogicalIds(this);
    this.key = props.key ?? this.createKey();
    this.topic = props.topic ?? this.createTopic();
    allowServicesToDeadLetter(this.key);
    this.alarmAction = new SnsAction(this.topic);
    this.emailDeadLetters = this.subscribe(props.emails ?? []);
  }

  /**
   * Alarm names start with the stack name: the alarm e-mail's subject is readable, and the
   * topic and key trust CloudWatch for this stack's alarms only.
   */
  alarmName(suffix: string): string {
    return `${Stack.of(this).stackName}-${suffix}`;
  }

  /** Lets `grantee` publish alerts to the alert topic (and use its key to do so). */
  grantPublish(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.topic.topicArn],
    });
    const key = this.topic.masterKey ?? this.key;
    grantKeyVia(grantee, key, 'sns', ['kms:Decrypt', 'kms:GenerateDataKey']);
    return grant;
  }

  /** Lets `grantee` send to a dead-letter queue encrypted with the alert key. */
  grantDeadLetterKey(grantee: iam.IGrantable): void {
    grantKeyVia(grantee, this.key, 'sqs', ['kms:Decrypt', 'kms:GenerateDataKey']);
  }

  private createKey(): kms.Key {
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

  private createTopic(): sns.Topic {
    const topic = new sns.Topic(this, 'AlertTopic', {
      displayName: 'Token rotation alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: this.alarmSourceConditions(),
      }),
    );
    return topic;
  }

  /**
   * One e-mail subscription per address, each redriving what SNS could not deliver (after its
   * retries) to the AlertEmailsDeadLetters queue, so a lost alert is kept and alarmed. That
   * alarm publishes to the same topic: the console and any confirmed address still see it.
   */
  private subscribe(addresses: string[]): Alerting['emailDeadLetters'] {
    if (addresses.length === 0) return undefined;
    const deadLetters = addDeadLetterQueue(this, 'AlertEmails', {
      key: this.key,
      alarmName: this.alarmName('alert-emails-dead-letters'),
      alarmAction: this.alarmAction,
      description:
        'Alerts SNS could not deliver to an e-mail subscription. Each message body is the alert (Subject and Message): read them in the SQS console, then purge; republishing to the topic would send them to every subscriber again.',
    });
    for (const address of addresses) {
      this.topic.addSubscription(
        new subscriptions.EmailSubscription(address, { deadLetterQueue: deadLetters.queue }),
      );
    }
    return deadLetters;
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
}
