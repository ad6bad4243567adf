// The operator CLI on the embedded local AWS: real secrets rotated by the real rotation handler,
// the stack found through CloudFormation, and every command's output read as an operator reads it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
} from '@aws-sdk/client-secrets-manager';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { secretPk, seqSk } from '#adapters/audit-table';
import { logger } from '#commons/logger';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import {
  attachRotation,
  cli,
  createTaggedSecret,
  localEnv,
  parseCsv,
  printed,
  readTable,
  spawnCli,
  useLocalAwsEnv,
} from './support.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Never to be printed: the seed token, and every token the rotations mint from it.
const CANARY = 'acme_live_CanaryCliTokenNeverPrinted0123456789abcdefXYZ';

const PAYMENTS = 'team/payments-api-key';
const LEGACY = 'team/legacy-key';
const BROKEN = 'team/broken-value';
const BANANA = 'team/banana-policy';
const UNMANAGED = 'team/not-opted-in';

let aws: LocalAws;
let suite: InstalledSuite;
const arns: Record<string, string> = {};

async function createSecret(name: string, value: string, tags: Record<string, string>) {
  arns[name] = await createTaggedSecret(suite.secretsManager, name, value, tags);
}

/** Attaches the suite's rotation function with the lifespan's schedule and rotates now. */
async function rotate(name: string, lifespanMs: number) {
  await attachRotation(suite, name, lifespanMs, true);
  await aws.idle();
}

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws({ clock: new Date(Date.now() - 2 * DAY) });
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);

  await createSecret(PAYMENTS, JSON.stringify({ token: CANARY, owner: 'payments' }), {
    [TAG.lifespan]: '7d',
  });
  await rotate(PAYMENTS, 7 * DAY);
  await aws.clock.advance(HOUR);
  await rotate(PAYMENTS, 7 * DAY);
  // Opted in but never attached: its token only ages.
  await createSecret(LEGACY, 'legacy_CanaryLegacyTokenValue0123456789abcdefghijk', {
    [TAG.lifespan]: '1d',
  });
  // A value the random kind cannot rotate: the rotation fails and is audited.
  await createSecret(BROKEN, JSON.stringify({ owner: 'nobody' }), { [TAG.lifespan]: '7d' });
  await rotate(BROKEN, 7 * DAY);
  await createSecret(BANANA, 'x', { [TAG.lifespan]: 'banana' });
  await createSecret(UNMANAGED, 'y', {});
  await aws.clock.advance(25 * HOUR);
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('status', () => {
  it('shows every opted-in secret with kind, lifespan, token age, next rotation, last outcome and overdue', async () => {
    // Act
    const result = await cli(aws, 'status');

    // Assess
    expect(result.code).toBe(0);
    const header = result.stdout.split('\n')[0]!;
    expect(header.split(/ {2,}/)).toEqual([
      'SECRET',
      'KIND',
      'LIFESPAN',
      'TOKEN AGE',
      'NEXT ROTATION',
      'LAST OUTCOME',
      'OVERDUE',
      'PREVIOUS TOKEN',
      'ANCHORED',
      'SCOPES',
      'NOTES',
    ]);
    const rows = Object.fromEntries(readTable(result.stdout).map((row) => [row.SECRET, row]));
    expect(Object.keys(rows).sort()).toEqual([BANANA, BROKEN, LEGACY, PAYMENTS]);

    expect(rows[PAYMENTS]).toMatchObject({
      KIND: 'random',
      LIFESPAN: '7d',
      'TOKEN AGE': '1d 1h',
      'LAST OUTCOME': 'rotated 1d 1h ago',
      OVERDUE: 'no',
    });
    expect(rows[PAYMENTS]!['NEXT ROTATION']).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in \d+d( \d+h)?\)$/,
    );

    expect(rows[LEGACY]).toMatchObject({
      LIFESPAN: '1d',
      'TOKEN AGE': '1d 1h',
      'NEXT ROTATION': 'not attached',
      'LAST OUTCOME': '-',
      OVERDUE: 'yes',
    });
    expect(rows[BROKEN]!['LAST OUTCOME']).toBe('rotation.failed 1d 1h ago');
    expect(rows[BANANA]!.OVERDUE).toBe('-');
    expect(rows[BANANA]!.NOTES).toContain('invalid policy: token-rotation:lifespan is "banana"');
    expect(result.stdout).toContain('4 opted-in secrets: 1 overdue, 1 with an invalid policy.');
    expect(result.stdout).not.toContain(UNMANAGED);
  });

  it('prints the same facts as JSON with --format json', async () => {
    // Act
    const result = await cli(aws, 'status', '--format', 'json');

    // Assess
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Record<string, unknown>[];
    const payments = rows.find((row) => row.name === PAYMENTS)!;
    expect(payments).toMatchObject({
      arn: arns[PAYMENTS],
      kind: 'random',
      lifespan: '7d',
      grace: '2h',
      policyValid: true,
      rotationAttached: true,
      tokenAgeMs: 25 * HOUR,
      overdue: false,
      lastOutcome: { outcome: 'rotated', event: 'step.succeeded', step: 'finishSecret' },
    });
    expect(rows.find((row) => row.name === LEGACY)).toMatchObject({
      overdue: true,
      rotationAttached: false,
    });
  });

  it('reports listing progress on stderr, and none with --quiet', async () => {
    // Act
    const loud = await cli(aws, 'status');
    const quiet = await cli(aws, 'status', '--quiet');

    // Assess
    expect(loud.stderr).toContain('listed page 1: 4 opted-in secrets so far');
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe(loud.stdout);
  });
});

