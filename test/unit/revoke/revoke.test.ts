// The revoke domain with in-memory surroundings: what a failure leaves and reports, what is
// refused, and how reasons are cleaned. The end-to-end paths are in test/integration/revoke.test.ts.
import { randomUUID } from 'node:crypto';
import { DescribeSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { randomIssuer } from '#domain/kinds/random/issuer';
import type { Issuer } from '#domain/ports';
import {
  cleanReason,
  MAX_REASON_LENGTH,
  type RevokeDeps,
  RevokeFailedError,
  RevokeRequestError,
  readQuarantineNotice,
  requestProblems,
  revokeSecret,
} from '#domain/revoke/index';
import { revokeAfterLabel } from '#domain/sweep/labels';
import { checkToken, mintToken } from '#domain/tokens';
import { TAG } from '#domain/vocabulary';
import { fakeCatalog, MemoryRevokeLocks, recordingIssuer } from '../support/revoke-fakes.ts';
import {
  FakeSecret,
  fakeSecretsManager,
  MemoryAlerter,
  MemoryAuditLog,
} from '../support/rotation-fakes.ts';

const NOW = new Date('2026-03-02T09:00:00Z');
const keyValue = (key: string) =>
  JSON.stringify({ user: 'ci-bot', key, secret: `Sx${key}9aB7cD5eF3gH1iJ8kL6mN4oP2qR0sT` });

function setUp(value: string, issuer: Issuer = randomIssuer) {
  const secret = new FakeSecret(value);
  const { client, mock } = fakeSecretsManager(secret);
  const audit = new MemoryAuditLog();
  const alerter = new MemoryAlerter();
  const locks = new MemoryRevokeLocks();
  const catalog = fakeCatalog(secret);
  const deps: RevokeDeps = {
    store: new SecretsManagerStore(client),
    catalog,
    audit,
    alerter,
    issuerFor: () => issuer,
    locks,
    clock: () => NOW,
    stackName: 'Acme',
  };
  return { secret, mock, audit, alerter, locks, catalog, deps };
}

const request = (secretId: string, extra: Record<string, unknown> = {}) => ({
  secretId,
  reason: 'leaked',
  trigger: { source: 'console' as const },
  ...extra,
});

describe('revokeSecret failures', () => {
  it('fails with revoke.failed naming what was and was not revoked when the issuer refuses a version, and a retry finishes', async () => {
    // Prepare
    const { issuer, state } = recordingIssuer();
    const { secret, audit, alerter, locks, deps } = setUp(keyValue('KEYA'), issuer);
    const current = secret.versionWith('AWSCURRENT')!;
    const previous = randomUUID();
    secret.versions.set(previous, { value: keyValue('KEYB'), stages: ['AWSPREVIOUS'] });
    state.refuse.add('KEYB');

    // Act
    const error = await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RevokeFailedError);
    const failure = error as RevokeFailedError;
    expect(failure.revoked.map((v) => [v.versionId, v.token])).toEqual([[current, 'KEYA']]);
    expect(failure.notRevoked.map((v) => v.versionId)).toEqual([previous]);
    expect(failure.message).toContain('failed at revoke');
    expect(failure.message).not.toContain('Sx');
    expect(secret.versionWith('AWSCURRENT')).toBe(current);
    expect(audit.events()).toEqual([':revoke.requested:started', ':revoke.failed:failed']);
    expect(audit.records[1]!.error).toContain(`Not revoked: version ${previous} (AWSPREVIOUS)`);
    expect(alerter.sent.map((a) => a.event)).toEqual(['revoke.failed']);
    expect(alerter.sent[0]!.nextSteps.join('\n')).toContain(`NOT revoked: version ${previous}`);
    expect(JSON.stringify([audit.records, alerter.sent])).not.toMatch(/SxKEY/);
    expect(locks.finished.at(-1)!.state).toBe('failed');

    // Act: the issuer recovers and the same request runs again
    state.refuse.clear();
    const outcome = await revokeSecret(request(secret.arn), deps);

    // Assess
    expect(outcome.status).toBe('completed');
    expect(state.revoked).toEqual(['KEYA', 'KEYA', 'KEYB']);
    expect([...secret.versions.values()].filter((v) => v.stages.length > 0)).toHaveLength(1);
    expect(JSON.parse(secret.valueOf('AWSCURRENT')!).key).toBe('KEY1');
  });

  it('alerts a retry that fails leaving different tokens not revoked, and not a retry that fails the same way', async () => {
    // Prepare: the issuer refuses the previous token, and the first request's e-mail is sent.
    const { issuer, state } = recordingIssuer();
    const { secret, alerter, deps } = setUp(keyValue('KEYA'), issuer);
    const current = secret.versionWith('AWSCURRENT')!;
    const previous = randomUUID();
    secret.versions.set(previous, { value: keyValue('KEYB'), stages: ['AWSPREVIOUS'] });
    state.refuse.add('KEYB');
    await revokeSecret(request(secret.arn), deps).catch(() => undefined);

    // Act: the same request retried while the issuer refuses the current token too, then again.
    state.refuse.add('KEYA');
    const second = await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e);
    await revokeSecret(request(secret.arn), deps).catch(() => undefined);

    // Assess: the second e-mail names both tokens as not revoked; the third attempt is a duplicate.
    expect(second).toBeInstanceOf(RevokeFailedError);
    expect((second as RevokeFailedError).notRevoked.map((v) => v.versionId).sort()).toEqual(
      [current, previous].sort(),
    );
    const failed = alerter.sent.filter((a) => a.event === 'revoke.failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]!.nextSteps.join('\n')).toContain(`Revoked: version ${current}`);
    expect(failed[1]!.nextSteps.join('\n')).toContain('Revoked: no version.');
    expect(failed[1]!.nextSteps.join('\n')).toContain(`NOT revoked: version ${current}`);
    expect(alerter.attempts.filter((a) => a.event === 'revoke.failed')).toHaveLength(3);
  });

  it('fails before touching any token when revoke.requested cannot be audited', async () => {
    // Prepare
    const { issuer, state } = recordingIssuer();
    const { secret, audit, locks, deps } = setUp(keyValue('KEYA'), issuer);
    audit.failWhen = (entry) => entry.event === 'revoke.requested';

    // Act
    const act = revokeSecret(request(secret.arn), deps);

    // Assess
    await expect(act).rejects.toThrow(/failed at revoke: .*audit table is throttled/);
    expect(state.revoked).toEqual([]);
    expect(state.minted).toEqual([]);
    expect(locks.finished.at(-1)!.state).toBe('failed');
  });

  it('fails with the value scrubbed when minting the fresh token fails, leaving the revoked versions listed', async () => {
    // Prepare
    const token = mintToken('acme_live_');
    const failing: Issuer = {
      ...randomIssuer,
      async mint(ctx) {
        throw new Error(`the issuer choked on ${ctx.current}`);
      },
    };
    const { secret, audit, deps } = setUp(token, failing);

    // Act
    const error = (await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e)) as Error;

    // Assess
    expect(error.message).toContain('failed at reissue');
    expect(error.message).not.toContain(token);
    expect(JSON.stringify(audit.records)).not.toContain(token);
  });
});

