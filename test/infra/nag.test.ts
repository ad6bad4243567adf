// cdk-nag's AwsSolutions checks over the whole app, as `cdk synth` runs them: every finding is
// either fixed or acknowledged with a reason, and CDK itself reports no error or warning.
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type Synthesized, synthApp } from './support.ts';

/** Every unacknowledged finding, errors and warnings alike, as "rule at path". */
function findings(synth: Pick<Synthesized, 'app'>): string[] {
  const report = new AwsSolutionsChecks().validateScope(synth.app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} (${v.severity}) at ${r.constructPath}`),
  );
}

describe.each([
  ['the default app', {}],
  [
    'an app pinned to its secrets keys',
    {
      secretKeyArns: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    },
  ],
])('cdk-nag AwsSolutions on %s', (_name, context) => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthApp(context);
  });

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
  it('fails synth when a wildcard permission is added without an acknowledgement', () => {
    // Prepare: the real app plus one careless statement on a role of its own.
    const built = buildTestApp();
    const careless = new iam.Role(built.stack, 'Careless', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    careless.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));

    // Act
    const unacknowledged = findings(built);

    // Assess
    expect(unacknowledged).toContain(
      'AwsSolutions-IAM5[Action::s3:*] (error) at TokenRotation/Careless/DefaultPolicy/Resource',
    );
    expect(() => built.app.synth()).toThrow(/AwsSolutions-IAM5\[Action::s3:\*\]/);
  });
});