describe('audit', () => {
  it("prints one secret's trail newest first", async () => {
    // Act
    const result = await cli(aws, 'audit', PAYMENTS);

    // Assess
    expect(result.code).toBe(0);
    const rows = readTable(result.stdout);
    // Two rotations, each its new token (createSecret) and its promotion (finishSecret).
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({
      SECRET: PAYMENTS,
      EVENT: 'step.succeeded',
      STEP: 'finishSecret',
      OUTCOME: 'succeeded',
    });
    expect(rows.at(-1)).toMatchObject({
      EVENT: 'step.succeeded',
      STEP: 'createSecret',
      OUTCOME: 'succeeded',
    });
    expect(rows.map((row) => row.AT)).toEqual(
      rows
        .map((row) => row.AT)
        .sort()
        .reverse(),
    );
    expect(result.stdout).toContain('4 records of team/payments-api-key, newest first.');
  });

  it('prints the records as JSON in the same order, by seq', async () => {
    // Act
    const result = await cli(aws, 'audit', arns[PAYMENTS]!, '--format', 'json');

    // Assess
    const records = JSON.parse(result.stdout) as { seq: number; secretArn: string }[];
    expect(records.map((r) => r.seq)).toEqual([4, 3, 2, 1]);
    expect(new Set(records.map((r) => r.secretArn))).toEqual(new Set([arns[PAYMENTS]]));
  });

  it('lists every failure of a time range with --since and --event', async () => {
    // Act
    const result = await cli(aws, 'audit', '--since', '7d', '--event', 'rotation.failed');

    // Assess
    expect(result.code).toBe(0);
    const rows = readTable(result.stdout);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((row) => row.SECRET))).toEqual(new Set([BROKEN]));
    expect(new Set(rows.map((row) => row.EVENT))).toEqual(new Set(['rotation.failed']));
    expect(rows[0]!.DETAIL).toMatch(/token/);
  });

  it('finds nothing in a range that holds no records', async () => {
    // Act
    const result = await cli(aws, 'audit', '--since', '1h');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^No audit records since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\.\n$/);
  });

  it('fails with a clear error for an unknown secret', async () => {
    // Act
    const result = await cli(aws, 'audit', 'team/no-such-secret');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      'unknown secret "team/no-such-secret": Secrets Manager has no secret of that name or ARN in us-east-1',
    );
  });

  it('fails on an event type that does not exist, naming the ones that do', async () => {
    // Act
    const result = await cli(aws, 'audit', '--event', 'rotation.exploded');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--event must be one of the audit event types');
    expect(result.stderr).toContain('rotation.failed');
    expect(result.stderr).toContain('Usage: token-rotation audit [<secret>] [options]');
  });
});

describe('verify-audit', () => {
  it('verifies every chain in the table', async () => {
    // Act
    const result = await cli(aws, 'verify-audit');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`✓ ${BROKEN}:`);
    expect(result.stdout).toMatch(
      new RegExp(`✓ ${PAYMENTS}: 4 records verified, head #4 [0-9a-f]{12}`),
    );
    expect(result.stdout).toContain('2 chains, ');
    expect(result.stdout).toContain('every chain verifies.');
    expect(result.stderr).toContain('scanned page 1: 2 chains so far');
  });

  it('verifies one secret by name', async () => {
    // Act
    const result = await cli(aws, 'verify-audit', PAYMENTS, '--format', 'json');

    // Assess
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(true);
    expect(report.chains).toEqual([
      expect.objectContaining({
        secretName: PAYMENTS,
        secretArn: arns[PAYMENTS],
        ok: true,
        total: 4,
        verified: 4,
        breaks: [],
      }),
    ]);
  });
});