describe('revokeSecret failure alerts state the stages as read back', () => {
  /** The labels of the fake secret as a person reads them. */
  const stagesOf = (secret: FakeSecret) =>
    [...secret.versions]
      .filter(([, v]) => v.stages.length > 0)
      .map(([id, v]) => `${v.stages.join(', ')} on version ${id}`)
      .join('; ');

  it('fails with revoke.failed showing the labels as they are after the failure, not as they were found', async () => {
    // Prepare: a rotation stages AWSPENDING while the issuer call that fails is under way.
    const { issuer, state } = recordingIssuer();
    const { secret, audit, alerter, deps } = setUp(keyValue('KEYA'), {
      ...issuer,
      async revoke(ctx) {
        if (JSON.parse(ctx.value).key === 'KEYA') secret.startRotation();
        return issuer.revoke(ctx);
      },
    });
    state.refuse.add('KEYA');

    // Act
    const error = await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RevokeFailedError);
    const after = stagesOf(secret);
    expect(after).toContain('AWSPENDING');
    const alert = alerter.sent.find((a) => a.event === 'revoke.failed')!;
    expect(alert.nextSteps).toContain(`Stages read after the failure: ${after}.`);
    const failed = audit.records.find((r) => r.event === 'revoke.failed')!;
    expect(failed.detail?.stagesAfter).toBe(after);
  });

  it('fails with revoke.failed saying the stages could not be read back when that read fails too', async () => {
    // Prepare
    const { issuer, state } = recordingIssuer();
    const { secret, mock, alerter, deps } = setUp(keyValue('KEYA'), {
      ...issuer,
      async revoke(ctx) {
        mock
          .on(DescribeSecretCommand)
          .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
        return issuer.revoke(ctx);
      },
    });
    state.refuse.add('KEYA');

    // Act
    const error = await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RevokeFailedError);
    const body = alerter.sent.find((a) => a.event === 'revoke.failed')!.nextSteps.join('\n');
    expect(body).toContain('stages could not be read back (ThrottlingException: Rate exceeded)');
    expect(body).not.toContain('Stages read after the failure');
  });
});

