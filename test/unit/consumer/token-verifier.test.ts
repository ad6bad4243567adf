// The verifier services use to accept `random` tokens: constant-time comparisons, a cache that
// still sees a rotation at once, sampled recording of the previous token's use, and nothing
// secret in what it records.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TokenUse, TokenUses } from '#domain/ports';
import {
  createTokenVerifier,
  matchToken,
  type StageReader,
} from '../../../lambdas/consumer/token-verifier.ts';

const CURRENT = 'tr_live_current_0123456789abcdefghijklmnopqrstuvwxyzAB';
const PREVIOUS = 'tr_live_previous_0123456789abcdefghijklmnopqrstuvwxyzA';

const digest = (token: string) => createHash('sha256').update(token).digest();

function fixture(options: { cacheMs?: number; sampleMs?: number } = {}) {
  let now = Date.parse('2026-03-02T09:00:00Z');
  const stages: Record<string, { versionId: string; value: string } | undefined> = {
    AWSCURRENT: { versionId: 'v2', value: JSON.stringify({ token: CURRENT, owner: 'x' }) },
    AWSPREVIOUS: { versionId: 'v1', value: JSON.stringify({ token: PREVIOUS, owner: 'x' }) },
  };
  const reads: string[] = [];
  const read: StageReader = async (stage) => {
    reads.push(stage);
    return stages[stage];
  };
  const recorded: { secretArn: string; versionId: string; use: TokenUse }[] = [];
  const uses: TokenUses = {
    record: async (secretArn, versionId, use) => void recorded.push({ secretArn, versionId, use }),
    lastUse: async () => undefined,
  };
  const verifier = createTokenVerifier({
    secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-AbCdEf',
    consumer: 'orders-service',
    read,
    uses,
    now: () => new Date(now),
    ...options,
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { verifier, stages, reads, recorded, advance };
}

describe('matchToken', () => {
  it.each([
    ['the live token', CURRENT, 0],
    ['the previous token', PREVIOUS, 1],
    ['an unknown token of the same length', `${CURRENT.slice(0, -1)}X`, -1],
    ['a one-character token', 'x', -1],
    ['a 10,000-character token', 'y'.repeat(10_000), -1],
  ])('compares %s with every staged token, over equal-length digests', (_, presented, expected) => {
    // Prepare
    const compared: [number, number][] = [];
    const equal = (a: Buffer, b: Buffer) => {
      compared.push([a.length, b.length]);
      return a.equals(b);
    };
    const staged = [
      { versionId: 'v2', digest: digest(CURRENT) },
      { versionId: 'v1', digest: digest(PREVIOUS) },
    ];

    // Act
    const found = matchToken(presented, staged, equal);

    // Assess: two comparisons of 32-byte digests, whichever matched
    expect(found).toBe(expected);
    expect(compared).toEqual([
      [32, 32],
      [32, 32],
    ]);
  });

  it('still compares twice when the secret has no previous version', () => {
    const compared: number[] = [];
    const found = matchToken(
      CURRENT,
      [{ versionId: 'v2', digest: digest(CURRENT) }, undefined],
      (a, b) => {
        compared.push(b.length);
        return a.equals(b);
      },
    );
    expect(found).toBe(0);
    expect(compared).toEqual([32, 32]);
  });
});

describe('createTokenVerifier', () => {
  it('tells the live, the previous and an unknown token apart', async () => {
    const { verifier } = fixture();
    expect(await verifier.verify(CURRENT)).toBe('current');
    expect(await verifier.verify(PREVIOUS)).toBe('previous');
    expect(await verifier.verify('tr_live_someone_else')).toBe('invalid');
  });

  it('reads the stages once per cache period, and again at once when a token matches neither', async () => {
    // Prepare
    const { verifier, stages, reads, advance } = fixture({ cacheMs: 60_000 });
    await verifier.verify(CURRENT);
    await verifier.verify(CURRENT);
    const cached = reads.length;

    // Act: a rotation the cache has not seen
    const NEXT = 'tr_live_next_0123456789abcdefghijklmnopqrstuvwxyzABCDE';
    stages.AWSPREVIOUS = stages.AWSCURRENT;
    stages.AWSCURRENT = { versionId: 'v3', value: JSON.stringify({ token: NEXT }) };
    advance(6_000);
    const next = await verifier.verify(NEXT);
    const garbage = [];
    for (let i = 0; i < 50; i++) garbage.push(await verifier.verify(`nope-${i}`));

    // Assess: two reads for the first check, two more for the rotation, none for the garbage
    expect(cached).toBe(2);
    expect(next).toBe('current');
    expect(reads).toHaveLength(4);
    expect(new Set(garbage)).toEqual(new Set(['invalid']));
  });

  it('records the previous token’s use at most once per sample period, naming the consumer and never the token', async () => {
    // Prepare
    const { verifier, recorded, advance } = fixture({ sampleMs: 5 * 60_000, cacheMs: 3_600_000 });

    // Act
    for (let i = 0; i < 100; i++) {
      await verifier.verify(PREVIOUS);
      advance(10_000);
    }
    await verifier.verify(CURRENT);

    // Assess: 1,000 s of use, sampled every 300 s
    expect(recorded.map((r) => r.use.at.toISOString())).toEqual([
      '2026-03-02T09:00:00.000Z',
      '2026-03-02T09:05:00.000Z',
      '2026-03-02T09:10:00.000Z',
      '2026-03-02T09:15:00.000Z',
    ]);
    expect(recorded.every((r) => r.versionId === 'v1' && r.use.by === 'orders-service')).toBe(true);
    const text = JSON.stringify(recorded);
    const bytes = Buffer.from(PREVIOUS);
    for (const form of [
      PREVIOUS,
      PREVIOUS.slice(0, 12),
      bytes.toString('base64'),
      bytes.toString('hex'),
      digest(PREVIOUS).toString('hex'),
      digest(PREVIOUS).toString('base64'),
    ]) {
      expect(text).not.toContain(form);
    }
  });

  it('answers even when recording fails, and tries to record again at the next use', async () => {
    // Prepare
    const failures: unknown[] = [];
    let attempts = 0;
    const verifier = createTokenVerifier({
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-AbCdEf',
      consumer: 'orders-service',
      read: async (stage) =>
        stage === 'AWSPREVIOUS'
          ? { versionId: 'v1', value: PREVIOUS }
          : { versionId: 'v2', value: CURRENT },
      uses: {
        record: async () => {
          attempts++;
          throw new Error('ProvisionedThroughputExceededException');
        },
        lastUse: async () => undefined,
      },
      onRecordError: (error) => failures.push(error),
    });

    // Act
    const first = await verifier.verify(PREVIOUS);
    const second = await verifier.verify(PREVIOUS);

    // Assess
    expect([first, second]).toEqual(['previous', 'previous']);
    expect(attempts).toBe(2);
    expect(failures).toHaveLength(2);
  });
});

describe('createTokenVerifier authorize: the scopes a token carries', () => {
  const scoped = (token: string, scopes: unknown) => JSON.stringify({ token, scopes });

  it("grants only what the matched version's own scopes field declares", async () => {
    // Prepare: the live token may read orders; the previous one (in grace) may also write them
    const { verifier, stages } = fixture();
    stages.AWSCURRENT!.value = scoped(CURRENT, ['orders:read']);
    stages.AWSPREVIOUS!.value = scoped(PREVIOUS, ['orders:read', 'orders:write']);

    // Act
    const read = await verifier.authorize(CURRENT, 'orders:read');
    const write = await verifier.authorize(CURRENT, 'orders:write');
    const previousWrite = await verifier.authorize(PREVIOUS, 'orders:write');

    // Assess
    expect(read).toEqual({ match: 'current', allowed: true, reason: 'granted' });
    expect(write).toEqual({ match: 'current', allowed: false, reason: 'scope-not-granted' });
    expect(previousWrite).toEqual({ match: 'previous', allowed: true, reason: 'granted' });
  });

  it('lets a declared wildcard cover a scope, and nothing else', async () => {
    const { verifier, stages } = fixture();
    stages.AWSCURRENT!.value = scoped(CURRENT, ['orders:*']);

    expect((await verifier.authorize(CURRENT, 'orders:refund')).allowed).toBe(true);
    expect((await verifier.authorize(CURRENT, 'billing:read')).allowed).toBe(false);
  });

  it('grants nothing to an unknown token, and nothing through a malformed scopes field', async () => {
    // Prepare
    const { verifier, stages } = fixture();
    stages.AWSCURRENT!.value = scoped(CURRENT, 'orders:read');

    // Act
    const malformed = await verifier.authorize(CURRENT, 'orders:read');
    const unknown = await verifier.authorize('tr_live_unknown_token', 'orders:read');

    // Assess
    expect(malformed).toEqual({ match: 'current', allowed: false, reason: 'scope-not-granted' });
    expect(unknown).toEqual({ match: 'invalid', allowed: false, reason: 'invalid-token' });
  });

  it('says a value without a scopes field is unscoped: it grants what its token does', async () => {
    const { verifier } = fixture();

    expect(await verifier.authorize(CURRENT, 'orders:read')).toEqual({
      match: 'current',
      allowed: true,
      reason: 'unscoped',
    });
  });
});
