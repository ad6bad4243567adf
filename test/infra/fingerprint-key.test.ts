// The token index's fingerprint key in the synthesized template (SPEC "Environment isolation"):
// generated at deploy, encrypted, kept on destroy, never rotated, readable by the functions that
// index tokens (the sweep, the revoke functions, the rotation) alone, and grantScan gives a scanner
// the key and Query on the index, nothing more.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_INDEX_ATTRIBUTES } from '#adapters/audit-table';
import { TokenRotation } from '../../infra/token-rotation.ts';
import { logicalId, roleStatements, type Synthesized, statementsFor, synthApp } from './support.ts';

let synth: Synthesized;
let template: Template;
let secretId: string;

beforeAll(() => {
  synth = synthApp({ environmentOrder: 'ci,qa,prod' });
  template = synth.template;
  secretId = logicalId(template, 'AWS::SecretsManager::Secret', 'FingerprintKeySecret');
});

/** The functions that index tokens, and so read the key. */
const READERS = ['Sweep', 'Revoke', 'RevokeEvents', 'Rotation'];

const readsKey = (id: string) =>
  statementsFor(roleStatements(template, id), 'secretsmanager:GetSecretValue').some((s) =>
    JSON.stringify(s.Resource).includes(secretId),
  );

describe('the fingerprint key', () => {
  it('is a 64-character secret generated at deploy, encrypted with the audit key and kept on destroy', () => {
    const resource = template.toJSON().Resources[secretId];
    expect(resource.Properties.GenerateSecretString).toEqual({ PasswordLength: 64 });
    expect(resource.Properties.KmsKeyId).toEqual({
      'Fn::GetAtt': [logicalId(template, 'AWS::KMS::Key', 'AuditKey'), 'Arn'],
    });
    expect(resource.DeletionPolicy).toBe('Retain');
    // Never rotated: no rotation schedule names it.
    template.resourcePropertiesCountIs(
      'AWS::SecretsManager::RotationSchedule',
      { SecretId: { Ref: secretId } },
      0,
    );
    expect(template.toJSON().Outputs.FingerprintKeySecretArn.Value).toEqual({ Ref: secretId });
  });

  it('is readable by the functions that index tokens only; the sweep gets the environment order', () => {
    for (const indexer of READERS) expect(readsKey(indexer), indexer).toBe(true);
    for (const other of ['TagEvents', 'SecretsManagerEvents']) {
      expect(readsKey(other), other).toBe(false);
    }
    const given = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.FINGERPRINT_KEY_SECRET_ARN,
    );
    expect(given).toHaveLength(READERS.length);
    const sweep = given.find((f) => f.Properties.Environment.Variables.ENVIRONMENT_ORDER);
    expect(sweep?.Properties.Environment.Variables).toMatchObject({
      FINGERPRINT_KEY_SECRET_ARN: { Ref: secretId },
      ENVIRONMENT_ORDER: 'ci,qa,prod',
    });
  });

  it("lets the sweep update only index items, with only the index's attributes (never day or event)", () => {
    const updates = statementsFor(roleStatements(template, 'Sweep'), 'dynamodb:UpdateItem').filter(
      (s) => s.Sid === 'RecordTokensInTheIndex',
    );
    expect(updates).toHaveLength(1);
    expect(updates[0]!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['FP#*'] },
      'ForAllValues:StringEquals': {
        'dynamodb:Attributes': ['pk', 'sk', ...TOKEN_INDEX_ATTRIBUTES],
      },
    });
    expect(TOKEN_INDEX_ATTRIBUTES).not.toContain('day');
    expect(TOKEN_INDEX_ATTRIBUTES).not.toContain('event');
  });

  it.each(['Revoke', 'RevokeEvents'])(
    '%s may record revokes in the index (UpdateItem on FP# items) and read the sweep memory, nothing more',
    (id) => {
      const statements = roleStatements(template, id);
      const onIndex = (sid: string) => statements.filter((s) => s.Sid === sid);
      expect(onIndex('RecordTokensInTheIndex')).toMatchObject([
        {
          Action: ['dynamodb:UpdateItem'],
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['FP#*'] },
            'ForAllValues:StringEquals': {
              'dynamodb:Attributes': ['pk', 'sk', ...TOKEN_INDEX_ATTRIBUTES],
            },
          },
        },
      ]);
      expect(onIndex('RememberIndexedVersions')).toMatchObject([
        {
          Action: ['dynamodb:GetItem'],
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['STATE#token-index'] },
          },
        },
      ]);
      expect(onIndex('LookTokensUpInTheIndex')).toEqual([]);
    },
  );

  it('lets the rotation read the key with AWSCURRENT in one call and write index items, not read them', () => {
    const statements = roleStatements(template, 'Rotation');
    const bySid = (sid: string) => statements.filter((s) => s.Sid === sid);
    expect(bySid('ReadTheKeyWithTheCurrentValue')).toMatchObject([
      { Action: ['secretsmanager:BatchGetSecretValue'], Resource: ['*'] },
    ]);
    expect(bySid('RecordTokensInTheIndex')).toMatchObject([
      {
        Action: ['dynamodb:UpdateItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['FP#*'] } },
      },
    ]);
    expect(bySid('LookTokensUpInTheIndex')).toEqual([]);
    expect(bySid('RememberIndexedVersions')).toEqual([]);
  });
});

describe('grantScan', () => {
  it('gives a scanner the key and Query on FP# partitions, nothing more', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Security');
    const suite = new TokenRotation(stack, 'TokenRotation');
    const scanner = new iam.Role(stack, 'Scanner', { assumedBy: new iam.AccountRootPrincipal() });
    suite.grantScan(scanner);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const statements = Object.values(policies)
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('Scanner'))
      .flatMap(
        (p) =>
          p.Properties.PolicyDocument.Statement as {
            Action: string | string[];
            Condition?: unknown;
          }[],
      );
    const actions = [...new Set(statements.flatMap((s) => [s.Action].flat()))].sort();
    expect(actions).toEqual([
      'dynamodb:Query',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    const query = statements.find((s) => [s.Action].flat().includes('dynamodb:Query'));
    expect(query?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['FP#*'] },
    });
  });
});

describe('environmentOrder', () => {
  it('fails with the names it expects when an entry is not an environment name', () => {
    expect(() => synthApp({ environmentOrder: 'ci,Prod' })).toThrow(
      /environmentOrder is "ci,Prod": expected distinct environment names/,
    );
  });
});