describe('revokeSecret failing on a random token', () => {
  const mintFails: Issuer = {
    ...randomIssuer,
    async mint() {
      throw new Error('entropy source unavailable');
    },
  };

  it.each([
    ['minting the fresh token fails', 'mint'],
    ['PutSecretValue fails', 'put'],
  ])(
    'fails listing the still-labelled AWSCURRENT as NOT revoked when %s, and keeps it live',
    async (_what, failing) => {
      // Prepare
      const token = mintToken('acme_live_');
      const { secret, mock, audit, alerter, deps } = setUp(
        token,
        failing === 'mint' ? mintFails : randomIssuer,
      );
      if (failing === 'put') {
        mock
          .on(PutSecretValueCommand)
          .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      }
      const current = secret.versionWith('AWSCURRENT')!;

      // Act
      const error = await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(RevokeFailedError);
      const failure = error as RevokeFailedError;
      expect(failure.revoked).toEqual([]);
      expect(failure.notRevoked.map((v) => v.versionId)).toEqual([current]);
      expect(failure.message).toContain(
        `Revoked: no version. Not revoked: version ${current} (AWSCURRENT)`,
      );
      const failed = audit.records.find((r) => r.event === 'revoke.failed')!;
      expect(failed.error).toContain(`Not revoked: version ${current} (AWSCURRENT)`);
      const steps = alerter.sent.find((a) => a.event === 'revoke.failed')!.nextSteps.join('\n');
      expect(steps).toContain('Revoked: no version.');
      expect(steps).toContain(`NOT revoked: version ${current} (AWSCURRENT)`);
      expect(secret.versionWith('AWSCURRENT')).toBe(current);
      expect(secret.valueOf('AWSCURRENT')).toBe(token);
    },
  );

  it('counts a random token revoked once its labels are gone, and completes', async () => {
    // Prepare
    const token = mintToken('acme_live_');
    const { secret, deps } = setUp(token);
    const current = secret.versionWith('AWSCURRENT')!;

    // Act
    const outcome = await revokeSecret(request(secret.arn), deps);

    // Assess
    expect(outcome.status).toBe('completed');
    expect(outcome.status === 'completed' && outcome.revoked.map((v) => v.versionId)).toEqual([
      current,
    ]);
    expect(secret.stagesOf(current)).toEqual([]);
  });
});

describe('revokeSecret and versions waiting for a later revoke', () => {
  it('revokes the token of a version that holds only a revoke-after label, and takes the label off', async () => {
    // Prepare: a rotation pushed this version off AWSPREVIOUS before its grace ended; its token
    // still works at the issuer until the sweep revokes it.
    const { issuer, state } = recordingIssuer();
    const { secret, audit, alerter, deps } = setUp(keyValue('KEYA'), issuer);
    const current = secret.versionWith('AWSCURRENT')!;
    const waiting = randomUUID();
    const label = revokeAfterLabel(new Date(NOW.getTime() + 60 * 60_000));
    secret.versions.set(waiting, { value: keyValue('KEYW'), stages: [label] });

    // Act
    const outcome = await revokeSecret(request(secret.arn), deps);

    // Assess
    expect(outcome.status).toBe('completed');
    expect(state.revoked).toEqual(expect.arrayContaining(['KEYA', 'KEYW']));
    expect(outcome.status === 'completed' && outcome.revoked.map((v) => v.versionId)).toEqual([
      current,
      waiting,
    ]);
    expect(secret.stagesOf(waiting)).toEqual([]);
    const completed = audit.records.find((r) => r.event === 'revoke.completed')!;
    expect(Object.values(completed.tokens ?? {})).toContain('KEYW');
    const steps = alerter.sent.find((a) => a.event === 'revoke.completed')!.nextSteps.join('\n');
    expect(steps).toContain(`version ${waiting} (${label}): KEYW`);
  });

  it('counts a random token waiting for a later revoke as revoked only once its label is gone', async () => {
    // Prepare
    const token = mintToken('acme_live_');
    const { secret, deps } = setUp(token);
    const waiting = randomUUID();
    secret.versions.set(waiting, {
      value: mintToken('acme_live_'),
      stages: [revokeAfterLabel(new Date(NOW.getTime() + 60 * 60_000))],
    });

    // Act
    const outcome = await revokeSecret(request(secret.arn), deps);

    // Assess
    expect(outcome.status === 'completed' && outcome.revoked.map((v) => v.versionId)).toContain(
      waiting,
    );
    expect(secret.stagesOf(waiting)).toEqual([]);
  });
});

