// `token-rotation scan` with AWS access, on the embedded local AWS: candidates fingerprinted with
// the stack's key and looked up in the token index, liveness read back from Secrets Manager
// (a token whose version the suite revoked versus its AWSCURRENT), a hand-set token recognised
// through the index, SARIF for code scanning, exit codes, `--revoke` through the revoke function
// read back afterwards, and no token in anything printed.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE62, mintToken } from '#domain/tokens';
import { TAG } from '#domain/vocabulary';
import type { LocalAws } from '#local-aws/index';
import type { InstalledSuite } from '#local-aws/suite';
import { leakedForms } from '../support/token-canary.ts';
import { plantIndexedToken } from '../support/token-index-fixture.ts';
import { type ScanWorld, startScanWorld, stopScanWorld } from './scan-world.ts';
import {
  attachRotation,
  cli,
  createTaggedSecret,
  finishedStages,
  printed,
  readTable,
  sweepOnce,
} from './support.ts';

const HOUR = 3_600_000;
const ROTATED = 'team/rotated-key';
const HANDSET = 'team/handset-key';
const HANDSET_TOKEN = 'hs-9fQ2-xk81-ZZp0-Lm3w';
const GONE_ARN =
  'arn:aws:secretsmanager:us-east-1:000000000000:secret:team/deleted-long-ago-AbCdEf';
const GONE_TOKEN = 'Gq7LmN2pXr8sTu4vWy6z';

let world: ScanWorld | undefined;
let aws: LocalAws;
let suite: InstalledSuite;
let key: string;
let dir: string;
const arns: Record<string, string> = {};
const tokens: Record<'old' | 'current', string> = { old: '', current: '' };
const versions: Record<'old' | 'current', string> = { old: '', current: '' };

const file = (name: string, text: string) => {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};
const value = async (versionId: string) =>
  (
    await suite.secretsManager.send(
      new GetSecretValueCommand({ SecretId: arns[ROTATED], VersionId: versionId }),
    )
  ).SecretString!;
const stagesOf = async (secretId: string) => (await suite.store.describe(secretId)).versions;

beforeAll(async () => {
  world = await startScanWorld('scan-online');
  ({ aws, suite, key, dir } = world);

  // A token the suite rotated, whose previous version it then revoked after grace.
  arns[ROTATED] = await createTaggedSecret(
    suite.secretsManager,
    ROTATED,
    mintToken('acme_live_seed'),
    { [TAG.lifespan]: '7d', [TAG.grace]: '1h' },
  );
  const created = Object.keys(await stagesOf(ROTATED))[0]!;
  await attachRotation(suite, ROTATED, 7 * 24 * HOUR, true);
  await aws.idle();
  const afterRotation = await stagesOf(ROTATED);
  versions.current = Object.entries(afterRotation).find(([, s]) => s.includes('AWSCURRENT'))![0];
  versions.old = created;
  tokens.current = await value(versions.current);
  tokens.old = await value(versions.old);
  await aws.clock.advance(2 * HOUR);
  await sweepOnce(aws, suite);

  // A token set by hand on a secret that is not opted in: only the index knows it.
  arns[HANDSET] = await createTaggedSecret(suite.secretsManager, HANDSET, HANDSET_TOKEN, {});
  const handsetVersion = Object.keys(await stagesOf(HANDSET))[0]!;

  // The index, as the suite's writer keeps it (test/support/token-index-fixture.ts).
  const at = aws.clock.now().toISOString();
  await plantIndexedToken(suite.dynamo, suite.tableName, key, tokens.old, {
    secretArn: arns[ROTATED]!,
    secretName: ROTATED,
    versionId: versions.old,
    stages: ['AWSPREVIOUS'],
    environment: 'prod',
    revokedAt: at,
  });
  await plantIndexedToken(suite.dynamo, suite.tableName, key, tokens.current, {
    secretArn: arns[ROTATED]!,
    secretName: ROTATED,
    versionId: versions.current,
    stages: ['AWSCURRENT'],
    environment: 'prod',
  });
  await plantIndexedToken(suite.dynamo, suite.tableName, key, HANDSET_TOKEN, {
    secretArn: arns[HANDSET]!,
    secretName: HANDSET,
    versionId: handsetVersion,
    // The writer may store stages as a DynamoDB string set.
    stages: new Set(['AWSCURRENT']) as unknown as string[],
    environment: 'staging',
  });
  await plantIndexedToken(suite.dynamo, suite.tableName, key, GONE_TOKEN, {
    secretArn: GONE_ARN,
    secretName: 'team/deleted-long-ago',
    versionId: 'v-gone',
    stages: ['AWSCURRENT'],
  });

  file(
    'service/config.ts',
    `export const region = 'eu-west-1';\nexport const token = '${tokens.current}';\n`,
  );
  file('old/.env', `# rotated away last month\nAPI_TOKEN=${tokens.old}\n`);
  file('settings.json', `{\n  "name": "reports",\n  "apiKey": "${HANDSET_TOKEN}"\n}\n`);
  file('revoked-only/notes.md', `Old key, revoked: ${tokens.old}.\n`);
  file('gone/creds.txt', `key ${GONE_TOKEN}\n`);
}, 120_000);

