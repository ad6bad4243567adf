import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { ValidationError } from '#domain/errors';
import { randomIssuer } from '#domain/kinds/random/issuer';
import { issuerFor } from '#domain/kinds/registry';
import type { Issuer } from '#domain/ports';
import type { RotationDeps } from '#domain/rotation/index';
import { STEPS } from '#domain/vocabulary';
import { createRotationHandler, parseRotationEvent } from '#handlers/rotation';
import {
  FakeSecret,
  fakeSecretsManager,
  MemoryAlerter,
  MemoryAuditLog,
} from '../support/rotation-fakes.ts';

// Not credential-shaped, so the generic scrubber would not catch it: only care keeps it out.
const CANARY = 'canary-value-7f3a-must-never-appear';

let logs: string[] = [];
beforeEach(() => {
  logs = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      logs.push(String(chunk));
      return true;
    });
  }
});
afterEach(() => vi.restoreAllMocks());

function setup(currentValue = 'acme_live_first', issuer: Issuer = randomIssuer) {
  const secret = new FakeSecret(currentValue);
  const { client, mock } = fakeSecretsManager(secret);
  const audit = new MemoryAuditLog();
  const alerter = new MemoryAlerter();
  let built = 0;
  const handler = createRotationHandler(() => {
    built++;
    const deps: RotationDeps = {
      store: new SecretsManagerStore(client),
      audit,
      alerter,
      issuerFor: issuer === randomIssuer ? issuerFor : () => issuer,
      clock: () => new Date('2030-01-01T00:00:00Z'),
    };
    return deps;
  });
  const event = (Step: string, ClientRequestToken: string) => ({
    SecretId: secret.arn,
    ClientRequestToken,
    Step,
  });
  return { secret, mock, audit, alerter, handler, event, builds: () => built };
}

async function thrown(attempt: Promise<unknown>): Promise<Error> {
  try {
    await attempt;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the invocation to fail');
}

describe('the rotation handler', () => {
  it('rotates a secret through the four events Secrets Manager sends', async () => {
    // Prepare
    const { secret, handler, event } = setup();
    const token = secret.startRotation();

    // Act
    for (const step of STEPS) await handler(event(step, token));

    // Assess
    expect(secret.versionWith('AWSCURRENT')).toBe(token);
    expect(secret.valueOf('AWSCURRENT')!.startsWith('acme_live_')).toBe(true);
  });

  it('builds its clients on the first invocation, once', async () => {
    // Prepare
    const { secret, handler, event, builds } = setup();
    const token = secret.startRotation();
    const beforeAny = builds();

    // Act
    await handler(event('createSecret', token));
    await handler(event('setSecret', token));

    // Assess
    expect(beforeAny).toBe(0);
    expect(builds()).toBe(1);
  });

  it('passes the RotationToken on', async () => {
    // Prepare
    const { secret, handler, event } = setup();
    const token = secret.startRotation();

    // Act
    await handler({ ...event('createSecret', token), RotationToken: 'rt-1' });

    // Assess
    expect(secret.rotationTokens).toEqual(['rt-1']);
  });

  it('tags its log lines with the secret, step and version, and drops them afterwards', async () => {
    // Prepare
    const { secret, handler, event } = setup();
    const token = secret.startRotation();

    // Act
    await handler(event('createSecret', token));
    const { logger } = await import('#commons/logger');
    logger.info('after the invocation');

    // Assess
    const lines = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((l) => l.message === 'rotation step done')).toMatchObject({
      secretId: secret.arn,
      step: 'createSecret',
      versionId: token,
    });
    expect(lines.find((l) => l.message === 'after the invocation')).not.toHaveProperty('versionId');
  });
});

