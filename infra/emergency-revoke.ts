// Emergency revoke: the revoke function (direct invoke, the runbook, the sweep's hand-over), the
// events function behind the revoke-tag and AWS Health rules, and the runbook with its operators'
// policy (SPEC "Emergency revoke").
import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import * as ENV from '#commons/env-names';
import type { KindSettings } from '#domain/kinds/registry';
import { EXPOSED_CREDENTIAL_CODES } from '#domain/revoke-events';
import { TAG } from '#domain/vocabulary';
import type { Alerting } from './alerting.ts';
import type { AuditTrail } from './audit-trail.ts';
import type { FingerprintKey } from './fingerprint-key.ts';
import { grantKindIssuers, grantSecretKeys, grantStatement } from './grants.ts';
import { keepParentLogicalIds } from './logical-ids.ts';
import { RevokeRunbook } from './revoke-runbook.ts';
import type { FunctionSpec, SuiteFunctions } from './suite-functions.ts';
import { consoleUrl, nagArn, OPTED_IN, output, secretArns } from './support.ts';

export interface EmergencyRevokeProps {
  /** The shared function settings the functions are created with. */
  readonly functions: SuiteFunctions;
  readonly auditTrail: AuditTrail;
  readonly alerting: Alerting;
  /** The token kinds' settings the issuer grants depend on. */
  readonly kinds: KindSettings;
  /**
   * Keys of the opted-in secrets the revoke may use, through Secrets Manager only.
   *
   * @default - any key of the account and region, through Secrets Manager only
   */
  readonly secretKeyArns?: string[];
}

/**
 * IAM, thought through:
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
export class EmergencyRevoke extends Construct {
  /** Emergency revoke by direct invoke (Lambda console Test) and by the runbook. */
  readonly revokeFunction: lambda.Function;
  /** Emergency revoke by the revoke tag (CloudTrail TagResource) and AWS Health events. */
  readonly eventsFunction: lambda.Function;
  /** The runbook and the operators' policy. */
  readonly runbook: RevokeRunbook;

  constructor(scope: Construct, id: string, props: EmergencyRevokeProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    this.revokeFunction = this.createDirect(props);
    this.eventsFunction = this.createOnEvents(props);
    for (const fn of [this.revokeFunction, this.eventsFunction]) this.grantRevoke(fn, props);
    grantStatement(this.eventsFunction, {
      sid: 'ListSecretsCannotBeScoped',
      actions: ['secretsmanager:ListSecrets'],
      resources: ['*'],
    });
    this.addRules(props);
    this.runbook = new RevokeRunbook(this, 'Runbook', { revokeFunction: this.revokeFunction });
    this.addOutputs();
  }

  /**
   * Both revoke functions tell the token index of each token they revoke (`revokedAt`, so
   * `token-rotation scan` reports it revoked): they read the key and update FP# items only.
   */
  indexRevokes(key: FingerprintKey): void {
    for (const fn of [this.revokeFunction, this.eventsFunction]) {
      fn.addEnvironment(ENV.FINGERPRINT_KEY_SECRET_ARN, key.secret.secretArn);
      key.grantRecordRevokes(fn);
    }
  }

  /** Lets `grantee` start an emergency revoke: invoke the revoke function. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.revokeFunction.grantInvoke(grantee);
  }

  // 5 minutes: an iam-access-key reissue waits out IAM's eventual consistency when testing the
  // new key, and a custom issuer may take 30 seconds a call; the lock goes stale at 15.
  private static readonly SPEC: Omit<FunctionSpec, 'entry' | 'description'> = {
    timeout: Duration.minutes(5),
    memorySize: 512,
    runbook:
      'An emergency revoke failed: its revoke.failed alert lists what was and was not revoked. Run the EmergencyRevoke runbook again for that secret, or revoke the token at its issuer by hand.',
  };

  private createDirect(props: EmergencyRevokeProps): lambda.Function {
    const direct = props.functions.add(this, 'Revoke', {
      ...EmergencyRevoke.SPEC,
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
    return direct;
  }

  private createOnEvents(props: EmergencyRevokeProps): lambda.Function {
    return props.functions.add(this, 'RevokeEvents', {
      ...EmergencyRevoke.SPEC,
      reservedConcurrency: 5,
      deadLetters:
        "Revoke-tag and AWS Health events whose emergency revoke failed after Lambda's retries or never reached the function. Revoke each named secret now with the EmergencyRevoke runbook (a revoke tag still on a secret is also picked up by the next sweep), or replay the message to the RevokeEvents function.",
      entry: 'revoke-events.ts',
      description:
        'Emergency revoke on the token-rotation:revoke tag and on AWS Health exposed-credential events',
    });
  }

  /** What both revoke functions may do. */
  private grantRevoke(fn: lambda.Function, props: EmergencyRevokeProps): void {
    const secrets = secretArns(this);
    grantStatement(fn, {
      sid: 'RevokeOptedInSecretsTokens',
      actions: [
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: [secrets],
      conditions: OPTED_IN,
    });
    grantStatement(fn, {
      sid: 'DescribeAnySecretToAnswerNotOptedIn',
      actions: ['secretsmanager:DescribeSecret'],
      resources: [secrets],
    });
    grantStatement(fn, {
      sid: 'OnlyTheRevokeTags',
      actions: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
      resources: [secrets],
      conditions: {
        ...OPTED_IN,
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.revoke, TAG.lastRevoked] },
      },
    });
    grantSecretKeys(fn, ['kms:Decrypt', 'kms:GenerateDataKey'], props.secretKeyArns);
    props.auditTrail.grantRevokeLocks(fn);
    props.auditTrail.grantAppend(fn);
    props.alerting.grantPublish(fn);
    grantKindIssuers(this, fn, props.kinds, 'mint');
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(Stack.of(this), 'secretsmanager', 'secret:*')}]`,
      reason: `Secrets opt in by tag after deployment, so their ARNs are unknown here. Token access and tagging apply only to secrets carrying ${TAG.lifespan} (aws:ResourceTag), tagging only to the revoke's two tags (aws:TagKeys); DescribeSecret reads no value and answers a request for a secret that is not opted in.`,
    });
  }

  private addRules(props: EmergencyRevokeProps): void {
    // Retried on failure (a partial revoke runs again and finishes); the lock keeps retries and
    // redeliveries to one revoke. An hour: an emergency revoke that late is still wanted.
    const eventTarget = new targets.LambdaFunction(this.eventsFunction, {
      retryAttempts: 4,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: props.functions.deadLettersOf(this.eventsFunction),
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
  }

  private addOutputs(): void {
    const name = this.runbook.runbookName;
    output(
      this,
      'RevokeFunctionName',
      this.revokeFunction.functionName,
      'Emergency revoke function (Test it in the Lambda console)',
    );
    output(
      this,
      'RevokeTestEvent',
      '{"secretId": "<secret name or ARN>", "reason": "<why>", "mode": "reissue"}',
      'Test event for the revoke function (mode reissue or quarantine)',
    );
    output(
      this,
      'RevokeRunbookName',
      name,
      'Emergency revoke runbook (Systems Manager Automation)',
    );
    output(
      this,
      'RevokeRunbookConsole',
      consoleUrl(`systems-manager/automation/execute/${name}?region=${Aws.REGION}`),
      'Run the emergency revoke runbook in the Systems Manager console',
    );
    output(
      this,
      'RevokeOperatorPolicyArn',
      this.runbook.operatorPolicy.managedPolicyArn,
      'Attach to the people allowed to run the emergency revoke runbook',
    );
  }
}
