// The CLI's global options as an operator on any machine uses them: --version, and the region
// from AWS_DEFAULT_REGION as the AWS CLI reads it (the SDK alone reads only AWS_REGION).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { installSuite } from '#local-aws/suite';
import { cli, useLocalAwsEnv } from './support.ts';

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
});