describe('the rotation handler checking its event', () => {
  const token = '6f1c2d3e-0000-4000-8000-00000000abcd';
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/api-key-AbCdEf';
  const cases: Array<[string, unknown, string]> = [
    [
      'no event',
      null,
      'expected a rotation event (an object with SecretId, ClientRequestToken and Step), found null',
    ],
    [
      'a missing SecretId',
      { ClientRequestToken: token, Step: 'createSecret' },
      'expected SecretId to be a string of 1 to 2048 characters, found none',
    ],
    [
      'an empty SecretId',
      { SecretId: '', ClientRequestToken: token, Step: 'createSecret' },
      'found an empty string',
    ],
    [
      'an overlong SecretId',
      { SecretId: 'x'.repeat(2049), ClientRequestToken: token, Step: 'createSecret' },
      'found a string of 2049 characters',
    ],
    [
      'a short token',
      { SecretId: arn, ClientRequestToken: 'x'.repeat(31), Step: 'createSecret' },
      'expected ClientRequestToken to be a string of 32 to 64 characters, found a string of 31 characters',
    ],
    [
      'a long token',
      { SecretId: arn, ClientRequestToken: 'x'.repeat(65), Step: 'createSecret' },
      'found a string of 65 characters',
    ],
    [
      'an unknown step',
      { SecretId: arn, ClientRequestToken: token, Step: 'rotate' },
      'expected Step to be one of createSecret, setSecret, testSecret, finishSecret, found "rotate"',
    ],
    [
      'a numeric RotationToken',
      { SecretId: arn, ClientRequestToken: token, Step: 'createSecret', RotationToken: 7 },
      'expected RotationToken to be a string when present, found a number',
    ],
  ];

  for (const [what, event, expected] of cases) {
    it(`fails on ${what} without touching the secret`, async () => {
      // Prepare
      const { handler, mock, builds } = setup();

      // Act
      const error = await thrown(handler(event));

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain(expected);
      expect(mock.calls()).toHaveLength(0);
      expect(builds()).toBe(0);
    });
  }

  it('names every problem of an event at once', () => {
    // Act
    const parse = () =>
      parseRotationEvent({ SecretId: arn, ClientRequestToken: 'short', Step: 'nope' });

    // Assess
    expect(parse).toThrow(`${arn}: event: expected ClientRequestToken`);
    expect(parse).toThrow('; expected Step to be one of');
  });
});

