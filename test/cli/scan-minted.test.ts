// `token-rotation scan` finds a token the rotation just minted, before any sweep ran: createSecret
// writes the token's index item with its audit record (README "Environment isolation"), so a
// fresh token copied somewhere is recognised at once, as live AWSCURRENT, for `random` and
// iam-access-key tokens alike. The item holds the keyed fingerprint, never the token.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenIndex } from '#adapters/dynamodb-token-index';
import { keyedFingerprint } from '#domain/keyed-fingerprint';
import { BINDING_TAG } from '#domain/kinds/iam-access-key/issuer';
import { mintToken } from '#domain/tokens';
import { TAG } from '#domain/vocabulary';
import type { LocalAws } from '#local-aws/index';
import type { InstalledSuite } from '#local-aws/suite';
import { type ScanWorld, startScanWorld, stopScanWorld } from './scan-world.ts';
import { attachRotation, cli, createTaggedSecret } from './support.ts';

const DAY = 24 * 3_600_000;

let world: ScanWorld | undefined;
let aws: LocalAws;
let suite: InstalledSuite;
let key: string;
let dir: string;

beforeAll(async () => {
  world = await startScanWorld('scan-minted');
  ({ aws, suite, key, dir } = world);
}, 120_000);

afterAll(() => stopScanWorld(world));

/** Rotates `name` now, as attaching rotation does; returns the new AWSCURRENT version and value. */
async function rotated(name: string) {
  await attachRotation(suite, name, 30 * DAY, true);
  await aws.idle();
  const out = await suite.secretsManager.send(new GetSecretValueCommand({ SecretId: name }));
  return { versionId: out.VersionId!, value: out.SecretString! };
}

async function scan(name: string, text: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  const result = await cli(aws, 'scan', path, '--json');
  return { code: result.code, stdout: result.stdout, findings: JSON.parse(result.stdout).findings };
}

describe('a token the rotation minted, before any sweep', () => {
  it('is found by scan as live AWSCURRENT (random)', async () => {
    // Prepare
    const arn = await createTaggedSecret(suite.secretsManager, 'minted/random', mintToken('m_'), {
      [TAG.lifespan]: '30d',
      [TAG.environment]: 'staging',
    });

    // Act
    const current = await rotated('minted/random');
    const { code, stdout, findings } = await scan('random.env', `API_TOKEN=${current.value}\n`);

    // Assess
    expect(findings).toMatchObject([
      {
        recognisedBy: 'index',
        secretArn: arn,
        versionId: current.versionId,
        environment: 'staging',
        status: 'live',
        stages: expect.arrayContaining(['AWSCURRENT']),
        fingerprint: keyedFingerprint(key, current.value),
      },
    ]);
    expect(code).toBe(1);
    expect(stdout).not.toContain(current.value);
    // Indexed by the rotation itself, in its audit write: one item, first seen at mint.
    const holders = await new DynamoTokenIndex(suite.dynamo, suite.tableName).holders(
      keyedFingerprint(key, current.value),
    );
    expect(holders).toMatchObject([{ secretArn: arn, versionId: current.versionId }]);
    expect(JSON.stringify(holders)).not.toContain(current.value);
    expect(await suite.audit.verify(arn)).toMatchObject({ ok: true });
  });

  it('is found by scan as live AWSCURRENT (iam-access-key, by its secret access key)', async () => {
    // Prepare
    const userName = 'minted-bot';
    aws.iam.createUser(userName, '/token-rotation/');
    const { accessKeyId, secretAccessKey } = aws.iam.createAccessKey(userName);
    const value = JSON.stringify({ userName, accessKeyId, secretAccessKey });
    const arn = await createTaggedSecret(suite.secretsManager, 'minted/iam', value, {
      [TAG.lifespan]: '30d',
      [TAG.kind]: 'iam-access-key',
    });
    aws.iam.tagUser(userName, { [BINDING_TAG]: arn });

    // Act
    const current = await rotated('minted/iam');
    const fresh = JSON.parse(current.value).secretAccessKey as string;
    const { findings } = await scan('iam.json', `{"aws_secret_access_key": "${fresh}"}\n`);

    // Assess
    expect(fresh).not.toBe(secretAccessKey);
    expect(findings).toMatchObject([
      { secretArn: arn, versionId: current.versionId, status: 'live' },
    ]);
  });
});
