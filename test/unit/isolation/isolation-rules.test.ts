// The isolation rules that need no AWS: which copy of a shared token is the less trusted, the
// environment and isolation tags, and the fingerprint key read once per container.
import { describe, expect, it } from 'vitest';
import { fingerprintKeySource } from '#domain/isolation/key';
import {
  copiesToRotate,
  DEFAULT_ENVIRONMENT_ORDER,
  parseEnvironmentOrder,
} from '#domain/isolation/ranks';
import { parsePolicy, policyFingerprint } from '#domain/policy';
import { TAG } from '#domain/vocabulary';

const order = DEFAULT_ENVIRONMENT_ORDER;

describe('copiesToRotate', () => {
  it('rotates the copy in the lower-ranked environment (ci < dev < staging < prod by default)', () => {
    expect(copiesToRotate('staging', 'prod', order)).toBe('first');
    expect(copiesToRotate('prod', 'ci', order)).toBe('second');
  });

  it('rotates both when the ranks are equal or either is unknown or untagged', () => {
    expect(copiesToRotate('prod', 'prod', order)).toBe('both');
    expect(copiesToRotate('prod', 'qa', order)).toBe('both');
    expect(copiesToRotate(undefined, 'ci', order)).toBe('both');
  });

  it('follows the stack order when given', () => {
    expect(copiesToRotate('prod', 'qa', parseEnvironmentOrder('qa,prod'))).toBe('second');
  });

  it('fails on an order with a repeated or malformed name, saying what is expected', () => {
    expect(() => parseEnvironmentOrder('ci,ci')).toThrow(/distinct environment names/);
    expect(() => parseEnvironmentOrder('ci,Prod')).toThrow(/least trusted first/);
  });
});

describe('the environment and isolation tags', () => {
  const tags = (extra: Record<string, string>) => ({ [TAG.lifespan]: '7d', ...extra });

  it('reads an environment and isolation=enforce into the policy', () => {
    const result = parsePolicy({
      tags: tags({ [TAG.environment]: 'staging', [TAG.isolation]: 'enforce' }),
    });
    expect(result).toMatchObject({
      ok: true,
      policy: { environment: 'staging', isolation: 'enforce' },
    });
  });

  it.each([
    [TAG.environment, 'Prod', 'not lower case'],
    [TAG.environment, '', 'empty'],
    [TAG.environment, 'prod eu', 'not an environment name'],
    [TAG.environment, 'x'.repeat(33), 'longer than 32 characters'],
    [TAG.isolation, 'on', 'not a known mode'],
  ])('refuses %s=%j as an invalid policy with what is allowed', (tag, value, why) => {
    const result = parsePolicy({ tags: tags({ [tag]: value }) });
    expect(result.ok).toBe(false);
    const problem = !result.ok && 'problems' in result ? result.problems[0] : undefined;
    expect(problem?.tag).toBe(tag);
    expect(problem?.message).toContain(why);
    expect(problem?.message).toContain('allowed: ');
  });

  it('keeps the policy fingerprint of a secret without the new tags, and changes it with them', () => {
    const before = policyFingerprint({ [TAG.lifespan]: '7d' });
    expect(policyFingerprint({ [TAG.lifespan]: '7d' })).toBe(before);
    expect(policyFingerprint({ [TAG.lifespan]: '7d', [TAG.environment]: 'Prod' })).not.toBe(before);
  });
});

describe('the fingerprint key source', () => {
  it('reads the key once per container, and a failure again only after retry, never quoting the key', async () => {
    let reads = 0;
    let fail = true;
    const source = fingerprintKeySource(async () => {
      reads++;
      if (fail)
        throw Object.assign(new Error('denied for k3y-material'), {
          name: 'AccessDeniedException',
        });
      return 'k'.repeat(64);
    });
    const first = await source.get();
    expect(first).toEqual({
      error: 'the fingerprint key could not be read (AccessDeniedException)',
    });
    await source.get();
    expect(reads).toBe(1);
    fail = false;
    source.retry();
    expect(await source.get()).toEqual({ key: 'k'.repeat(64) });
    source.retry();
    await source.get();
    expect(reads).toBe(2);
  });

  it('refuses a key shorter than 32 characters without quoting it', async () => {
    const got = await fingerprintKeySource(async () => 'short-key').get();
    expect(got).toEqual({
      error: expect.stringContaining('is 9 characters; at least 32 expected'),
    });
    expect(JSON.stringify(got)).not.toContain('short-key');
  });
});