describe('a canary value planted in the secret', () => {
  function assertNowhere(canary: string, places: Record<string, unknown>) {
    for (const [where, content] of Object.entries(places)) {
      expect(JSON.stringify(content), where).not.toContain(canary);
    }
  }

  it('never appears in audit records, alerts, errors or logs when it makes the rotation fail', async () => {
    // Prepare: malformed JSON, whose parser message would quote it.
    const current = `{"token": "${CANARY}", "owner": `;
    const { secret, audit, alerter, handler, event } = setup(current);
    const token = secret.startRotation();

    // Act: Secrets Manager's first try and two retries.
    const errors: Error[] = [];
    for (let attempt = 0; attempt < 3; attempt++)
      errors.push(await thrown(handler(event('createSecret', token))));

    // Assess
    expect(audit.records.filter((r) => r.event === 'rotation.failed')).toHaveLength(3);
    expect(alerter.sent).toHaveLength(1);
    expect(logs.join('')).toContain('rotation step failed');
    assertNowhere(CANARY, {
      audit: audit.records,
      alerts: alerter.attempts,
      errors: errors.map((e) => ({ ...e, message: e.message, stack: e.stack })),
      logs,
    });
  });

  it('never appears anywhere when an issuer quotes it in its own error', async () => {
    // Prepare
    const careless: Issuer = {
      ...randomIssuer,
      async mint(ctx) {
        throw new Error(`cannot mint from ${ctx.current}`);
      },
    };
    const { secret, audit, alerter, handler, event } = setup(CANARY, careless);
    const token = secret.startRotation();

    // Act
    const error = await thrown(handler(event('createSecret', token)));

    // Assess
    expect(error.message).toBe('cannot mint from [redacted]');
    assertNowhere(CANARY, {
      audit: audit.records,
      alerts: alerter.attempts,
      error: { ...error, message: error.message, stack: error.stack },
      logs,
    });
  });

  it('never appears anywhere, in any encoding, when a failure quotes the previous token (AWSPREVIOUS)', async () => {
    // Prepare: the previous version holds the canary; the issuer's refusal lists it, as an API
    // listing every key of an account would, plain, URL-encoded and in base64.
    const previous = 'canary-previous 7f3a/never+shown';
    const forms = {
      plain: previous,
      'URL-encoded': encodeURIComponent(previous),
      base64: Buffer.from(previous).toString('base64'),
    };
    const careless: Issuer = {
      ...randomIssuer,
      async verify() {
        throw new Error(
          `key rejected; account keys: ${forms.plain} | ?k=${forms['URL-encoded']} | ${forms.base64}`,
        );
      },
    };
    const { secret, audit, alerter, handler, event } = setup('acme_live_first', careless);
    secret.versions.set('0f0e0d0c-0000-4000-8000-000000000001', {
      value: previous,
      stages: ['AWSPREVIOUS'],
    });
    const token = secret.startRotation();
    for (const step of ['createSecret', 'setSecret'] as const) await handler(event(step, token));

    // Act
    const error = await thrown(handler(event('testSecret', token)));

    // Assess
    expect(error.message).toContain('key rejected');
    expect(alerter.sent).toHaveLength(1);
    const everywhere = JSON.stringify({
      audit: audit.records,
      alerts: alerter.attempts,
      error: { message: error.message, stack: error.stack },
      logs,
    });
    for (const [form, shown] of Object.entries(forms)) {
      expect(everywhere.includes(shown), `the ${form} form of the previous token`).toBe(false);
    }
  });

  // Shapes the generic scrubber once missed; each planted as one JSON field of the secret.
  const FIELDS = {
    hex40: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b',
    hex32: 'c4ca4238a0b923820dcc509a6f75849b',
    base64url: 'q1Zx-7Yp_0aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3',
    slack: 'xoxb-123456789012-1234567890123-k3l9x8v2q0w4e6r7t1y5u9i3',
    short: 'pw-9z7q',
  };
  const fieldValue = JSON.stringify({ token: 'acme_live_first', ...FIELDS, region: 'eu' });
  const leaks = (text: string) =>
    Object.values(FIELDS).filter(
      (canary) =>
        text.includes(canary) ||
        // The long segments of a split token are secret on their own.
        canary.split(/[-_]/).some((part) => part.length >= 20 && text.includes(part)),
    );

  it.each([
    [
      'an issuer error quoting each field on its own',
      async (current: string) => {
        const fields = JSON.parse(current) as Record<string, string>;
        throw new Error(`refused keys ${Object.values(fields).join(', ')}`);
      },
    ],
    [
      'a JSON.parse error quoting the value',
      async (current: string) => JSON.parse(current.replace('"region"', 'region')) as string,
    ],
    [
      'an SDK-style error quoting the fields',
      async (current: string) => {
        const fields = JSON.parse(current) as Record<string, string>;
        throw Object.assign(
          new Error(`Invalid apiKey ${fields.hex40} / ${fields.short} / ${fields.slack}`),
          {
            name: 'ValidationException',
            $metadata: { httpStatusCode: 400 },
          },
        );
      },
    ],
  ])('never appears anywhere when one field of it is quoted by %s', async (_what, fails) => {
    // Prepare
    const careless: Issuer = {
      ...randomIssuer,
      async mint(ctx) {
        return fails(ctx.current);
      },
    };
    const { secret, audit, alerter, handler, event } = setup(fieldValue, careless);
    const token = secret.startRotation();

    // Act
    const error = await thrown(handler(event('createSecret', token)));

    // Assess
    expect(audit.records.some((r) => r.event === 'rotation.failed')).toBe(true);
    expect(alerter.sent).toHaveLength(1);
    const everywhere = JSON.stringify({
      audit: audit.records,
      alerts: alerter.attempts,
      error: { message: error.message, stack: error.stack },
      logs,
    });
    expect(leaks(everywhere)).toEqual([]);
  });

  it('never appears anywhere when a field of the freshly minted value is quoted by PutSecretValue', async () => {
    // Prepare: not credential-shaped, so only knowing the minted value's fields keeps it out.
    const fresh = 'fresh-minted-canary';
    const minting: Issuer = {
      ...randomIssuer,
      async mint() {
        return JSON.stringify({ token: 'acme_live_second', apiKey: fresh });
      },
    };
    const { secret, mock, audit, alerter, handler, event } = setup('acme_live_first', minting);
    mock
      .on(PutSecretValueCommand)
      .rejects(
        Object.assign(new Error(`Value rejected near "${fresh}"`), { name: 'ValidationException' }),
      );
    const token = secret.startRotation();

    // Act
    const error = await thrown(handler(event('createSecret', token)));

    // Assess
    expect(error.message).toContain('ValidationException');
    assertNowhere(fresh, {
      audit: audit.records,
      alerts: alerter.attempts,
      error: { message: error.message, stack: error.stack },
      logs,
    });
  });

  it('never appears in the log line written when the failure cannot be audited or alerted', async () => {
    // Prepare
    const { secret, audit, alerter, handler, event } = setup(`{"token": "${CANARY}"`);
    audit.failWhen = (entry) => entry.event === 'rotation.failed';
    alerter.failing = true;
    const token = secret.startRotation();

    // Act
    await thrown(handler(event('createSecret', token)));

    // Assess
    expect(logs.join('')).toContain('could not audit a failed rotation step');
    expect(logs.join('')).toContain('could not alert a failed rotation step');
    assertNowhere(CANARY, { logs });
  });
});

