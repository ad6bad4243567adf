// The second file: at its import and in its tests, the worker is as it started.
import { expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { printed } from '../../cli/support.ts';
import { EXTERNAL_ENDPOINT } from '../../integration/support/endpoint.ts';

const atImport = {
  endpoint: process.env.AWS_ENDPOINT_URL,
  left: process.env.TOKEN_ROTATION_FIXTURE_LEFT,
  level: logger.getLevelName(),
};
logger.setLogLevel('CRITICAL');

it('is imported with the environment and the logger the worker started with', () => {
  expect(atImport).toEqual({
    endpoint: undefined,
    left: undefined,
    level: (globalThis as { fixtureStartLevel?: string }).fixtureStartLevel,
  });
  expect(EXTERNAL_ENDPOINT).toBeUndefined();
});

it('keeps the logger level its own top level set', () => {
  expect(logger.getLevelName()).toBe('CRITICAL');
});

it('starts with nothing printed by the CLI', () => {
  expect(printed).toEqual([]);
});
