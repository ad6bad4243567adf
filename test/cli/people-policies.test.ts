// The people's managed policies (stack outputs AuditorPolicyArn and RevokeOperatorPolicyArn) hold
// exactly what the CLI's paths call. The local AWS evaluates no IAM policy, so the proof is by
// derivation: each command runs on the local AWS under its own access key, the endpoint names
// every request it signed by the IAM action AWS authorizes it under (local-aws/api-calls.ts), and
// the policy in the synthesized template must grant that set, nothing more.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { type Json, synthApp } from '../infra/support.ts';
import { cli, createTaggedSecret, settleListings, sweepOnce, useLocalAwsEnv } from './support.ts';

const SECRET = 'team/payments-key';
const QUARANTINED = 'team/leaked-key';
/** STS answers GetCallerIdentity for any valid credentials: no IAM permission exists for it. */
const NEEDS_NO_PERMISSION = new Set(['sts:GetCallerIdentity']);
/**
 * What the Systems Manager console calls to show and run the runbook and follow its executions
 * (the console's calls cannot be observed here); iam:PassRole hands the runbook its own role.
 */
const RUNBOOK_CONSOLE = [
  'iam:PassRole',
  'ssm:DescribeAutomationExecutions',
  'ssm:DescribeAutomationStepExecutions',
  'ssm:DescribeDocument',
  'ssm:GetAutomationExecution',
  'ssm:GetDocument',
  'ssm:ListDocuments',
  'ssm:StartAutomationExecution',
];

let aws: LocalAws;
let suite: InstalledSuite;
let resources: Record<string, Json>;
let outputs: Record<string, Json>;

/** The statements of the managed policy a stack output gives the ARN of. */
function policyOf(output: string): Json[] {
  const ref = outputs[output]?.Value?.Ref;
  expect(resources[ref]?.Type, `${output} names a managed policy`).toBe('AWS::IAM::ManagedPolicy');
  return resources[ref].Properties.PolicyDocument.Statement;
}

const actionsOf = (statements: Json[]): string[] =>
  [...new Set(statements.flatMap((s) => [s.Action].flat() as string[]))].sort();

/** The IAM actions `act` needed, run under a key of `user`'s own so no other request is counted. */
async function actionsNeededBy(user: string, act: () => Promise<void>): Promise<string[]> {
  aws.iam.createUser(user);
  const key = aws.iam.createAccessKey(user);
  vi.stubEnv('AWS_ACCESS_KEY_ID', key.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', key.secretAccessKey);
  try {
    await act();
  } finally {
    useLocalAwsEnv(aws);
  }
  return aws.apiCalls.actionsOf(key.accessKeyId).filter((a) => !NEEDS_NO_PERMISSION.has(a));
}

/** The IAM actions `commands` needed, each of which must succeed. */
function actionsCalledBy(user: string, ...commands: string[][]): Promise<string[]> {
  return actionsNeededBy(user, async () => {
    for (const argv of commands) {
      const result = await cli(aws, ...argv);
      expect(result.stderr, argv.join(' ')).not.toMatch(/denied|error/i);
      expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });
}

/** A secret holding `token`, opted in with a 7-day lifespan, rotation attached by a sweep. */
async function optIn(name: string, token: string): Promise<void> {
  await createTaggedSecret(suite.secretsManager, name, JSON.stringify({ token }), {
    [TAG.lifespan]: '7d',
  });
  await sweepOnce(aws, suite);
}

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  const template = synthApp().template.toJSON();
  resources = template.Resources;
  outputs = template.Outputs;
  aws = await startLocalAws({ clock: new Date('2026-07-01T09:00:00Z') });
  suite = await installSuite(aws, { anchor: true });
  useLocalAwsEnv(aws);
  await optIn(SECRET, 'acme_live_auditorPolicyCanary0123456789');
  // The audit anchor as deployed: it writes the first audit checkpoint, which verify-audit reads.
  await aws.functions.invoke(suite.functions.auditAnchor!, {});
  await aws.idle();
  aws.apiCalls.start();
}, 120_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe("people's managed policies", () => {
  it('the auditor policy grants exactly what status, audit, verify-audit and evidence call, plus the decrypt reading the table needs', async () => {
    // Act
    const called = await actionsCalledBy(
      'auditor',
      ['status'],
      ['status', '--check'],
      ['audit', SECRET],
      ['audit', '--since', '7d'],
      ['audit', '--since', '7d', '--event', 'rotation.requested'],
      ['verify-audit'],
      ['verify-audit', SECRET],
      ['evidence', '--since', '90d', '--format', 'json'],
    );
    const statements = policyOf('AuditorPolicyArn');

    // Assess: the CLI's calls, and the one action no call names (reading the encrypted table)
    expect(called).toEqual(
      expect.arrayContaining(['dynamodb:Scan', 's3:ListBucketVersions', 's3:GetObjectVersion']),
    );
    expect(actionsOf(statements)).toEqual([...called, 'kms:Decrypt'].sort());
    const decrypt = statements.filter((s) => actionsOf([s]).includes('kms:Decrypt'));
    expect(decrypt).toHaveLength(1);
    expect(JSON.stringify(decrypt[0].Condition)).toContain('kms:ViaService');
  });

  it('the auditor policy can change nothing and read no secret value', () => {
    // Act
    const actions = actionsOf(policyOf('AuditorPolicyArn'));

    // Assess
    const writes = actions.filter((a) =>
      /:(Put|Update|Delete|Create|Batch|Transact|Start|Invoke|Rotate|Tag|Untag|Restore|Cancel|Publish)|GetSecretValue|PassRole|Encrypt|GenerateDataKey/.test(
        a,
      ),
    );
    expect(writes).toEqual([]);
    expect(actions.every((a) => !a.includes('*'))).toBe(true);
  });

  it('the auditor policy is enough for status --check to catch a quarantined secret, with no value read', async () => {
    // Prepare: a second secret, quarantined by an emergency revoke
    await optIn(QUARANTINED, 'acme_live_quarantinedCanary0123456789');
    await aws.functions.invoke(suite.functions.revoke, {
      secretId: QUARANTINED,
      reason: 'pasted in a public channel',
      mode: 'quarantine',
    });
    await aws.idle();
    await settleListings(aws);

    // Act
    let checked = { code: 0, stdout: '', stderr: '' };
    const called = await actionsNeededBy('auditor-on-call', async () => {
      checked = await cli(aws, 'status', '--check');
    });

    // Assess: caught, and nothing called that the auditor's policy does not grant
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain(`${QUARANTINED} (quarantined)`);
    expect(called).not.toContain('secretsmanager:GetSecretValue');
    expect(actionsOf(policyOf('AuditorPolicyArn'))).toEqual(expect.arrayContaining(called));
  });

  it("the operator policy grants exactly what token-rotation revoke calls and the runbook's console needs", async () => {
    // Act
    const called = await actionsCalledBy('operator', [
      'revoke',
      SECRET,
      '--reason',
      'leaked in a support ticket',
    ]);
    const statements = policyOf('RevokeOperatorPolicyArn');

    // Assess
    expect(called).toContain('lambda:InvokeFunction');
    expect(actionsOf(statements)).toEqual([...new Set([...called, ...RUNBOOK_CONSOLE])].sort());
    const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction');
    const revoke = Object.keys(resources).find((id) => /^TokenRotationRevoke[0-9A-F]{8}$/.test(id));
    expect(invoke.Resource).toEqual({ 'Fn::GetAtt': [revoke, 'Arn'] });
    const passRole = statements.find((s) => s.Action === 'iam:PassRole');
    expect(passRole.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' },
    });
  });
});