describe('the rotation handler reporting to CloudWatch', () => {
  function recorder() {
    const added: string[] = [];
    let published = 0;
    return {
      sink: {
        addMetric: (name: string) => void added.push(name),
        publishStoredMetrics: () => void published++,
      },
      added,
      published: () => published,
    };
  }

  it('counts a rotation as succeeded once, when finishSecret completes', async () => {
    // Prepare
    const { secret, audit, alerter, event } = setup();
    const metrics = recorder();
    const { client } = fakeSecretsManager(secret);
    const handler = createRotationHandler(
      {
        store: new SecretsManagerStore(client),
        audit,
        alerter,
        issuerFor,
        clock: () => new Date(),
      },
      { metrics: metrics.sink },
    );
    const token = secret.startRotation();

    // Act
    for (const step of STEPS) await handler(event(step, token));

    // Assess: the alarm and dashboard read these names
    expect(metrics.added).toEqual(['RotationSucceeded']);
    expect(metrics.published()).toBe(4);
  });

  it('counts every failed step as RotationFailed, which the failure alarm watches', async () => {
    // Prepare
    const { secret, audit, alerter, event } = setup();
    const metrics = recorder();
    const { client } = fakeSecretsManager(secret);
    const rejecting: Issuer = {
      ...randomIssuer,
      verify: async () => {
        throw new Error('issuer refused the new token');
      },
    };
    const handler = createRotationHandler(
      {
        store: new SecretsManagerStore(client),
        audit,
        alerter,
        issuerFor: () => rejecting,
        clock: () => new Date(),
      },
      { metrics: metrics.sink },
    );
    const token = secret.startRotation();

    // Act
    await handler(event('createSecret', token));
    await handler(event('setSecret', token));
    await thrown(handler(event('testSecret', token)));

    // Assess
    expect(metrics.added).toEqual(['RotationFailed']);
    expect(secret.versionWith('AWSCURRENT')).not.toBe(token);
  });
});
