// `token-rotation revoke` on the embedded local AWS: the real revoke handler, bundled as
// `cdk deploy` ships it and deployed with CreateFunction, found through the stack's outputs and
// invoked with the console's Test event. What the CLI prints is checked against what happened.
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { readQuarantineNotice } from '#domain/revoke/index';
import { scheduleFor } from '#domain/schedule';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { bundleHandler } from '../integration/support/bundle.ts';
import {
  cli,
  createTaggedSecret,
  finishedStages,
  printed,
  readTable,
  useLocalAwsEnv,
} from './support.ts';

const DAY = 86_400_000;
const LEAKED = 'team/leaked-key';
const QUARANTINED = 'team/quarantined-key';
const NOT_OPTED_IN = 'team/not-opted-in';
const BAD_ISSUER = 'team/custom-issuer-gone';
const CANARY = 'acme_live_CanaryRevokeTokenNeverPrinted0123456789abcdXY';

let aws: LocalAws;
let suite: InstalledSuite;
let revokeFunctionArn: string;
const arns: Record<string, string> = {};

async function createSecret(name: string, value: string, tags: Record<string, string>) {
  arns[name] = await createTaggedSecret(suite.secretsManager, name, value, tags);
}

const history = (name: string) => suite.audit.history(arns[name]!);
const currentValue = async (name: string) =>
  (await suite.secretsManager.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  // The deployed function reads the real clock; the local one starts there too.
  aws = await startLocalAws();
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);

  const lambda = new LambdaClient(aws.clientConfig);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: `${suite.stackName}-revoke`,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: `arn:aws:iam::${aws.accountId}:role/${suite.stackName}-revoke`,
      Code: {
        ZipFile: await bundleHandler(new URL('../../lambdas/handlers/revoke.ts', import.meta.url)),
      },
      Timeout: 60,
      Environment: {
        Variables: {
          AUDIT_TABLE_NAME: suite.tableName,
          ALERT_TOPIC_ARN: suite.topicArn,
          STACK_NAME: suite.stackName,
          POWERTOOLS_LOG_LEVEL: 'WARN',
          AWS_ENDPOINT_URL: aws.endpoint,
        },
      },
    }),
  );
  lambda.destroy();
  revokeFunctionArn = created.FunctionArn!;
  suite.cloudFormation.putStack(suite.stackName, { RevokeFunctionArn: revokeFunctionArn });

  await createSecret(LEAKED, JSON.stringify({ token: CANARY, owner: 'payments' }), {
    [TAG.lifespan]: '7d',
  });
  const schedule = scheduleFor(7 * DAY);
  await suite.secretsManager.send(
    new RotateSecretCommand({
      SecretId: LEAKED,
      RotationLambdaARN: suite.rotationFunctionArn,
      RotationRules: {
        ScheduleExpression: schedule.scheduleExpression,
        Duration: schedule.duration,
      },
    }),
  );
  await aws.idle();
  await createSecret(QUARANTINED, 'acme_live_QuarantineSeedTokenValue0123456789abcdefgh', {
    [TAG.lifespan]: '30d',
  });
  await createSecret(NOT_OPTED_IN, 'acme_live_NotOptedInTokenValue0123456789abcdefghijk', {});
  await createSecret(BAD_ISSUER, JSON.stringify({ token: 'acme_live_x' }), {
    [TAG.lifespan]: '7d',
    [TAG.kind]: 'lambda:token-rotation-issuer-that-was-deleted',
  });
}, 120_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('revoke', () => {
  it('revokes every live token through the revoke function, reissues, and says what it revoked', async () => {
    // Prepare
    const before = await currentValue(LEAKED);

    // Act
    const result = await cli(aws, 'revoke', LEAKED, '--reason', 'leaked in build log #4411');

    // Assess
    expect(result.stderr).toContain(`revoking every live token of ${LEAKED} (mode reissue)`);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Revoked ${LEAKED} (${arns[LEAKED]})`);
    expect(result.stdout).toMatch(/^mode reissue, revoke \S+$/m);
    const tableText = result.stdout.slice(result.stdout.indexOf('VERSION'));
    const revoked = readTable(tableText);
    const stages = (row: Record<string, string>) => finishedStages(row.STAGES);
    expect(revoked.map(stages).sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    // Tokens by non-secret name: the minted one by fingerprint, the hand-made seed by neither.
    expect(revoked.find((row) => stages(row) === 'AWSCURRENT')?.TOKEN).toMatch(/^fp:[0-9a-f]{12}$/);
    expect(revoked.find((row) => row.STAGES === 'AWSPREVIOUS')?.TOKEN).toBe('unfingerprinted');
    expect(result.stdout).toContain('AWSCURRENT is now a fresh token');

    const records = await history(LEAKED);
    const completed = records.find((r) => r.event === 'revoke.completed');
    expect(completed).toBeDefined();
    // Who asked: the CLI's caller, as a claim the function cannot verify.
    const caller = await new STSClient(aws.clientConfig).send(new GetCallerIdentityCommand({}));
    expect(caller.Arn).toMatch(/^arn:aws:(iam|sts)::/);
    expect(records.find((r) => r.event === 'revoke.requested')?.trigger).toEqual({
      source: 'console',
      principal: `unknown (direct invoke, claimed: ${caller.Arn})`,
    });
    expect(completed?.trigger.principal).toBe(`unknown (direct invoke, claimed: ${caller.Arn})`);
    const described = await suite.store.describe(LEAKED);
    const fresh = Object.entries(described.versions).find(([, stages]) =>
      stages.includes('AWSCURRENT'),
    )?.[0];
    expect(result.stdout).toContain(`AWSCURRENT is now a fresh token (version ${fresh})`);
    expect(await currentValue(LEAKED)).not.toBe(before);
  });

  it('shows the revoke at the top of the audit trail', async () => {
    // Act
    const result = await cli(aws, 'audit', LEAKED, '--limit', '3');

    // Assess
    expect(result.code).toBe(0);
    const rows = readTable(result.stdout);
    expect(rows[0]).toMatchObject({ EVENT: 'revoke.completed' });
    expect(rows[0]?.TRIGGER).toMatch(/^console by unknown \(direct invoke, claimed: arn:aws:/);
  });

  it('does the work once when the same request is repeated', async () => {
    // Prepare
    const recordsBefore = (await history(LEAKED)).length;

    // Act
    const result = await cli(aws, 'revoke', LEAKED, '--reason', 'leaked in build log #4411');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Already handled: /);
    const again = (await history(LEAKED)).filter((r) => r.event === 'revoke.completed');
    expect(again).toHaveLength(1);
    expect((await history(LEAKED)).length).toBeGreaterThanOrEqual(recordsBefore);
  });

  it('quarantines with --quarantine and says consumers have no valid token', async () => {
    // Act
    const result = await cli(
      aws,
      'revoke',
      QUARANTINED,
      '--reason',
      'key on pastebin',
      '--quarantine',
      '--format',
      'json',
    );

    // Assess
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({
      status: 'completed',
      mode: 'quarantine',
      secretArn: arns[QUARANTINED],
    });
    expect(readQuarantineNotice(await currentValue(QUARANTINED))).toBeDefined();
    const { Versions = [] } = await suite.secretsManager.send(
      new ListSecretVersionIdsCommand({ SecretId: QUARANTINED }),
    );
    const current = Versions.find((v) => v.VersionStages?.includes('AWSCURRENT'));
    expect(outcome.newVersionId).toBe(current?.VersionId);
  });

  it('fails with exit code 1 when the revoke fails part-way, pointing at the audit trail', async () => {
    // Act
    const result = await cli(aws, 'revoke', BAD_ISSUER, '--reason', 'issuer compromised');

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the revoke FAILED');
    expect(result.stderr).toContain(`token-rotation audit ${BAD_ISSUER}`);
    expect((await history(BAD_ISSUER)).some((r) => r.event === 'revoke.failed')).toBe(true);
  });

  it('fails with exit code 2 when the function refuses the request, having changed nothing', async () => {
    // Prepare
    const before = await currentValue(NOT_OPTED_IN);

    // Act
    const result = await cli(aws, 'revoke', NOT_OPTED_IN, '--reason', 'just in case');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the revoke was refused and nothing was changed');
    expect(await currentValue(NOT_OPTED_IN)).toBe(before);
  });

  it('fails without --reason, invoking nothing', async () => {
    // Prepare
    const recordsBefore = (await history(QUARANTINED)).length;

    // Act
    const result = await cli(aws, 'revoke', QUARANTINED);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('revoke needs --reason "<why>"');
    expect(result.stderr).toContain('Usage: token-rotation revoke <secret> [options]');
    expect((await history(QUARANTINED)).length).toBe(recordsBefore);
  });

  it('fails on an unknown secret before invoking anything', async () => {
    // Prepare
    const logged = aws.lambda.logsOf(revokeFunctionArn).length;

    // Act
    const result = await cli(aws, 'revoke', 'team/no-such-secret', '--reason', 'x');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown secret "team/no-such-secret"');
    expect(aws.lambda.logsOf(revokeFunctionArn).length).toBe(logged);
  });

  it('fails clearly on a stack that has no revoke function', async () => {
    // Prepare
    suite.cloudFormation.putStack('OlderStack', { AuditTableName: suite.tableName });

    // Act
    const result = await cli(aws, 'revoke', LEAKED, '--reason', 'x', '--stack', 'OlderStack');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'stack "OlderStack" has no output RevokeFunctionArn or RevokeFunctionName',
    );
  });

  it('never prints a token', async () => {
    // Prepare
    const values = [CANARY, await currentValue(LEAKED)];
    const token = JSON.parse(values[1]!).token as string;

    // Assess
    const everything = printed.join('\n');
    expect(everything).toContain(LEAKED);
    expect(everything).not.toContain(CANARY);
    expect(everything).not.toContain(token);
  });
});
