// The first file: it changes the worker as CLI and integration files do, and undoes nothing.
import { beforeAll, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { printed, useLocalAwsEnv } from '../../cli/support.ts';

(globalThis as { fixtureStartLevel?: string }).fixtureStartLevel = logger.getLevelName();
logger.setLogLevel('SILENT');

beforeAll(() => {
  useLocalAwsEnv({
    env: {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIAFIXTURE',
      AWS_SECRET_ACCESS_KEY: 'fixture',
    },
  });
  process.env.TOKEN_ROTATION_FIXTURE_LEFT = 'left by the first file';
});

it('changes the environment, the logger and what the CLI printed', () => {
  printed.push('printed in the first file');
  expect(process.env.AWS_ENDPOINT_URL).toBe('http://127.0.0.1:9');
  expect(logger.getLevelName()).toBe('SILENT');
});
