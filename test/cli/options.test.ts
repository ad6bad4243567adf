// The CLI's global options as an operator on any machine uses them: --version, --profile (the
// credentials and region of a profile in the shared files), and the region from
// AWS_DEFAULT_REGION as the AWS CLI reads it (the SDK alone reads only AWS_REGION).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { installSuite } from '#local-aws/suite';
import { cli, localEnv, spawnCli, useLocalAwsEnv } from './support.ts';

let aws: LocalAws;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws();
  await installSuite(aws);
  useLocalAwsEnv(aws);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('global options', () => {
  it('prints the package version with --version and exits 0', async () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    );
    const result = await cli(aws, '--version');
    expect(result).toEqual({ code: 0, stdout: `token-rotation ${version}\n`, stderr: '' });
  });

  it('takes the region from AWS_DEFAULT_REGION when AWS_REGION is not set', async () => {
    // Prepare
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', aws.region);

    // Act
    const result = await cli(aws, 'status', '--quiet');

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    vi.stubEnv('AWS_REGION', aws.region);
  });

  it('lists --profile and --version in the help', async () => {
    const result = await cli(aws, '--help');
    expect(result.stdout).toContain('--profile <name>');
    expect(result.stdout).toContain('--version');
  });

  it('--profile takes the credentials and the region from that profile of the shared files', async () => {
    // Prepare: an operator's machine, with no credentials or region in the environment
    const {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_REGION: _region,
      AWS_DEFAULT_REGION: _defaultRegion,
      AWS_SESSION_TOKEN: _session,
      ...env
    } = localEnv(aws);
    const home = mkdtempSync(path.join(tmpdir(), 'token-rotation-profile-'));
    const config = path.join(home, 'config');
    const credentials = path.join(home, 'credentials');
    writeFileSync(config, `[profile ops]\nregion = ${aws.region}\n`);
    writeFileSync(
      credentials,
      `[ops]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`,
    );
    const operator = { ...env, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials };

    try {
      // Act
      const withProfile = await spawnCli(operator, 'status', '--quiet', '--profile', 'ops');
      const without = await spawnCli(operator, 'status', '--quiet');

      // Assess
      expect(withProfile.stderr).toBe('');
      expect(withProfile.code).toBe(0);
      // It found the stack and listed the (here, no) opted-in secrets with the profile's access.
      expect(withProfile.stdout).toContain("in stack TokenRotation's region");
      expect(without.code).toBe(2);
      expect(without.stderr).toMatch(/no AWS (region|credentials)/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
