// `token-rotation scan` after an emergency revoke, on the embedded local AWS: the revoke function
// tells the token index which tokens it revoked (`revokedAt`), so a leaked IAM secret access key
// it revoked is reported revoked, exit 0, not "unknown" (README "Leak scan"). Covered: a key the
// sweep had indexed, a key no sweep ever saw (indexed by the revoke itself), and a `random` token
// (revoked by unstaging, recorded too).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyedFingerprint } from '#domain/keyed-fingerprint';
import { BINDING_TAG } from '#domain/kinds/iam-access-key/issuer';
import { mintToken } from '#domain/tokens';
import { TAG } from '#domain/vocabulary';
import type { LocalAws } from '#local-aws/index';
import type { InstalledSuite } from '#local-aws/suite';
import { type ScanWorld, startScanWorld, stopScanWorld } from './scan-world.ts';
import { cli, createTaggedSecret, sweepOnce } from './support.ts';

let world: ScanWorld | undefined;
let aws: LocalAws;
let suite: InstalledSuite;
let key: string;
let dir: string;
let users = 0;

beforeAll(async () => {
  world = await startScanWorld('scan-revoked');
  ({ aws, suite, key, dir } = world);
}, 120_000);

afterAll(() => stopScanWorld(world));

/** An iam-access-key secret, opted in, its IAM user bound to it, with one active key. */
async function iamSecret(name: string) {
  const userName = `leaky-bot-${++users}`;
  aws.iam.createUser(userName, '/token-rotation/');
  const accessKey = aws.iam.createAccessKey(userName);
  const { accessKeyId, secretAccessKey } = accessKey;
  const value = JSON.stringify({ userName, accessKeyId, secretAccessKey });
  const arn = await createTaggedSecret(suite.secretsManager, name, value, {
    [TAG.lifespan]: '30d',
    [TAG.kind]: 'iam-access-key',
    [TAG.environment]: 'prod',
  });
  aws.iam.tagUser(userName, { [BINDING_TAG]: arn });
  return { arn, userName, accessKey };
}

const plant = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function revoke(secret: string) {
  const result = await cli(aws, 'revoke', secret, '--reason', 'leaked in a build log');
  expect(result.code, result.stderr).toBe(0);
}

async function scanJson(path: string) {
  const result = await cli(aws, 'scan', path, '--json');
  return { code: result.code, report: JSON.parse(result.stdout) };
}

describe('scan after an emergency revoke', () => {
  it('reports a revoked IAM secret access key the sweep had indexed as revoked, and exits 0', async () => {
    // Prepare: the sweep indexes the key; a scan then sees it live.
    const { arn, userName, accessKey } = await iamSecret('leaky/indexed');
    await sweepOnce(aws, suite);
    const file = plant('indexed.env', `AWS_SECRET_ACCESS_KEY=${accessKey.secretAccessKey}\n`);
    const before = await scanJson(file);
    expect(before.report.findings).toMatchObject([{ secretArn: arn, status: 'live' }]);

    // Act
    await revoke('leaky/indexed');
    const after = await scanJson(file);

    // Assess
    expect(aws.iam.keysOf(userName).map((k) => k.accessKeyId)).not.toContain(accessKey.accessKeyId);
    expect(after.report.findings).toMatchObject([
      {
        secretArn: arn,
        versionId: before.report.findings[0].versionId,
        recognisedBy: 'index',
        status: 'revoked',
        why: expect.stringMatching(/^revoked at its issuer \d{4}-/),
      },
    ]);
    expect(after.code).toBe(0);
  });

  it('indexes, as revoked, a key no sweep had seen yet, with its environment', async () => {
    // Prepare: no sweep ran since the secret was created, so the index does not know the key.
    const { arn, accessKey } = await iamSecret('leaky/unseen');
    const file = plant('unseen.json', `{"secret": "${accessKey.secretAccessKey}"}\n`);
    expect((await scanJson(file)).report.findings).toEqual([]);

    // Act
    await revoke('leaky/unseen');
    const after = await scanJson(file);

    // Assess
    expect(after.report.findings).toMatchObject([
      { secretArn: arn, environment: 'prod', status: 'revoked' },
    ]);
    expect(after.report.findings[0].fingerprint).toBe(
      keyedFingerprint(key, accessKey.secretAccessKey),
    );
    expect(after.code).toBe(0);
    expect(JSON.stringify(after.report)).not.toContain(accessKey.secretAccessKey);
  });

  it('records the revoke of a random token too (revoked by unstaging)', async () => {
    // Prepare
    const token = mintToken('acme_live_');
    const arn = await createTaggedSecret(suite.secretsManager, 'leaky/random', token, {
      [TAG.lifespan]: '30d',
    });
    await sweepOnce(aws, suite);
    const file = plant('random.txt', `token: ${token}\n`);

    // Act
    await revoke('leaky/random');
    const after = await scanJson(file);

    // Assess: judged from the index's revokedAt, not only from the kind.
    expect(after.report.findings).toMatchObject([
      { secretArn: arn, status: 'revoked', why: expect.stringMatching(/^revoked at its issuer/) },
    ]);
    expect(after.code).toBe(0);
  });
});
