// cdk-nag's AwsSolutions, Serverless and NIST 800-53 rev 5 checks over the whole app, as
// `cdk synth` runs them: every finding is either fixed or acknowledged with a reason, and CDK
// itself reports no error or warning. `npx tsx test/infra/nag-counts.ts` counts them per rule.
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { nagPacks } from '../../infra/nag.ts';
import { buildTestApp, type Synthesized, synthApp } from './support.ts';

/** Every unacknowledged finding of every pack, errors and warnings alike, as "rule at path". */
function findings(synth: Pick<Synthesized, 'app'>): string[] {
  return nagPacks(synth.app).flatMap((pack) =>
    pack
      .validateScope(synth.app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} (${v.severity}) at ${r.constructPath}`),
      ),
  );
}

describe.each([
  ['the default app', {}],
  [
    'an app pinned to its secrets keys, with e-mail subscriptions',
    {
      secretKeyArns: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      alertEmails: 'ops@example.com,sec@example.com',
    },
  ],
])('cdk-nag AwsSolutions, Serverless and NIST 800-53 rev 5 on %s', (_name, context) => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthApp(context);
  }, 300_000);

  it('leaves no finding unacknowledged', () => {
    // Act
    const unacknowledged = findings(synth);

    // Assess
    expect(unacknowledged).toEqual([]);
  });

  it('synthesizes with the nag plugin registered, as cdk synth does', () => {
    // Act
    const assembly = synth.app.synth();

    // Assess
    expect(assembly.getStackByName(synth.stack.stackName).template.Resources).toBeDefined();
  });

  it('has no CDK error or warning annotation', () => {
    // Act
    const annotations = Annotations.fromStack(synth.stack);

    // Assess
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('the nag check itself', () => {
  // The real app plus two careless additions, built once: a role with a wildcard permission, and
  // a function an EventBridge rule invokes with nowhere to fail to.
  let built: Pick<Synthesized, 'app'>;
  let unacknowledged: string[];
  beforeAll(() => {
    const app = buildTestApp();
    const careless = new iam.Role(app.stack, 'Careless', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    careless.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    const forgetful = new lambda.Function(app.stack, 'Forgetful', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {};'),
      timeout: Duration.seconds(10),
      memorySize: 128,
    });
    new events.Rule(app.stack, 'ForgetfulRule', {
      eventPattern: { source: ['aws.secretsmanager'] },
      targets: [new targets.LambdaFunction(forgetful)],
    });
    built = app;
    unacknowledged = findings(built);
  }, 300_000);

  it('reports a wildcard permission added without an acknowledgement', () => {
    // Assess
    expect(unacknowledged).toContain(
      'AwsSolutions-IAM5[Action::s3:*] (error) at TokenRotation/Careless/DefaultPolicy/Resource',
    );
  });

  it('reports an event rule and a function with no dead-letter queue', () => {
    // Assess
    expect(unacknowledged).toEqual(
      expect.arrayContaining([
        'Serverless-EventBusDLQ (error) at TokenRotation/ForgetfulRule/Resource',
        'Serverless-LambdaDLQ (error) at TokenRotation/Forgetful/Resource',
        'NIST.800.53.R5-LambdaDLQ (error) at TokenRotation/Forgetful/Resource',
      ]),
    );
  });

  it('fails synth on those findings, as cdk synth does', () => {
    // Act
    let failure = '';
    try {
      built.app.synth();
    } catch (error) {
      failure = String(error);
    }

    // Assess
    expect(failure).toMatch(/AwsSolutions-IAM5\[Action::s3:\*\]/);
    expect(failure).toMatch(/Serverless-EventBusDLQ/);
  });
});
