// The operator CLI shows attacker-chosen audit fields (reasons, principals, issuer errors, names)
// without letting a terminal act on them: escape sequences, carriage returns, bells, C1 controls
// and bidirectional overrides are printed as visible escapes, and JSON output stays exact JSON.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import type { AuditRecord } from '#domain/ports';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { cli, createTaggedSecret, parseCsv, settleListings, useLocalAwsEnv } from './support.ts';

// An OSC that retitles the window, a CSI that clears the screen, a bare CR that overwrites the
// line, BEL, a one-byte C1 CSI, and a right-to-left override.
const OSC = '\u001b]0;all chains verify\u0007';
const CLEAR = '\u001b[2J';
const OVERWRITE = 'revoke.failed\r✓ revoked';
const C1 = '\u009b31m';
const RTL = '\u202egnp.exe';
const HOSTILE = [OSC, CLEAR, OVERWRITE, C1, RTL];
/** Any character a terminal would act on (a CR only where it ends a CSV line). */
const CONTROL = /\r(?!\n)|(?![\n\t\r])\p{Cc}|[\u202a-\u202e\u2066-\u2069]/u;

let aws: LocalAws;
let suite: InstalledSuite;
let arn = '';
const name = 'team/hostile-fields';

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws({ clock: new Date('2026-06-01T09:00:00Z') });
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  arn = await createTaggedSecret(suite.secretsManager, name, 'acme_live_x', {
    [TAG.lifespan]: '7d',
    [TAG.revoke]: `leaked ${CLEAR}${OSC}`,
  });
  // What an attacker controls reaches the trail: an issuer's error text, the principal from a
  // CloudTrail event, a reason, the name a record gives the secret.
  await suite.audit.append({
    secretArn: arn,
    secretName: name,
    event: 'revoke.requested',
    outcome: 'started',
    trigger: { source: 'tag', principal: `arn:aws:iam::123456789012:user/${C1}mallory` },
    detail: { reason: `rotate ${OVERWRITE} ${RTL}` },
  });
  await suite.audit.append({
    secretArn: arn,
    secretName: name,
    event: 'revoke.failed',
    outcome: 'failed',
    trigger: { source: 'console' },
    error: `issuer said: ${OSC}${CLEAR}${OVERWRITE}${C1}${RTL}`,
  });
  // The newest record, as someone with write access to the table may leave it: status and
  // verify-audit show its step and the name it gives the secret.
  await suite.audit.append({
    secretArn: arn,
    secretName: `${name}${CLEAR}`,
    event: 'step.started',
    outcome: 'started',
    step: `createSecret${OSC}`,
    trigger: { source: 'secretsmanager' },
  });
  // Status and evidence list with ListSecrets, which may leave out what changed in the last minutes.
  await settleListings(aws);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

function expectInert(text: string) {
  expect(text).not.toMatch(CONTROL);
  // Shown, not dropped: a person sees that something odd was there.
  expect(text).toContain('\\u001b');
}

describe('human-readable output', () => {
  it('audit escapes control characters in reasons, principals and errors', async () => {
    // Act
    const { code, stdout, stderr } = await cli(aws, 'audit', arn);

    // Assess
    expect(code).toBe(0);
    expectInert(stdout + stderr);
    expect(stdout).toContain('\\u001b]0;all chains verify\\u0007');
    expect(stdout).toContain('user/\\u009b31mmallory');
    expect(stdout).toContain('\\u202egnp.exe');
  });

  it('verify-audit escapes the name a record gives the secret', async () => {
    // Act
    const { stdout, stderr } = await cli(aws, 'verify-audit', arn);

    // Assess
    expectInert(stdout + stderr);
    expect(stdout).toContain(`${name}\\u001b[2J`);
  });

  it('evidence escapes them in its CSV, which still parses to one row per record', async () => {
    // Act
    const { stdout, stderr } = await cli(aws, 'evidence');

    // Assess
    expectInert(stdout + stderr);
    const { rows } = parseCsv(stdout);
    const failed = rows.find((row) => row.includes('revoke.failed'));
    expect(failed?.join(',')).toContain('issuer said: \\u001b]0;all chains verify\\u0007');
  });

  it("status escapes the newest record's step in the last outcome", async () => {
    // Act
    const { stdout, stderr } = await cli(aws, 'status');

    // Assess
    expectInert(stdout + stderr);
    expect(stdout).toContain('rotating (createSecret\\u001b]0;all chains verify\\u0007)');
  });
});

describe('JSON output', () => {
  it('is exact JSON: parsed, it holds every hostile character as written', async () => {
    // Act
    const { code, stdout } = await cli(aws, 'audit', arn, '--format', 'json');

    // Assess
    expect(code).toBe(0);
    expect(stdout).not.toMatch(CONTROL);
    const records = JSON.parse(stdout) as AuditRecord[];
    expect(records).toEqual((await suite.audit.history(arn)).reverse());
    const text = JSON.stringify(records);
    for (const hostile of HOSTILE) expect(text).toContain(JSON.stringify(hostile).slice(1, -1));
  });
});