afterAll(() => stopScanWorld(world));

describe('scan with the token index', () => {
  it('the old token was revoked by the suite and the new one is AWSCURRENT (the setting)', async () => {
    const now = await stagesOf(ROTATED);
    expect(now[versions.current]).toContain('AWSCURRENT');
    expect(now[versions.old] ?? []).toEqual([]);
    const events = (await suite.audit.history(arns[ROTATED]!)).map((r) => r.event);
    expect(events).toContain('previous.revoked');
  });

  it('reports live versus revoked as read back, and a hand-set token through the index', async () => {
    // Act
    const result = await cli(
      aws,
      'scan',
      join(dir, 'service'),
      join(dir, 'old'),
      join(dir, 'settings.json'),
    );

    // Assess
    expect(result.code).toBe(1);
    const rows = readTable(result.stdout);
    expect(rows).toHaveLength(3);
    const row = (where: string) => rows.find((r) => r.WHERE?.endsWith(where));
    expect(row('service/config.ts:2')).toMatchObject({
      SECRET: ROTATED,
      VERSION: versions.current,
    });
    expect(finishedStages(row('service/config.ts:2')?.STATUS)).toBe('LIVE AWSCURRENT');
    expect(row('old/.env:2')).toMatchObject({
      SECRET: ROTATED,
      VERSION: versions.old,
      STATUS: 'revoked',
    });
    expect(row('settings.json:3')).toMatchObject({ SECRET: HANDSET, STATUS: 'LIVE AWSCURRENT' });
    expect(row('settings.json:3')?.FINGERPRINT).toMatch(/^hfp1:[A-Za-z0-9_-]{10}/);
    expect(result.stdout).toContain('3 findings: 2 live, 0 unknown, 1 revoked');
  });

  it('exits 0 when every finding is proven revoked', async () => {
    // Act
    const result = await cli(aws, 'scan', join(dir, 'revoked-only'), '--json');

    // Assess
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.findings).toMatchObject([
      {
        path: join(dir, 'revoked-only', 'notes.md'),
        line: 1,
        recognisedBy: 'index',
        secretArn: arns[ROTATED],
        versionId: versions.old,
        environment: 'prod',
        status: 'revoked',
      },
    ]);
  });

  it('says unknown, and exits 1, when the secret cannot be read back', async () => {
    // Act
    const result = await cli(aws, 'scan', join(dir, 'gone'), '--json');

    // Assess
    expect(result.code).toBe(1);
    const [finding] = JSON.parse(result.stdout).findings;
    expect(finding).toMatchObject({ status: 'unknown', secretArn: GONE_ARN });
    expect(finding.why).toMatch(/could not be read back/);
  });

  it('writes SARIF 2.1.0 that code scanning accepts', async () => {
    // Act
    const result = await cli(aws, 'scan', join(dir, 'service'), join(dir, 'old'), '--sarif');

    // Assess
    expect(result.code).toBe(1);
    const sarif = JSON.parse(result.stdout);
    expect(sarifProblems(sarif)).toEqual([]);
    const results = sarif.runs[0].results;
    expect(results.map((r: { ruleId: string }) => r.ruleId).sort()).toEqual([
      'token-rotation/live-token',
      'token-rotation/revoked-token',
    ]);
    const live = results.find((r: { ruleId: string }) => r.ruleId === 'token-rotation/live-token');
    expect(live.level).toBe('error');
    expect(live.locations[0].physicalLocation.region.startLine).toBe(2);
    expect(live.locations[0].physicalLocation.artifactLocation.uri).toMatch(/service\/config\.ts$/);
  });

  it('finds nothing in random strings of token shape, each looked up in the index', async () => {
    // Prepare: token-pattern look-alikes and AWS-secret-key-shaped strings, none indexed. 500
    // here, through DynamoDB (the embedded one answers a Query in about 20 ms); the 10,000 run
    // against an index in memory (test/unit/scan/findings.test.ts).
    const lines = Array.from({ length: 500 }, (_, i) => {
      const body = [...randomBytes(49)].map((b) => BASE62[b % 62]).join('');
      return i % 2 === 0 ? `acme_live_${body}` : randomBytes(30).toString('base64');
    });
    const path = file('noise/strings.txt', `${lines.join('\n')}\n`);

    // Act
    const result = await cli(aws, 'scan', path, '--json');

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).findings).toEqual([]);
  }, 60_000);

  it('exits 2 when AWS cannot be reached, and says how to scan offline', async () => {
    // Act
    const result = await cli(aws, 'scan', join(dir, 'service'), '--endpoint', 'http://127.0.0.1:9');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot reach the endpoint http:\/\/127\.0\.0\.1:9/);
    expect(result.stderr).toContain('--offline');
    expect(result.stdout).toBe('');
  });

  it('--revoke revokes the live token through the revoke function, and reports what it read back', async () => {
    // Act
    const result = await cli(aws, 'scan', join(dir, 'service'), '--revoke', '--json');

    // Assess
    const report = JSON.parse(result.stdout);
    expect(report.revokes).toMatchObject([{ secretArn: arns[ROTATED], outcome: 'completed' }]);
    // Read back: the token's version is no longer AWSCURRENT, and the scan says so.
    const now = await stagesOf(ROTATED);
    expect(now[versions.current] ?? []).not.toContain('AWSCURRENT');
    expect(report.findings).toMatchObject([{ versionId: versions.current, status: 'revoked' }]);
    expect(result.code).toBe(0);
    // Audited through the console's path, with where the token was found.
    const records = await suite.audit.history(arns[ROTATED]!);
    const completed = records.find((r) => r.event === 'revoke.completed');
    expect(completed?.outcome).toBe('succeeded');
    const requested = records.find((r) => r.event === 'revoke.requested');
    // The reason as recorded (scrubbed as every reason is) is the one the scan reports.
    expect(requested?.detail?.reason).toBe(report.revokes[0].reason);
    expect(report.revokes[0].reason).toMatch(/^token found by token-rotation scan at \/.*\.ts:2$/);
  });
});