describe('revokeSecret failing before it starts', () => {
  it('fails for a secret that does not exist, audited in a chain keyed by the id asked for and alerted', async () => {
    // Prepare
    const { audit, alerter, locks, deps } = setUp(mintToken('acme_live_'));

    // Act
    const error = await revokeSecret(request('no/such/secret'), deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RevokeRequestError);
    expect((error as Error).message).toContain(
      'no/such/secret: revoke: expected an existing secret',
    );
    expect(audit.records).toHaveLength(1);
    expect(audit.records[0]).toMatchObject({
      event: 'revoke.failed',
      outcome: 'failed',
      secretArn: 'no/such/secret',
      secretName: 'no/such/secret',
      detail: { refused: 'not-found', reason: 'leaked' },
    });
    expect(alerter.sent.map((a) => [a.event, a.secretName])).toEqual([
      ['revoke.failed', 'no/such/secret'],
    ]);
    expect(locks.items.size).toBe(0);
  });

  it('fails with revoke.failed audited and alerted when DescribeSecret fails for another reason', async () => {
    // Prepare
    const token = mintToken('acme_live_');
    const { secret, mock, audit, alerter, deps } = setUp(token);
    mock
      .on(DescribeSecretCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const error = await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RevokeFailedError);
    expect((error as Error).message).toContain(
      'failed at describe: ThrottlingException: Rate exceeded',
    );
    expect(audit.records.map((r) => [r.event, r.secretArn, r.detail?.failedAt])).toEqual([
      ['revoke.failed', secret.arn, 'describe'],
    ]);
    expect(alerter.sent.map((a) => a.event)).toEqual(['revoke.failed']);
    expect(alerter.sent[0]!.nextSteps.join('\n')).toContain('Nothing was revoked');
    expect(secret.valueOf('AWSCURRENT')).toBe(token);
  });

  it('fails with revoke.failed audited and alerted when the revoke lock cannot be claimed', async () => {
    // Prepare
    const token = mintToken('acme_live_');
    const { secret, audit, alerter, locks, deps } = setUp(token);
    locks.claim = async () => {
      throw new Error('revoke: could not claim the revoke lock: table is throttled');
    };

    // Act
    const error = await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RevokeFailedError);
    expect((error as Error).message).toContain('failed at lock');
    expect(audit.records.map((r) => [r.event, r.secretArn, r.detail?.failedAt])).toEqual([
      ['revoke.failed', secret.arn, 'lock'],
    ]);
    expect(alerter.sent.map((a) => [a.event, a.secretName])).toEqual([
      ['revoke.failed', secret.name],
    ]);
    expect(secret.valueOf('AWSCURRENT')).toBe(token);
  });
});

describe('revokeSecret scrubbing', () => {
  it('fails without quoting any one field of a value when the issuer quotes it', async () => {
    // Prepare: a field no generic pattern would recognise, quoted on its own.
    const field = 'pw-9z7q-not-shaped';
    const value = JSON.stringify({ token: mintToken('acme_live_'), password: field });
    const careless: Issuer = {
      ...randomIssuer,
      async revoke(ctx) {
        throw new Error(`vendor refused password ${JSON.parse(ctx.value).password}`);
      },
    };
    const { secret, audit, alerter, deps } = setUp(value, careless);

    // Act
    const error = (await revokeSecret(request(secret.arn), deps).catch((e: unknown) => e)) as Error;

    // Assess
    expect(error).toBeInstanceOf(RevokeFailedError);
    expect(error.message).toContain('vendor refused password [redacted]');
    expect(JSON.stringify([error.message, audit.records, alerter.attempts])).not.toContain(field);
  });
});

