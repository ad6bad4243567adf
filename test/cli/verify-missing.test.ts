// verify-audit on the embedded local AWS when the trail itself is gone: a secret the suite manages
// whose whole chain was deleted, and a chain whose newest record was deleted (and appended to
// afterwards). Neither may pass as "every chain verifies".
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seqSk } from '#adapters/audit-table';
import { logger } from '#commons/logger';
import { TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import {
  auditPartition,
  cli,
  createTaggedSecret,
  deleteAuditItem,
  settleListings,
  sweepOnce,
  useLocalAwsEnv,
} from './support.ts';

let aws: LocalAws;
let suite: InstalledSuite;
const arns: Record<string, string> = {};

const sweep = () => sweepOnce(aws, suite);
const partition = (arn: string) => auditPartition(suite, arn);
const deleteItem = (arn: string, sk: string) => deleteAuditItem(suite, arn, sk);

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws({ clock: new Date('2026-07-01T09:00:00Z') });
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  for (const name of ['team/wiped', 'team/cut-short', 'team/intact']) {
    arns[name] = await createTaggedSecret(suite.secretsManager, name, 'acme_live_x', {
      [TAG.lifespan]: '7d',
    });
  }
  // ListSecrets may leave out what changed in the last minutes: list once it has settled.
  await settleListings(aws);
  await sweep();
  // Opted in after the sweep: rotation not attached yet, so no trail is expected of it.
  arns['team/just-tagged'] = await createTaggedSecret(
    suite.secretsManager,
    'team/just-tagged',
    'acme_live_y',
    { [TAG.lifespan]: '7d' },
  );
  await settleListings(aws);
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('verify-audit when records are gone', () => {
  it('reports a managed secret whose whole chain was deleted as missing, with exit code 1', async () => {
    // Prepare: every item of the chain deleted.
    const arn = arns['team/wiped']!;
    for (const item of await partition(arn)) await deleteItem(arn, String(item.sk));

    // Act
    const all = await cli(aws, 'verify-audit');
    const one = await cli(aws, 'verify-audit', 'team/wiped', '--format', 'json');

    // Assess
    expect(all.code).toBe(1);
    expect(all.stdout).toContain('✗ team/wiped: MISSING');
    expect(all.stdout).toContain(
      'the chain is missing: no audit records, yet the secret is managed',
    );
    expect(all.stdout).toContain('with rotation attached');
    expect(all.stdout).toContain('in the managed set');
    expect(all.stdout).not.toContain('every chain verifies');
    expect(one.code).toBe(1);
    expect(JSON.parse(one.stdout)).toMatchObject({
      ok: false,
      chains: [{ secretArn: arn, ok: false, total: 0, breaks: [{ kind: 'deleted' }] }],
    });
  });

  it('reports a chain whose newest record was deleted as cut short, and keeps the cut visible after the next append', async () => {
    // Prepare
    const arn = arns['team/cut-short']!;
    const records = (await partition(arn)).filter((item) => String(item.sk).startsWith('SEQ#'));
    const newest = Math.max(...records.map((item) => Number(item.seq)));
    await deleteItem(arn, seqSk(newest));

    // Act
    const cut = await cli(aws, 'verify-audit', 'team/cut-short');
    await suite.audit.append({
      secretArn: arn,
      secretName: 'team/cut-short',
      event: 'rotation.requested',
      outcome: 'started',
      trigger: { source: 'schedule' },
    });
    const rewritten = await cli(aws, 'verify-audit', 'team/cut-short');

    // Assess
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain('✗ team/cut-short: BROKEN');
    expect(cut.stdout).toContain(
      `the chain was cut short: it ends at record ${newest - 1}, but its head was recorded as record ${newest}; record ${newest} was deleted`,
    );
    // A writer that did not see the deletion links its record past the gap, to the recorded head,
    // so the deleted record stays missing rather than quietly replaced.
    expect(rewritten.code).toBe(1);
    expect(rewritten.stdout).toContain('✗ team/cut-short: BROKEN');
    expect(rewritten.stdout).toContain(`record ${newest}`);
  });

  it('passes an intact chain, and expects none of a secret whose rotation is not attached yet', async () => {
    // Act
    const intact = await cli(aws, 'verify-audit', 'team/intact');
    const fresh = await cli(aws, 'verify-audit', 'team/just-tagged');

    // Assess
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/✓ team\/intact: \d+ records verified/);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('No audit records for team/just-tagged');
  });
});
