import {
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { randomIssuer } from '#domain/kinds/random/issuer';
import { type IssuerFor, issuerFor } from '#domain/kinds/registry';
import type { Issuer } from '#domain/ports';
import { type RotationDeps, RotationStepFailed, rotateStep } from '#domain/rotation/index';
import { revokeAfterLabel } from '#domain/sweep/labels';
import { checkToken, fingerprint } from '#domain/tokens';
import { REVOKE_AFTER_LABEL_PREFIX, STEPS, type Step } from '#domain/vocabulary';
import {
  FakeSecret,
  fakeSecretsManager,
  MemoryAlerter,
  MemoryAuditLog,
} from '../support/rotation-fakes.ts';

const FIRST = 'acme_live_first-token-set-by-hand';

function setup(currentValue: string = FIRST, resolveIssuer: IssuerFor = issuerFor) {
  const secret = new FakeSecret(currentValue);
  const { client, mock } = fakeSecretsManager(secret);
  const audit = new MemoryAuditLog();
  const alerter = new MemoryAlerter();
  const deps: RotationDeps = {
    store: new SecretsManagerStore(client),
    audit,
    alerter,
    issuerFor: resolveIssuer,
    clock: () => new Date('2030-01-01T00:00:00Z'),
  };
  const run = (step: Step, token: string, rotationToken?: string) =>
    rotateStep(
      {
        secretId: secret.arn,
        token,
        step,
        trigger: { source: 'secretsmanager' },
        ...(rotationToken && { rotationToken }),
      },
      deps,
    );
  const rotate = async (token = secret.startRotation()) => {
    for (const step of STEPS) await run(step, token);
    return token;
  };
  const calls = () =>
    mock.calls().map((call) => (call.args[0] as object).constructor.name.replace(/Command$/, ''));
  return { secret, mock, audit, alerter, deps, run, rotate, calls };
}

async function failure(attempt: Promise<unknown>): Promise<RotationStepFailed> {
  try {
    await attempt;
  } catch (error) {
    return error as RotationStepFailed;
  }
  throw new Error('expected the step to fail');
}

describe('a full rotation', () => {
  it('promotes a new token with the old prefix and keeps the old one as AWSPREVIOUS', async () => {
    // Prepare
    const { secret, rotate } = setup();
    const oldVersion = secret.versionWith('AWSCURRENT')!;

    // Act
    const token = await rotate();

    // Assess
    expect(secret.versionWith('AWSCURRENT')).toBe(token);
    expect(secret.versionWith('AWSPREVIOUS')).toBe(oldVersion);
    expect(secret.versionWith('AWSPENDING')).toBeUndefined();
    expect(checkToken(secret.valueOf('AWSCURRENT')!, 'acme_live_')).toBeUndefined();
    expect(secret.valueOf('AWSPREVIOUS')).toBe(FIRST);
  });

  it('makes at most 8 Secrets Manager calls over all four steps', async () => {
    // Prepare
    const { rotate, calls } = setup();

    // Act
    await rotate();

    // Assess
    expect(calls().length).toBeLessThanOrEqual(8);
    expect(calls()).toEqual([
      'DescribeSecret',
      'GetSecretValue',
      'PutSecretValue',
      'DescribeSecret',
      'DescribeSecret',
      'GetSecretValue',
      'DescribeSecret',
      'UpdateSecretVersionStage',
    ]);
  });

  it('carries every other JSON field over to the new version', async () => {
    // Prepare
    const value = '{"owner":"payments","token":"acme_old","scopes":["read"],"n":1.50}';
    const { secret, rotate } = setup(value);

    // Act
    await rotate();
    await rotate();

    // Assess
    const current = secret.valueOf('AWSCURRENT')!;
    const token = (JSON.parse(current) as { token: string }).token;
    expect(current).toBe(
      `{"owner":"payments","token":${JSON.stringify(token)},"scopes":["read"],"n":1.50}`,
    );
    expect(checkToken(token, 'acme_')).toBeUndefined();
  });

  it('audits the new token and its promotion, naming tokens by fingerprint and never by value', async () => {
    // Prepare
    const { secret, audit, rotate } = setup();
    const oldVersion = secret.versionWith('AWSCURRENT')!;

    // Act
    const token = await rotate();

    // Assess
    const newValue = secret.valueOf('AWSCURRENT')!;
    // setSecret had nothing to activate and testSecret's check passed: nothing an auditor asks.
    expect(audit.events()).toEqual([
      'createSecret:step.succeeded:succeeded',
      'finishSecret:step.succeeded:succeeded',
    ]);
    const created = audit.records[0]!;
    expect(created.tokens).toEqual({ current: 'unfingerprinted', pending: fingerprint(newValue) });
    expect(created.versions).toEqual({ pending: token, current: oldVersion });
    expect(created).toMatchObject({
      secretArn: secret.arn,
      secretName: secret.name,
      trigger: { source: 'secretsmanager' },
    });
    expect(audit.records[1]!.versions).toEqual({ current: token, previous: oldVersion });
    const trail = JSON.stringify(audit.records);
    expect(trail).not.toContain(newValue);
    expect(trail).not.toContain(FIRST);
  });

  it('keeps one AWSCURRENT, the right AWSPREVIOUS and no AWSPENDING over many rotations', async () => {
    // Prepare
    const { secret, rotate } = setup();
    let previous = secret.versionWith('AWSCURRENT');

    for (let i = 0; i < 5; i++) {
      // Act
      const token = await rotate();

      // Assess
      const staged = [...secret.versions.values()].flatMap((v) => v.stages);
      expect(staged.filter((s) => s.startsWith('AWS')).sort()).toEqual([
        'AWSCURRENT',
        'AWSPREVIOUS',
      ]);
      expect(secret.versionWith('AWSCURRENT')).toBe(token);
      expect(secret.versionWith('AWSPREVIOUS')).toBe(previous);
      // Every token pushed off AWSPREVIOUS stays tracked for its revoke after grace.
      expect(staged.filter((s) => s.startsWith(REVOKE_AFTER_LABEL_PREFIX))).toHaveLength(i);
      previous = token;
    }
  });
});

describe.each(STEPS)('%s, on opening', (step) => {
  it('returns at once when the version is already AWSCURRENT', async () => {
    // Prepare
    const { secret, audit, run, calls } = setup();
    const current = secret.versionWith('AWSCURRENT')!;

    // Act
    await run(step, current);

    // Assess
    expect(calls()).toEqual(['DescribeSecret']);
    expect(audit.events()).toEqual([`${step}:step.succeeded:skipped`]);
    expect(audit.records[0]!.versions).toEqual({ current });
  });

  it('returns at once when AWSPENDING was left on the AWSCURRENT version (a finished rotation)', async () => {
    // Prepare
    const { secret, audit, run, calls } = setup();
    const current = secret.versionWith('AWSCURRENT')!;
    secret.versions.get(current)!.stages.push('AWSPENDING');

    // Act
    await run(step, current);

    // Assess
    expect(calls()).toEqual(['DescribeSecret']);
    expect(audit.records.at(-1)!.outcome).toBe('skipped');
  });

  it('fails when rotation is not enabled on the secret', async () => {
    // Prepare
    const { secret, audit, run, calls } = setup();
    secret.rotationEnabled = false;
    const token = secret.startRotation();

    // Act
    const error = await failure(run(step, token));

    // Assess
    expect(error.message).toBe(
      `RotationError: payments/api-key: ${step}: expected rotation to be enabled on the secret, found it disabled`,
    );
    expect(calls()).toEqual(['DescribeSecret']);
    expect(audit.records.at(-1)).toMatchObject({
      event: 'rotation.failed',
      step,
      detail: { reason: 'rotation-disabled' },
    });
  });

  it('fails for a version the secret does not have', async () => {
    // Prepare
    const { audit, run, calls } = setup();
    const stranger = '00000000-0000-4000-8000-000000000000';

    // Act
    const error = await failure(run(step, stranger));

    // Assess
    expect(error.message).toContain(
      `expected version ${stranger} to be a version of the secret, found no such version`,
    );
    expect(calls()).toEqual(['DescribeSecret']);
    expect(audit.records.at(-1)!.detail).toEqual({ reason: 'unknown-version' });
  });

  it('fails for a version that is not AWSPENDING', async () => {
    // Prepare
    const { secret, rotate, run, mock, calls } = setup();
    await rotate();
    const previous = secret.versionWith('AWSPREVIOUS')!;
    mock.resetHistory();

    // Act
    const error = await failure(run(step, previous));

    // Assess
    expect(error.message).toContain(
      `expected version ${previous} to be AWSPENDING, found it staged as AWSPREVIOUS`,
    );
    expect(error.reason).toBe('not-pending');
    // The failure reads the previous token, only to scrub it from what it reports.
    expect(calls()).toEqual(['DescribeSecret', 'GetSecretValue']);
  });
});

describe('createSecret', () => {
  it('keeps the pending value an earlier attempt already put', async () => {
    // Prepare
    const { secret, audit, run } = setup();
    const token = secret.startRotation();
    await run('createSecret', token);
    const firstPut = secret.versions.get(token)!.value;

    // Act
    await run('createSecret', token);

    // Assess
    expect(secret.versions.get(token)!.value).toBe(firstPut);
    expect(audit.records.at(-1)).toMatchObject({
      outcome: 'succeeded',
      detail: { pendingKept: true },
    });
  });

  it('passes the RotationToken on to PutSecretValue', async () => {
    // Prepare
    const { secret, run } = setup();
    const token = secret.startRotation();

    // Act
    await run('createSecret', token, 'rotation-token-from-secrets-manager');

    // Assess
    expect(secret.rotationTokens).toEqual(['rotation-token-from-secrets-manager']);
  });

  it('fails when AWSCURRENT has no value, putting nothing', async () => {
    // Prepare
    const { secret, run, calls } = setup();
    secret.versions.get(secret.versionWith('AWSCURRENT')!)!.value = undefined;
    const token = secret.startRotation();

    // Act
    const error = await failure(run('createSecret', token));

    // Assess
    expect(error.message).toContain('expected AWSCURRENT to hold the live token, found no value');
    expect(calls()).not.toContain('PutSecretValue');
  });

  it('fails on a malformed current value, leaving AWSCURRENT untouched', async () => {
    // Prepare
    const { secret, run, calls } = setup('{"owner":"payments"}');
    const token = secret.startRotation();

    // Act
    const error = await failure(run('createSecret', token));

    // Assess
    expect(error.reason).toBe('malformed-value');
    expect(error.message).toContain(
      'found a JSON object without a string field "token" (fields: owner)',
    );
    expect(calls()).not.toContain('PutSecretValue');
    expect(secret.valueOf('AWSCURRENT')).toBe('{"owner":"payments"}');
  });

  it('fails on an unknown token-rotation:kind, naming the kinds allowed', async () => {
    // Prepare
    const { secret, run, alerter } = setup();
    secret.tags['token-rotation:kind'] = 'bogus';
    const token = secret.startRotation();

    // Act
    const error = await failure(run('createSecret', token));

    // Assess
    expect(error.message).toContain(
      'expected one of random, iam-access-key, lambda:<function name or ARN>',
    );
    expect(alerter.sent[0]!.nextSteps.join(' ')).toContain('token-rotation:kind');
  });
});

describe('setSecret', () => {
  it('reads no values for a kind with nothing to activate', async () => {
    // Prepare
    const { secret, run, mock, calls } = setup();
    const token = secret.startRotation();
    await run('createSecret', token);
    mock.resetHistory();

    // Act
    await run('setSecret', token);

    // Assess
    expect(calls()).toEqual(['DescribeSecret']);
  });

  it('activates the pending token with the current one where the kind can', async () => {
    // Prepare
    const activated: Array<{ pending: string; current: string; versionId: string }> = [];
    const activating: Issuer = {
      ...randomIssuer,
      async activate(ctx) {
        activated.push({ pending: ctx.pending, current: ctx.current, versionId: ctx.versionId });
      },
    };
    const { secret, run } = setup(FIRST, () => activating);
    const token = secret.startRotation();
    await run('createSecret', token);

    // Act
    await run('setSecret', token);

    // Assess
    expect(activated).toEqual([
      { pending: secret.versions.get(token)!.value, current: FIRST, versionId: token },
    ]);
  });
});

describe('testSecret', () => {
  it("passes Secrets Manager's configuration test (an AWSPENDING with no value), changing and alerting nothing", async () => {
    // Prepare: RotateSecret without RotateImmediately runs testSecret alone on an empty AWSPENDING
    const { secret, run, audit, alerter } = setup();
    const token = secret.startRotation();

    // Act
    await run('testSecret', token);

    // Assess
    expect(secret.versionWith('AWSCURRENT')).not.toBe(token);
    expect(alerter.sent).toHaveLength(0);
    const outcome = audit.records.at(-1)!;
    expect(outcome).toMatchObject({ event: 'step.succeeded', outcome: 'skipped' });
    expect(outcome.detail).toMatchObject({ configurationTest: true });
  });

  it("passes Secrets Manager's configuration test when its AWSPENDING is a copy of a hand-set AWSCURRENT", async () => {
    // Prepare: the live token was set by hand (no checksum), and the test version copies it
    const { secret, run, alerter, audit } = setup();
    const token = secret.startRotation();
    secret.versions.get(token)!.value = secret.valueOf('AWSCURRENT');

    // Act
    await run('testSecret', token);

    // Assess
    expect(alerter.sent).toHaveLength(0);
    expect(audit.records.at(-1)).toMatchObject({ event: 'step.succeeded', outcome: 'skipped' });
  });

  it('fails when the pending token was altered, leaving AWSCURRENT untouched', async () => {
    // Prepare
    const { secret, run } = setup();
    const token = secret.startRotation();
    await run('createSecret', token);
    const pending = secret.versions.get(token)!;
    pending.value = `${pending.value!.slice(0, -1)}${pending.value!.endsWith('a') ? 'b' : 'a'}`;

    // Act
    const error = await failure(run('testSecret', token));

    // Assess
    expect(error.reason).toBe('malformed-token');
    expect(error.message).toContain('the checksum does not match');
    expect(secret.valueOf('AWSCURRENT')).toBe(FIRST);
  });
});

describe('finishSecret', () => {
  it('moves only AWSCURRENT, from the current version, in one call', async () => {
    // Prepare
    const { secret, run, mock, calls } = setup();
    const oldVersion = secret.versionWith('AWSCURRENT')!;
    const token = secret.startRotation();
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) await run(step, token);
    mock.resetHistory();

    // Act
    await run('finishSecret', token);

    // Assess
    expect(calls()).toEqual(['DescribeSecret', 'UpdateSecretVersionStage']);
    expect(
      mock.commandCalls(UpdateSecretVersionStageCommand).map((call) => call.args[0].input),
    ).toEqual([
      {
        SecretId: secret.arn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: oldVersion,
      },
    ]);
    expect(secret.valueOf('AWSPREVIOUS')).toBe(FIRST);
  });

  it('labels the version it pushes off AWSPREVIOUS revoke-after the end of its grace, before moving AWSCURRENT', async () => {
    // Prepare: a second rotation within the first one's grace.
    const { secret, run, rotate, mock, calls, audit } = setup();
    secret.tags['token-rotation:grace'] = '1h';
    const first = secret.versionWith('AWSCURRENT')!;
    const second = await rotate();
    const liveSince = new Date('2029-12-31T23:30:00Z');
    mock
      .on(ListSecretVersionIdsCommand)
      .resolves({ Versions: [{ VersionId: second, CreatedDate: liveSince }] });
    const token = secret.startRotation();
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) await run(step, token);
    mock.resetHistory();

    // Act
    await run('finishSecret', token);

    // Assess: the first token stays tracked, its grace counted from when the second went live.
    const label = revokeAfterLabel(new Date('2030-01-01T00:30:00Z'));
    expect(calls()).toEqual([
      'DescribeSecret',
      'ListSecretVersionIds',
      'UpdateSecretVersionStage',
      'UpdateSecretVersionStage',
    ]);
    expect(mock.commandCalls(UpdateSecretVersionStageCommand)[0]!.args[0].input).toEqual({
      SecretId: secret.arn,
      VersionStage: label,
      MoveToVersionId: first,
    });
    expect(secret.stagesOf(first)).toEqual([label]);
    expect(secret.versionWith('AWSPREVIOUS')).toBe(second);
    expect(audit.records.at(-1)!.detail).toMatchObject({
      previousVersion: first,
      revokeAfter: label,
    });
  });

  it("counts the grace from now, and says so, when the live version's creation cannot be read", async () => {
    // Prepare
    const { secret, run, rotate, mock, audit } = setup();
    const first = secret.versionWith('AWSCURRENT')!;
    await rotate();
    mock
      .on(ListSecretVersionIdsCommand)
      .rejects(new Error('AccessDeniedException: not authorized'));
    const token = secret.startRotation();

    // Act
    for (const step of STEPS) await run(step, token);

    // Assess: a grace that ends late (2h from the clock), never early.
    const label = revokeAfterLabel(new Date('2030-01-01T02:00:00Z'));
    expect(secret.stagesOf(first)).toEqual([label]);
    expect(secret.versionWith('AWSCURRENT')).toBe(token);
    expect(String(audit.records.at(-1)!.detail?.revokeAfterFrom)).toContain(
      "the version's creation date could not be read",
    );
  });

  it('is safe to run again', async () => {
    // Prepare
    const { secret, run, rotate, audit } = setup();
    const token = await rotate();

    // Act
    await run('finishSecret', token);

    // Assess
    expect(secret.versionWith('AWSCURRENT')).toBe(token);
    expect(audit.records.at(-1)!.outcome).toBe('skipped');
  });
});

