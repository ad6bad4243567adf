// IAM grants several sub-constructs make: one statement with a stable Sid, KMS use through one
// service only, Secrets Manager actions on opted-in secrets, the secrets' own keys, and the token
// kinds' issuers as the kinds registry states them.
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type KindSettings, kindPermissions, resourceArn } from '#domain/kinds/registry';
import { TAG } from '#domain/vocabulary';
import { nagArn, nagPart, OPTED_IN, secretArns } from './support.ts';

export interface StatementGrant {
  sid: string;
  actions: readonly string[];
  resources: readonly string[];
  conditions?: Record<string, Record<string, unknown>>;
}

/** One statement, with its Sid, on `grantee`'s policy, as an iam.Grant. */
export function grantStatement(grantee: iam.IGrantable, statement: StatementGrant): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: [...statement.actions],
    resourceArns: [...statement.resources],
    conditions: statement.conditions,
  });
  for (const added of grant.principalStatements) added.sid = statement.sid;
  return grant;
}

/** KMS use of one of our keys, only through the AWS service that encrypts with it. */
export function grantKeyVia(
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
        StringEquals: { 'kms:ViaService': `${service}.${Stack.of(key).region}.amazonaws.com` },
      },
    }),
  );
}

/** Where a grant's statement goes and whom cdk-nag acknowledgements go to. */
export interface RoleFunction {
  readonly role?: iam.IRole;
  addToRolePolicy(statement: iam.PolicyStatement): void;
}

/**
 * Secrets Manager `actions` on opted-in secrets only: any secret of this account and region
 * that carries the lifespan tag. Secret ARNs are unknown at deploy time (users opt in by tag
 * later), so the tag condition, not the resource, is the scope.
 */
export function grantOptedInSecrets(
  fn: RoleFunction & Construct,
  sid: string,
  actions: string[],
): void {
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid,
      actions,
      resources: [secretArns(fn)],
      conditions: OPTED_IN,
    }),
  );
  // Acknowledged on the role: cdk-nag looks for acknowledgements on the policy's ancestors.
  Validations.of(fn.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'secretsmanager', 'secret:*')}]`,
    reason: `Secrets opt in by tag after deployment, so their ARNs are unknown here; the statement applies only to secrets carrying ${TAG.lifespan} (aws:ResourceTag condition) and lists its actions exactly.`,
  });
}

/**
 * `actions` with the keys of opted-in secrets (`secretKeyArns`, else any key of the account),
 * only through Secrets Manager in this region.
 */
export function grantSecretKeys(
  fn: RoleFunction & Construct,
  actions: string[],
  secretKeyArns: string[] | undefined,
): void {
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'SecretKeysThroughSecretsManager',
      actions,
      resources: secretKeyArns ?? [
        stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' }),
      ],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
      },
    }),
  );
  if (!secretKeyArns) {
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'kms', 'key/*')}]`,
      reason:
        'Opted-in secrets may be encrypted with any customer key, unknown at deploy time; kms:ViaService limits use to Secrets Manager in this region, and the secretKeyArns prop pins the keys.',
    });
  }
}

/**
 * Every token kind's issuer permissions, as the kinds registry states them (`kindPermissions`):
 * `mint` for the functions that mint and revoke, `retire` for the sweep. Each wildcard resource is
 * acknowledged to cdk-nag with the kind's own reason.
 */
export function grantKindIssuers(
  scope: Construct,
  grantee: iam.IGrantable,
  settings: KindSettings,
  role: 'mint' | 'retire',
): iam.Grant {
  const stack = Stack.of(scope);
  const place = { partition: stack.partition, region: stack.region, accountId: stack.account };
  // cdk-nag names a resource by its template form (`<AWS::AccountId>` for the token).
  const nagPlace = {
    partition: nagPart(stack.partition, 'AWS::Partition'),
    region: nagPart(stack.region, 'AWS::Region'),
    accountId: nagPart(stack.account, 'AWS::AccountId'),
  };
  let combined: iam.Grant | undefined;
  for (const permission of kindPermissions(settings, role)) {
    const grant = grantStatement(grantee, {
      sid: permission.sid,
      actions: permission.actions,
      resources: permission.resources.map((r) => resourceArn(r, place)),
    });
    combined = combined ? combined.combine(grant) : grant;
    if (!Construct.isConstruct(grantee.grantPrincipal)) continue;
    for (const resource of permission.resources.filter((r) => r.includes('*'))) {
      Validations.of(grantee.grantPrincipal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resourceArn(resource, nagPlace)}]`,
        reason: permission.wildcardReason,
      });
    }
  }
  return combined ?? iam.Grant.drop(grantee, 'no token kind needs an issuer permission');
}
