// The execution role a Lambda function needs before CreateFunction accepts it: trusted by Lambda
// (sts:AssumeRole for lambda.amazonaws.com), made through the endpoint's own IAM API, as an
// account needs it. What the role may do is the caller's to add.
import { CreateRoleCommand, type IAMClient } from '@aws-sdk/client-iam';

/** Creates `roleName` trusted by Lambda; returns its ARN. */
export async function createLambdaRole(iam: IAMClient, roleName: string): Promise<string> {
  const { Role } = await iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    }),
  );
  return Role!.Arn!;
}
