// The cdk-nag packs the app is checked against, at `cdk synth` and in the tests: AWS Solutions,
// Serverless, and NIST 800-53 rev 5. Every finding is fixed or acknowledged with a reason on the
// construct it concerns.
import { AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** One instance of each pack, for `Validations.of(app).addPlugins` or `validateScope`. */
export function nagPacks(scope: IConstruct) {
  return [
    new AwsSolutionsChecks(scope),
    new ServerlessChecks(scope),
    new NIST80053R5Checks(scope),
  ] as const;
}