describe('evidence', () => {
  it('exports a CSV with who, when and what range, a row per secret and per rotation, and chain status', async () => {
    // Act
    const result = await cli(aws, 'evidence', '--since', '90d', '--format', 'csv');

    // Assess
    expect(result.code).toBe(0);
    const { comments, rows } = parseCsv(result.stdout);
    const meta = Object.fromEntries(comments.map((line) => line.split(',') as [string, string]));
    expect(meta).toMatchObject({
      title: 'token-rotation audit evidence',
      generatedBy: 'arn:aws:sts::123456789012:assumed-role/local-aws/local',
      account: '123456789012',
      region: 'us-east-1',
      stack: 'TokenRotation',
      auditTable: suite.tableName,
      rangeTo: aws.clock.now().toISOString(),
      rangeFrom: new Date(aws.clock.now().getTime() - 90 * DAY).toISOString(),
      rotations: '2',
      chainsBroken: '0',
    });
    const [header, ...body] = rows;
    expect(header!.slice(0, 6)).toEqual([
      'record',
      'secret_name',
      'secret_arn',
      'at',
      'event',
      'outcome',
    ]);
    const col = (name: string) => header!.indexOf(name);
    const secrets = body.filter((row) => row[col('record')] === 'secret');
    expect(secrets.map((row) => row[col('secret_name')])).toEqual([
      BANANA,
      BROKEN,
      LEGACY,
      PAYMENTS,
    ]);
    const payments = secrets.find((row) => row[col('secret_name')] === PAYMENTS)!;
    expect(payments[col('chain_status')]).toBe('verified');
    expect(payments[col('chain_records')]).toBe('4');
    expect(payments[col('rotations')]).toBe('2');
    expect(secrets.find((row) => row[col('secret_name')] === LEGACY)![col('chain_status')]).toBe(
      'no records',
    );

    const rotations = body.filter((row) => row[col('record')] === 'rotation');
    const completed = rotations.filter((row) => row[col('step')] === 'finishSecret');
    expect(completed).toHaveLength(2);
    expect(
      completed.every(
        (row) =>
          row[col('secret_arn')] === arns[PAYMENTS] && row[col('chain_status')] === 'verified',
      ),
    ).toBe(true);
    expect(
      rotations.some(
        (row) => row[col('event')] === 'rotation.failed' && row[col('secret_name')] === BROKEN,
      ),
    ).toBe(true);
    // Intermediate steps are summarised away.
    expect(body.some((row) => row[col('event')] === 'step.started')).toBe(false);
  });

  it('writes JSON to a file with --out, and says so on stderr', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'token-rotation-cli-')), 'evidence.json');

    // Act
    const result = await cli(aws, 'evidence', '--format', 'json', '--out', file);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`wrote ${file}: 4 secrets, 2 rotations, 0 revokes`);
    const evidence = JSON.parse(readFileSync(file, 'utf8'));
    expect(evidence.metadata.generatedBy).toBe(
      'arn:aws:sts::123456789012:assumed-role/local-aws/local',
    );
    expect(evidence.summary).toMatchObject({
      secrets: 4,
      optedIn: 4,
      rotations: 2,
      chainsVerified: 2,
      chainsBroken: 0,
    });
    expect(
      evidence.secrets.find((s: { secretName: string }) => s.secretName === PAYMENTS),
    ).toMatchObject({
      optedIn: true,
      kind: 'random',
      lifespan: '7d',
      chain: { status: 'verified', records: 4, verified: 4 },
      rotationsInRange: 2,
    });
  });
});

describe('a tampered audit trail', () => {
  beforeAll(async () => {
    // An edit straight to the table, as someone with write access could make.
    await suite.dynamo.send(
      new UpdateCommand({
        TableName: suite.tableName,
        Key: { pk: secretPk(arns[PAYMENTS]!), sk: seqSk(3) },
        UpdateExpression: 'SET outcome = :o',
        ExpressionAttributeValues: { ':o': 'failed' },
      }),
    );
  });

  it('fails verify-audit with exit code 1, naming the edited record', async () => {
    // Act
    const all = await cli(aws, 'verify-audit');
    const one = await cli(aws, 'verify-audit', PAYMENTS);

    // Assess
    expect(all.code).toBe(1);
    expect(all.stdout).toContain(`✗ ${PAYMENTS}: BROKEN: 3 of 4 records verified, 1 break`);
    expect(all.stdout).toContain('edited: record 3 was changed after it was written');
    expect(all.stdout).toContain(`✓ ${BROKEN}:`);
    expect(all.stdout).toContain('1 broken.');
    expect(one.code).toBe(1);
  });

  it('marks the chain broken in the evidence and exits 1', async () => {
    // Act
    const result = await cli(aws, 'evidence', '--format', 'json');

    // Assess
    expect(result.code).toBe(1);
    const evidence = JSON.parse(result.stdout);
    expect(evidence.summary.chainsBroken).toBe(1);
    const payments = evidence.secrets.find(
      (s: { secretName: string }) => s.secretName === PAYMENTS,
    );
    expect(payments.chain).toMatchObject({
      status: 'broken',
      breaks: [{ kind: 'edited', seq: 3 }],
    });
    expect(result.stderr).toContain(`warning: 1 audit chain is broken (${PAYMENTS})`);
  });
});

