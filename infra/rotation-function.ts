// Secrets Manager's rotation function (the four steps) and the function that turns Secrets
// Manager's own RotationFailed / RotationAbandoned events into audit records and alerts.
import { ArnFormat, Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import * as ENV from '#commons/env-names';
import type { KindSettings } from '#domain/kinds/registry';
import type { Alerting } from './alerting.ts';
import type { AuditTrail } from './audit-trail.ts';
import type { FingerprintKey } from './fingerprint-key.ts';
import { grantKindIssuers, grantOptedInSecrets, grantSecretKeys } from './grants.ts';
import { keepParentLogicalIds } from './logical-ids.ts';
import type { SuiteFunctions } from './suite-functions.ts';

export interface RotationFunctionProps {
  /** The shared function settings the functions are created with. */
  readonly functions: SuiteFunctions;
  /** Where the rotation steps are audited. */
  readonly auditTrail: AuditTrail;
  /** Where failed rotations are alerted. */
  readonly alerting: Alerting;
  /** The token kinds' settings (IAM path, issuer functions) the issuer grants depend on. */
  readonly kinds: KindSettings;
  /**
   * Concurrent executions reserved for the rotation function.
   *
   * @default 20
   */
  readonly concurrency?: number;
  /**
   * Keys of the opted-in secrets the rotation may use, through Secrets Manager only.
   *
   * @default - any key of the account and region, through Secrets Manager only
   */
  readonly secretKeyArns?: string[];
}

/** The rotation function, invocable by Secrets Manager only, and its failure-events function. */
export class RotationFunction extends Construct {
  /** Secrets Manager's rotation function (the four steps). */
  readonly function: lambda.Function;
  /** Turns Secrets Manager's own RotationFailed / RotationAbandoned events into alerts. */
  readonly eventsFunction: lambda.Function;

  constructor(scope: Construct, id: string, props: RotationFunctionProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    this.function = this.createRotation(props);
    this.eventsFunction = this.createEvents(props);
  }

  /**
   * The rotation indexes the token it mints (#domain/rotation/minted-index): it reads the key
   * with AWSCURRENT in one call and writes the index item with its audit record.
   */
  indexMinted(key: FingerprintKey): iam.Grant {
    this.function.addEnvironment(ENV.FINGERPRINT_KEY_SECRET_ARN, key.secret.secretArn);
    Validations.of(this.function.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:BatchGetSecretValue supports no resource-level permissions (the values it returns still need GetSecretValue on each secret: opted-in secrets and the fingerprint key), and active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords on "*".',
    });
    return key.grantMint(this.function);
  }

  private createRotation(props: RotationFunctionProps): lambda.Function {
    // Each step is one invocation by Secrets Manager. 2 minutes covers the slowest step:
    // testSecret waits out IAM's eventual consistency (tens of seconds) and issuers are
    // third-party APIs behind SDK retries; beyond that, failing lets Secrets Manager retry.
    // 512 MB: CPU scales with memory, and cold starts (each rotation is usually one) parse a
    // bundle holding three SDK clients; rotations are rare, so the cost is cents.
    const rotation = props.functions.add(this, 'Rotation', {
      entry: 'rotation.ts',
      description: 'Rotates opted-in secrets through the four Secrets Manager rotation steps',
      timeout: Duration.minutes(2),
      memorySize: 512,
      reservedConcurrency: props.concurrency ?? 20,
      runbook:
        'Find the secret in the audit trail (byEvent index, event rotation.failed) or the alert e-mail; its AWSCURRENT is untouched. Fix the cause, then rotate it again from the Secrets Manager console.',
    });
    for (const pack of ['Serverless', 'NIST.800.53.R5']) {
      Validations.of(rotation).acknowledge({
        id: `${pack}-LambdaDLQ`,
        reason:
          'Secrets Manager, the only allowed caller, invokes each rotation step synchronously and reacts to its error itself (rotation.failed alert, RotationFailed event to the SecretsManagerEvents function and its dead-letter queue); no asynchronous invocation exists to dead-letter.',
      });
    }
    grantOptedInSecrets(rotation, 'RotateOptedInSecretsOnly', [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      // finishSecret reads the outgoing previous version's creation time (its revoke-after label).
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    // Reading and writing a secret encrypted with a customer key needs that key.
    grantSecretKeys(rotation, ['kms:Decrypt', 'kms:GenerateDataKey'], props.secretKeyArns);
    props.auditTrail.grantAppend(rotation);
    props.alerting.grantPublish(rotation);
    grantKindIssuers(this, rotation, props.kinds, 'mint');
    // Only Secrets Manager, for secrets of this account and region, may invoke the rotation.
    rotation.addPermission('SecretsManagerInvoke', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: Aws.ACCOUNT_ID,
      sourceArn: Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    });
    return rotation;
  }

  private createEvents(props: RotationFunctionProps): lambda.Function {
    // One audit write and one alert per event: 30 seconds is ample, 256 MB keeps it cheap.
    const smEvents = props.functions.add(this, 'SecretsManagerEvents', {
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
    // DescribeSecret finds the failed rotation's AWSPENDING version (metadata, never a value).
    grantOptedInSecrets(smEvents, 'DescribeOptedInSecrets', ['secretsmanager:DescribeSecret']);
    props.auditTrail.grantAppend(smEvents);
    props.alerting.grantPublish(smEvents);
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
          deadLetterQueue: props.functions.deadLettersOf(smEvents),
        }),
      ],
    });
    return smEvents;
  }
}