describe('revokeSecret refusals', () => {
  it('fails for an unknown kind, audited and alerted, with nothing changed', async () => {
    // Prepare
    const { secret, audit, alerter, deps } = setUp(mintToken('acme_'));
    secret.tags[TAG.kind] = 'vault';
    deps.issuerFor = () => {
      throw new Error('tag token-rotation:kind is "vault"; expected one of random, iam-access-key');
    };
    const before = secret.valueOf('AWSCURRENT');

    // Act
    const act = revokeSecret(request(secret.arn), deps);

    // Assess
    await expect(act).rejects.toBeInstanceOf(RevokeRequestError);
    expect(secret.valueOf('AWSCURRENT')).toBe(before);
    expect(audit.records[0]!.detail?.refused).toBe('unknown-kind');
    expect(alerter.sent[0]!.nextSteps.join(' ')).toContain(`Fix the tag ${TAG.kind}`);
  });

  it('ignores a tag request whose tag is already gone: the revoke it asked for has run', async () => {
    // Prepare
    const { secret, audit, deps } = setUp(mintToken('acme_'));

    // Act
    const outcome = await revokeSecret(
      request(secret.arn, { requireTag: true, requestKey: 'tag:1', trigger: { source: 'tag' } }),
      deps,
    );

    // Assess
    expect(outcome.status).toBe('ignored');
    expect(audit.events()).toEqual([':revoke.ignored:skipped']);
    expect(secret.versions.size).toBe(1);
  });

  it('takes the tag request reason from the tag on the secret, and removes only that tag', async () => {
    // Prepare
    const { secret, audit, catalog, deps } = setUp(mintToken('acme_'));
    secret.tags[TAG.revoke] = 'found in a public gist';

    // Act
    await revokeSecret(
      request(secret.arn, {
        reason: undefined,
        requireTag: true,
        requestKey: 'tag:2',
        trigger: { source: 'tag' },
      }),
      deps,
    );

    // Assess
    expect(audit.records.at(-1)!.detail?.reason).toBe('found in a public gist');
    expect(catalog.calls).toEqual([`untag ${TAG.revoke}`, `tag ${TAG.lastRevoked}`]);
    expect(secret.tags[TAG.lastRevoked]).toBe(NOW.toISOString());
  });
});

describe('quarantine', () => {
  it('quarantines a bare-token secret with a notice that holds no token, and restores from the version it names', async () => {
    // Prepare
    const token = mintToken('acme_live_');
    const { secret, deps } = setUp(token);
    const original = secret.versionWith('AWSCURRENT')!;

    // Act
    await revokeSecret(request(secret.arn, { mode: 'quarantine' }), deps);
    const notice = secret.valueOf('AWSCURRENT')!;
    await revokeSecret(request(secret.arn, { mode: 'quarantine', reason: 'still leaking' }), deps);
    const second = secret.valueOf('AWSCURRENT')!;
    await revokeSecret(request(secret.arn, { mode: 'reissue', reason: 'fixed' }), deps);

    // Assess
    expect(notice).not.toContain(token);
    expect(checkToken(notice)).toBeDefined();
    expect(readQuarantineNotice(notice)?.restoreFrom).toBe(original);
    expect(readQuarantineNotice(second)?.restoreFrom).toBe(original);
    const fresh = secret.valueOf('AWSCURRENT')!;
    expect(checkToken(fresh, 'acme_live_')).toBeUndefined();
    expect(fresh).not.toBe(token);
  });
});

describe('reasons and modes', () => {
  it('accepts a reason of up to 256 characters, counting characters rather than bytes', () => {
    expect(requestProblems({ reason: '🔑'.repeat(MAX_REASON_LENGTH) })).toEqual([]);
    expect(requestProblems({ reason: '🔑'.repeat(MAX_REASON_LENGTH + 1) })).toEqual([
      'expected a reason of at most 256 characters, found 257',
    ]);
  });

  it('refuses a missing reason and an unknown mode without quoting anything secret-shaped', () => {
    const problems = requestProblems({ reason: 42, mode: mintToken('acme_') });
    expect(problems[0]).toBe('expected a reason (why the token must be revoked), found a number');
    expect(problems[1]).toMatch(/^expected mode reissue or quarantine, found "\[redacted\]/);
  });

  it('cleans a reason to one line without control characters or credentials', () => {
    const token = mintToken('acme_');
    expect(cleanReason(`  leaked\r\n\tin\u202e chat: ${token}  `)).toBe(
      'leaked in chat: [redacted]',
    );
  });
});
