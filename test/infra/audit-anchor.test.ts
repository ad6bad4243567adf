// The AuditAnchor construct synthesized in a bare stack: an Object Lock bucket whose checkpoints
// are locked in COMPLIANCE mode, a writer that can put and extend but never delete or unlock, a
// reader that changes nothing, and cdk-nag's AwsSolutions pack with every finding settled.
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { AuditAnchor, type AuditAnchorProps } from '../../infra/audit-anchor.ts';
import { nagPacks } from '../../infra/nag.ts';

/** A bucket for server access logs, as a user would bring one (it does not log itself). */
function accessLogBucket(stack: Stack): s3.Bucket {
  const bucket = new s3.Bucket(stack, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'The access-log bucket itself: S3 cannot log a log bucket into itself.',
  });
  return bucket;
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

function build(props?: AuditAnchorProps) {
  const app = new App();
  const stack = new Stack(app, 'AnchorStack', {
    env: { account: '111122223333', region: 'eu-west-1' },
  });
  const anchor = new AuditAnchor(stack, 'AuditAnchor', props);
  const writer = new iam.Role(stack, 'Writer', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  const auditor = new iam.Role(stack, 'Auditor', { assumedBy: new iam.AccountRootPrincipal() });
  const writeGrant = anchor.grantWrite(writer);
  const readGrant = anchor.grantRead(auditor);
  return { app, stack, anchor, writeGrant, readGrant, template: Template.fromStack(stack) };
}

/** Every statement of the policies attached to the role with logical ID prefix `role`. */
function statementsOf(template: Template, role: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(role)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[], effect: 'Allow' | 'Deny') =>
  statements.filter((s) => s.Effect === effect).flatMap((s) => [s.Action].flat());

describe('AuditAnchor', () => {
  it('creates a versioned, encrypted, private, TLS-only bucket with COMPLIANCE Object Lock for 400 days', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('takes the retention in days', () => {
    // Act
    const { template } = build({ retentionDays: 30 });

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } },
    });
  });

  it('fails on a retention that is not a whole number of days from 1', () => {
    // Act / Assess
    expect(() => build({ retentionDays: 0 })).toThrow(
      'retentionDays must be a whole number from 1 to 36500, found 0',
    );
    expect(() => build({ retentionDays: 1.5 })).toThrow('found 1.5');
  });

  it('lets the writer put checkpoints and extend their retention, and denies every delete and unlock', () => {
    // Act
    const { template, writeGrant } = build();
    const writer = statementsOf(template, 'Writer');
    const allowed = actionsOf(writer, 'Allow');
    const denied = actionsOf(writer, 'Deny');

    // Assess
    expect(writeGrant.success).toBe(true);
    expect(allowed).toEqual(
      expect.arrayContaining(['s3:PutObject', 's3:PutObjectRetention', 's3:ListBucket']),
    );
    expect(allowed.filter((a) => /Delete|Bypass|LockConfiguration|\*/.test(a))).toEqual([]);
    expect(denied).toEqual(
      expect.arrayContaining([
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:PutBucketObjectLockConfiguration',
        's3:BypassGovernanceRetention',
      ]),
    );
  });

  it('lets an auditor list and read every checkpoint version and its retention, and change nothing', () => {
    // Act
    const { template, readGrant } = build();
    const allowed = actionsOf(statementsOf(template, 'Auditor'), 'Allow');

    // Assess
    expect(readGrant.success).toBe(true);
    expect(allowed).toEqual(
      expect.arrayContaining([
        's3:ListBucketVersions',
        's3:GetObjectVersion',
        's3:GetObjectRetention',
      ]),
    );
    expect(allowed.filter((a) => /Put|Delete|Bypass/.test(a))).toEqual([]);
  });

  it.each([
    ['without an access-log bucket', false],
    ['with an access-log bucket', true],
  ])('leaves no cdk-nag finding on the construct unacknowledged %s', (_name, withLogs) => {
    // Prepare
    const app = new App();
    const stack = new Stack(app, 'NagStack');
    const logs = withLogs ? accessLogBucket(stack) : undefined;
    const anchor = new AuditAnchor(stack, 'AuditAnchor', logs ? { accessLogsBucket: logs } : {});
    anchor.grantWrite(
      new iam.Role(stack, 'Writer', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      }),
    );
    anchor.grantRead(new iam.Role(stack, 'Auditor', { assumedBy: new iam.AccountRootPrincipal() }));

    // Act
    const violations = nagPacks(app).flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.flatMap((v) =>
          v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
        ),
    );

    // Assess: AwsSolutions on the whole stack; the other packs on the construct (the test's own
    // stand-in roles and log bucket are not what is under test)
    const ours = violations.filter(
      (v) => v.startsWith('AwsSolutions-') || v.includes(' at NagStack/AuditAnchor/'),
    );
    expect(ours).toEqual([]);
  });
});
