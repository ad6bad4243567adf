// evidence judges each chain as verify-audit does, against the heads recorded beside the chains and
// the secrets the suite manages: a chain cut short of its recorded head is broken, and a managed
// secret whose whole chain was deleted is missing, never "verified" or "no records".
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

interface Evidence {
  summary: Record<string, number>;
  secrets: { secretName: string; chain: { status: string; breaks: { message: string }[] } }[];
}

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
  // ListSecrets may leave out what changed in the last minutes: the sweep, and then evidence,
  // list once the new secrets, and then their attached rotation, have settled.
  await settleListings(aws);
  await sweepOnce(aws, suite);
  await settleListings(aws);
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('evidence when records are gone', () => {
  it('reports a chain cut short as broken and a deleted one as missing, as verify-audit does', async () => {
    // Prepare: one chain loses its newest record, another every item
    const cut = arns['team/cut-short']!;
    const records = (await auditPartition(suite, cut)).filter((item) =>
      String(item.sk).startsWith('SEQ#'),
    );
    const newest = Math.max(...records.map((item) => Number(item.seq)));
    await deleteAuditItem(suite, cut, seqSk(newest));
    const wiped = arns['team/wiped']!;
    for (const item of await auditPartition(suite, wiped)) {
      await deleteAuditItem(suite, wiped, String(item.sk));
    }

    // Act
    const json = await cli(aws, 'evidence', '--format', 'json', '--quiet');
    const csv = await cli(aws, 'evidence');
    const verify = await cli(aws, 'verify-audit');

    // Assess
    expect(verify.code).toBe(1);
    expect(json.code).toBe(1);
    expect(csv.code).toBe(1);
    const report = JSON.parse(json.stdout) as Evidence;
    const chains = Object.fromEntries(report.secrets.map((s) => [s.secretName, s.chain]));
    expect(chains['team/intact']!.status).toBe('verified');
    expect(chains['team/cut-short']!.status).toBe('broken');
    expect(chains['team/cut-short']!.breaks.map((b) => b.message).join('\n')).toContain(
      `the chain was cut short: it ends at record ${newest - 1}`,
    );
    expect(chains['team/wiped']!.status).toBe('missing');
    expect(chains['team/wiped']!.breaks.map((b) => b.message).join('\n')).toContain(
      'the chain is missing: no audit records, yet the secret is managed',
    );
    expect(report.summary).toMatchObject({ chainsVerified: 1, chainsBroken: 2, chainsMissing: 1 });
    expect(csv.stdout).toContain('missing: deleted at 1: the chain is missing');
    expect(csv.stderr).toContain(
      'warning: 2 audit chains are broken (team/cut-short, team/wiped: missing)',
    );
  });
});