describe('scan output', () => {
  it('never prints a token, in any encoding or any 8-character piece', () => {
    const all = printed.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(
      [tokens.old, tokens.current, HANDSET_TOKEN, GONE_TOKEN, key].flatMap((t) =>
        leakedForms(t, all),
      ),
    ).toEqual([]);
  });
});

/**
 * What the SARIF 2.1.0 schema (and GitHub's upload) require of our document, checked by hand:
 * version, one run, a named driver with unique rule ids, and each result's rule, level, message
 * and a relative location with a positive line.
 */
interface SarifResult {
  ruleId?: string;
  ruleIndex?: number;
  level?: string;
  message?: { text?: unknown };
  locations?: {
    physicalLocation?: { artifactLocation?: { uri?: unknown }; region?: { startLine?: number } };
  }[];
  partialFingerprints?: Record<string, unknown>;
}
interface SarifDoc {
  version?: unknown;
  $schema?: unknown;
  runs?: {
    tool?: { driver?: { name?: unknown; rules?: { id: string }[] } };
    results?: SarifResult[];
  }[];
}

function sarifProblems(doc: SarifDoc): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  need(doc.version === '2.1.0', 'version 2.1.0');
  need(typeof doc.$schema === 'string' && doc.$schema.includes('sarif-2.1.0'), '$schema');
  need(Array.isArray(doc.runs) && doc.runs.length === 1, 'one run');
  const run = doc.runs?.[0] ?? {};
  const driver = run.tool?.driver ?? {};
  need(typeof driver.name === 'string' && driver.name.length > 0, 'tool.driver.name');
  const rules: { id: string }[] = driver.rules ?? [];
  need(new Set(rules.map((r) => r.id)).size === rules.length, 'unique rule ids');
  for (const [i, r] of (run.results ?? []).entries()) {
    need(rules[r.ruleIndex ?? -1]?.id === r.ruleId, `result ${i}: ruleIndex points at ruleId`);
    need(['none', 'note', 'warning', 'error'].includes(r.level ?? ''), `result ${i}: level`);
    need(
      typeof r.message?.text === 'string' && r.message.text.length > 0,
      `result ${i}: message.text`,
    );
    const loc = r.locations?.[0]?.physicalLocation;
    need(typeof loc?.artifactLocation?.uri === 'string', `result ${i}: artifactLocation.uri`);
    need(
      Number.isInteger(loc?.region?.startLine) && (loc?.region?.startLine ?? 0) >= 1,
      `result ${i}: startLine`,
    );
    need(
      Object.values(r.partialFingerprints ?? {}).every((v) => typeof v === 'string'),
      `result ${i}: partialFingerprints are strings`,
    );
  }
  return problems;
}
