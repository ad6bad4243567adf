// `evidence --html` rendered in a real browser: Debian's headless Chromium (installed by
// install-chromium.sh when missing) opens the page the CLI wrote from the embedded local AWS, and
// the test reads what it drew: a timeline per secret, the compliance figures and the breach, the
// emergency revoke with who, why and what, and the chain and checkpoint verification. The page
// makes no request (it has no script or external asset) and shows no secret value. A screenshot
// is kept in test/artifacts/ for a person to look at.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { writeCheckpoint } from '#domain/audit-anchor';
import { revokeSecret } from '#domain/revoke/index';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { localCheckpointDeps } from '#local-aws/suite-anchor';
import { cli, createTaggedSecret, sweepOnce, useLocalAwsEnv } from '../cli/support.ts';

const HOUR = 3_600_000;
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const HOSTILE_REASON = 'key pasted in #ops <img src=x onerror=alert(1)><script>alert(2)</script>';

let aws: LocalAws;
let suite: InstalledSuite;
let browser: Browser;
let page: Page;
let html = '';
const requests: string[] = [];
const values = new Set<string>();

/** A sweep as deployed with the audit anchor: the pass, then the checkpoint of every chain head. */
async function sweepAndCheckpoint() {
  await sweepOnce(aws, suite);
  const bucket = `${suite.stackName.toLowerCase()}-checkpoints`;
  await writeCheckpoint(
    localCheckpointDeps(aws, suite.dynamo, suite.tableName, bucket, suite.sweepDeps.managed),
  );
}

async function readValues(name: string) {
  for (const stage of ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING']) {
    const out = await suite.secretsManager
      .send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))
      .catch(() => undefined);
    if (out?.SecretString) values.add(out.SecretString);
  }
}

beforeAll(async () => {
  const executablePath = execFileSync('bash', [join(import.meta.dirname, 'install-chromium.sh')], {
    encoding: 'utf8',
    timeout: 600_000,
  }).trim();
  logger.setLogLevel('SILENT');
  aws = await startLocalAws({ clock: new Date('2026-07-01T09:00:00Z') });
  suite = await installSuite(aws, { anchor: true });
  useLocalAwsEnv(aws);

  // Prepare: a healthy secret rotated and its previous token revoked after grace; a secret with a
  // 4h lifespan left unswept for 10 hours (a breach); a leaked one revoked in an emergency.
  const tagged = { [TAG.lifespan]: '7d', [TAG.grace]: '2h' };
  await createTaggedSecret(suite.secretsManager, 'team/healthy', 'acme_live_healthy0001', tagged);
  await createTaggedSecret(suite.secretsManager, 'team/stale', 'acme_live_stale000001', {
    [TAG.lifespan]: '4h',
    [TAG.grace]: '1h',
  });
  const leaked = await createTaggedSecret(
    suite.secretsManager,
    'team/leaked',
    'acme_live_leak01',
    tagged,
  );
  for (const name of ['team/healthy', 'team/stale', 'team/leaked']) await readValues(name);
  await sweepAndCheckpoint();
  await suite.secretsManager.send(new RotateSecretCommand({ SecretId: 'team/healthy' }));
  await aws.idle();
  await aws.clock.advance(3 * HOUR);
  await sweepAndCheckpoint();
  await revokeSecret(
    {
      secretId: leaked,
      reason: HOSTILE_REASON,
      mode: 'reissue',
      trigger: { source: 'runbook', principal: 'arn:aws:iam::123456789012:user/alice' },
    },
    suite.revokeDeps,
  );
  await aws.idle();
  await sweepAndCheckpoint();
  // Then no sweep for 10 hours (the schedule stopped): the 4h secret rotates on Secrets Manager's
  // own schedule, but nothing revokes its previous tokens when their 1h grace ends.
  await aws.clock.advance(10 * HOUR);
  for (const name of ['team/healthy', 'team/stale', 'team/leaked']) await readValues(name);

  // Act: the CLI writes the report; Chromium renders it, with every request recorded
  const file = join(tmpdir(), `evidence-${process.pid}.html`);
  const run = await cli(aws, 'evidence', '--since', '2d', '--html', file);
  expect(run.stderr).toContain(`wrote ${file}`);
  html = readFileSync(file, 'utf8');
  browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(`file://${file}`);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'evidence-report.png'), fullPage: true });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  vi.unstubAllEnvs();
  await aws?.stop();
});

// What a person sees, as laid out (innerText), not the DOM text behind it.
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the test reads
const text = (selector: string) => page.locator(selector).innerText();

describe('evidence --html, rendered in headless Chromium', () => {
  it('draws a timeline per secret: each token version as a bar, live, in grace or revoked', async () => {
    // Assess
    const sections = await page.locator('section.secret').count();
    expect(sections).toBe(3);
    const healthy = page.locator('section.secret[data-secret="team/healthy"]');
    expect(await healthy.locator('g[data-state="revoked"]').count()).toBe(1);
    expect(await healthy.locator('g[data-state="live"]').count()).toBe(1);
    // Drawn, not just present: the bars have a size on screen
    const bar = await healthy.locator('g[data-state="live"] rect[data-part="live"]').boundingBox();
    expect(bar?.width).toBeGreaterThan(10);
    // The grace bar is drawn to scale: 3 hours (rotation to the sweep's revoke) of the 2-day
    // range across the 780 drawn pixels is about 49 pixels
    const graceBar = healthy.locator('g[data-state="revoked"] rect[data-part="grace"]');
    const width = (await graceBar.boundingBox())!.width;
    expect(width).toBeGreaterThan(45);
    expect(width).toBeLessThan(53);
  });

  it('states the compliance figures and lists the breach of the secret left past its lifespan', async () => {
    const row = await text('#compliance-table tr[data-secret="team/stale"]');
    expect(row).toMatch(/^team\/stale\t\d+h.*\t4h\t\d+h \(still in grace\)\t1h\tbreach$/);
    expect(await text('#compliance-table tr[data-secret="team/healthy"]')).toMatch(/\tok$/);
    const breaches = await text('#breaches');
    expect(breaches).toMatch(
      /team\/stale: previous version \S+ has kept working \d+h after it was replaced, over its grace of 1h/,
    );
    expect(breaches).not.toContain('team/healthy');
    expect(breaches).not.toContain('team/leaked');
  });

  it('lists the emergency revoke with who asked, why (escaped, inert) and what was revoked', async () => {
    const row = await text('#revoke-list tr:nth-child(2)');
    expect(row).toContain('team/leaked');
    expect(row).toContain('completed');
    expect(row).toContain('runbook by arn:aws:iam::123456789012:user/alice');
    expect(row).toContain('<img src=x onerror=alert(1)>');
    expect(row).toMatch(/current \S+.*reissued as \S+/);
    // The hostile reason is text, not markup: no image, no script in the page
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(0);
  });

  it('reports the chain and checkpoint verification', async () => {
    expect(await text('#chains')).toMatch(
      /^All \d+ audit chains verified in full; none missing\.$/,
    );
    expect(await text('#checkpoints')).toMatch(/^\d+ checkpoints read; every chain reaches/);
  });

  it('is self-contained: the browser made no request but for the page, and no secret value is in it', () => {
    expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
    expect(values.size).toBeGreaterThanOrEqual(6);
    for (const value of values) {
      expect(html).not.toContain(value);
      // Nor any part of one: every 12-character slice of the value
      for (let i = 0; i + 12 <= value.length; i++)
        expect(html).not.toContain(value.slice(i, i + 12));
    }
  });
});