describe('errors and usage', () => {
  it('fails with a clear error when the stack is not deployed', async () => {
    // Act
    const result = await cli(aws, 'status', '--stack', 'NoSuchStack');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stack "NoSuchStack" not found in us-east-1');
    expect(result.stderr).toContain('npx cdk deploy');
  });

  it('fails on an unknown command, with the usage', async () => {
    // Act
    const result = await cli(aws, 'rotate-everything');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('token-rotation: unknown command "rotate-everything"');
    expect(result.stderr).toContain('Commands: status, audit, verify-audit, evidence, revoke');
  });

  it("fails on an unknown option, with the command's usage", async () => {
    // Act
    const result = await cli(aws, 'status', '--colour');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown option --colour for status');
    expect(result.stderr).toContain('Usage: token-rotation status [options]');
  });

  it('fails on a format the command does not offer', async () => {
    // Act
    const result = await cli(aws, 'evidence', '--format', 'xlsx');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--format must be one of csv, json; got "xlsx"');
  });

  it('fails on a --since it cannot read', async () => {
    // Act
    const result = await cli(aws, 'audit', '--since', 'last tuesday');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--since must be a duration like 30m, 12h or 7d');
  });

  it.each(['status', 'audit', 'verify-audit', 'evidence', 'revoke'])(
    'shows help for %s',
    async (command) => {
      // Act
      const result = await cli(aws, command, '--help');

      // Assess
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: token-rotation ${command}\\b`));
      expect(result.stdout).toContain('Options:');
      expect(result.stdout).toContain('--endpoint <url>');
      expect(result.stdout).toContain('Examples:');
    },
  );

  it('reaches the endpoint named with --endpoint rather than AWS_ENDPOINT_URL', async () => {
    // Prepare: the variable names a port nothing listens on.
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:1');

    // Act
    const result = await cli(aws, 'status', '--quiet', '--endpoint', aws.endpoint);

    // Assess
    vi.stubEnv('AWS_ENDPOINT_URL', aws.endpoint);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(PAYMENTS);
  });
});

describe('the packaged bin', () => {
  it('runs with plain node and prints the status table', async () => {
    // Act
    const result = await spawnCli(localEnv(aws), 'status', '--quiet');

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^SECRET +KIND +LIFESPAN +TOKEN AGE/);
    expect(result.stdout).toContain(PAYMENTS);
  });

  it('fails with a clear error when there are no AWS credentials', async () => {
    // Prepare
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _key, ...env } = localEnv(aws);

    // Act
    const result = await spawnCli(env, 'status');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('token-rotation status: no AWS credentials found');
    expect(result.stderr).toContain('AWS_PROFILE');
  });

  it('exits 2 with the usage when given no command', async () => {
    // Act
    const result = await spawnCli(localEnv(aws));

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('token-rotation: no command given');
  });
});

describe('secret values', () => {
  it('are never printed by any command', async () => {
    // Prepare: every token any version of any secret holds, read back from Secrets Manager.
    const values = [CANARY];
    for (const name of [PAYMENTS, LEGACY]) {
      const { Versions = [] } = await suite.secretsManager.send(
        new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
      );
      for (const version of Versions) {
        const { SecretString = '' } = await suite.secretsManager.send(
          new GetSecretValueCommand({ SecretId: name, VersionId: version.VersionId }),
        );
        values.push(SecretString.startsWith('{') ? JSON.parse(SecretString).token : SecretString);
      }
    }
    expect(values.length).toBeGreaterThanOrEqual(4);
    await cli(aws, 'audit', '--since', '90d', '--format', 'json');
    await cli(aws, 'evidence', '--format', 'csv');

    // Assess
    const everything = printed.join('\n');
    expect(everything).toContain(PAYMENTS);
    for (const value of values) expect(everything).not.toContain(value);
  });
});