describe('a failing step', () => {
  it('stops the rotation at its first step, before any new token goes live, when the audit trail cannot be written', async () => {
    // Prepare
    const { secret, audit, alerter, rotate } = setup();
    const live = secret.versionWith('AWSCURRENT');
    audit.failWhen = () => true;

    // Act
    const error = await failure(rotate());

    // Assess
    expect(error.reason).toBe('audit-unavailable');
    expect(error.message).toContain(
      'createSecret: expected to write the step.succeeded audit record, found the write failed',
    );
    expect(secret.versionWith('AWSCURRENT')).toBe(live);
    expect(secret.valueOf('AWSCURRENT')).toBe(FIRST);
    expect(alerter.sent).toHaveLength(1);
  });

  it('fails when its success cannot be audited, and a retry keeps what it did', async () => {
    // Prepare
    const { secret, audit, run } = setup();
    const token = secret.startRotation();
    audit.failWhen = (entry) => entry.event === 'step.succeeded';
    const firstAttempt = await failure(run('createSecret', token));
    const putByFirst = secret.versions.get(token)!.value;
    audit.failWhen = () => false;

    // Act
    await run('createSecret', token);

    // Assess
    expect(firstAttempt.reason).toBe('audit-unavailable');
    expect(secret.versions.get(token)!.value).toBe(putByFirst);
    expect(audit.records.at(-1)).toMatchObject({
      event: 'step.succeeded',
      detail: { pendingKept: true },
    });
  });

  it('alerts once across three failing attempts of the whole rotation', async () => {
    // Prepare: Secrets Manager retries a failed rotation with the same version.
    const { secret, alerter, run } = setup();
    const token = secret.startRotation();
    await run('createSecret', token);
    secret.versions.get(token)!.value = 'acme_live_not-a-minted-token';

    // Act
    for (let attempt = 0; attempt < 3; attempt++) {
      for (const step of STEPS) {
        const done = await run(step, token).then(
          () => true,
          () => false,
        );
        if (!done) break;
      }
    }

    // Assess
    expect(alerter.attempts).toHaveLength(3);
    expect(alerter.sent).toHaveLength(1);
    expect(alerter.sent[0]).toMatchObject({
      event: 'rotation.failed',
      severity: 'high',
      versionId: token,
      secretArn: secret.arn,
      summary: 'Rotation of payments/api-key failed at testSecret',
    });
    expect(secret.valueOf('AWSCURRENT')).toBe(FIRST);
  });

  it('alerts again when a later step of the same rotation fails after AWSCURRENT moved, once across its retries', async () => {
    // Prepare: testSecret fails once (the issuer does not answer) and is alerted, then passes.
    let verifyFails = true;
    const flaky: Issuer = {
      ...randomIssuer,
      async verify(ctx) {
        if (verifyFails) {
          verifyFails = false;
          throw new Error('the issuer did not answer');
        }
        return randomIssuer.verify(ctx);
      },
    };
    const { secret, audit, alerter, run } = setup(FIRST, () => flaky);
    const live = secret.versionWith('AWSCURRENT')!;
    const token = secret.startRotation();
    await run('createSecret', token);
    await run('setSecret', token);
    await failure(run('testSecret', token));
    await run('testSecret', token);

    // Act: finishSecret moves AWSCURRENT, then fails writing its record; Secrets Manager retries it.
    audit.failWhen = (entry) => entry.event === 'step.succeeded' && entry.step === 'finishSecret';
    await failure(run('finishSecret', token));
    await failure(run('finishSecret', token));

    // Assess: two e-mails, the second saying the new token is live; the retry is not a third.
    expect(secret.versionWith('AWSCURRENT')).toBe(token);
    expect(alerter.attempts).toHaveLength(3);
    expect(alerter.sent.map((a) => a.summary)).toEqual([
      'Rotation of payments/api-key failed at testSecret',
      'Rotation of payments/api-key failed at finishSecret',
    ]);
    expect(alerter.sent[0]!.nextSteps[0]).toContain(`unchanged on version ${live}`);
    expect(alerter.sent[1]!.nextSteps[0]).toContain(
      `AWSCURRENT already moved to this rotation's new token (version ${token})`,
    );
  });

  it('throws, audits and alerts the same scrubbed text', async () => {
    // Prepare
    const { secret, audit, alerter, run } = setup('{"token": 42}');
    const token = secret.startRotation();

    // Act
    const error = await failure(run('createSecret', token));

    // Assess
    expect(error).toBeInstanceOf(RotationStepFailed);
    expect(error.message).toBe(
      'ValidationError: payments/api-key: createSecret: AWSCURRENT value: expected a token or a JSON object with a string field "token", found a JSON object whose field "token" is a number',
    );
    expect(audit.records.at(-1)).toMatchObject({
      event: 'rotation.failed',
      outcome: 'failed',
      error: error.message,
    });
    expect(alerter.sent[0]!.reason).toBe(error.message);
    expect(alerter.sent[0]!.nextSteps[0]).toContain('AWSCURRENT) is unchanged');
  });

  it('redacts every value read in the invocation from an error that quotes one', async () => {
    // Prepare: an issuer careless enough to put the value in its error.
    const careless: Issuer = {
      ...randomIssuer,
      async verify(ctx) {
        throw new Error(`upstream rejected ${ctx.pending} as invalid`);
      },
    };
    const { secret, audit, alerter, run } = setup(FIRST, () => careless);
    const token = secret.startRotation();
    await run('createSecret', token);
    const pending = secret.versions.get(token)!.value!;

    // Act
    const error = await failure(run('testSecret', token));

    // Assess
    expect(error.message).toBe('upstream rejected [redacted] as invalid');
    expect(JSON.stringify(audit.records)).not.toContain(pending);
    expect(JSON.stringify(alerter.attempts)).not.toContain(pending);
  });

  it('still throws its own error when auditing and alerting the failure fail too', async () => {
    // Prepare
    const { secret, audit, alerter, run } = setup('{"owner":"payments"}');
    const token = secret.startRotation();
    audit.failWhen = (entry) => entry.event === 'rotation.failed';
    alerter.failing = true;

    // Act
    const error = await failure(run('createSecret', token));

    // Assess
    expect(error).toBeInstanceOf(RotationStepFailed);
    expect(error.reason).toBe('malformed-value');
    expect(alerter.attempts).toHaveLength(1);
  });

  it('names the secret from its ARN when DescribeSecret itself fails', async () => {
    // Prepare
    const { audit, alerter, deps, mock } = setup();
    const missing = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gone/key-XyZ123';

    // Act
    const error = await failure(
      rotateStep(
        {
          secretId: missing,
          token: '11111111-0000-4000-8000-000000000000',
          step: 'createSecret',
          trigger: { source: 'secretsmanager' },
        },
        deps,
      ),
    );

    // Assess
    expect(error.message).toContain('ResourceNotFoundException');
    expect(mock.commandCalls(DescribeSecretCommand)).toHaveLength(1);
    expect(audit.records).toHaveLength(1);
    expect(audit.records[0]).toMatchObject({
      event: 'rotation.failed',
      secretArn: missing,
      secretName: 'gone/key',
    });
    expect(alerter.sent[0]!.secretName).toBe('gone/key');
  });
});
