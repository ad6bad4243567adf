import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  DEFAULT_GRACE_MS,
  displayValue,
  formatAge,
  HOUR_MS,
  MAX_LIFESPAN_MS,
  MINUTE_MS,
  type PolicyResult,
  parsePolicy,
  policyFingerprint,
} from '#domain/policy';
import { TAG } from '#domain/vocabulary';

const secret = (tags: Record<string, string>) => ({
  arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-AbCdEf',
  name: 'api',
  tags,
});
const parse = (tags: Record<string, string>) => parsePolicy(secret(tags));
/** Under the highest ceiling a stack may set, to test the grammar's own bounds. */
const YEAR = { maxLifespanMs: MAX_LIFESPAN_MS };
const parseUnderYear = (tags: Record<string, string>) => parsePolicy(secret(tags), YEAR);

function valid(result: PolicyResult) {
  if (!result.ok) throw new Error(`expected a valid policy, got ${JSON.stringify(result)}`);
  return result.policy;
}
function problems(result: PolicyResult) {
  if (result.ok || result.optedOut)
    throw new Error(`expected problems, got ${JSON.stringify(result)}`);
  return result.problems;
}

describe('policy tags', () => {
  it('treats a secret without the lifespan tag as not opted in', () => {
    // Prepare / Act
    const result = parse({ [TAG.kind]: 'random', [TAG.grace]: '1h' });
    // Assess
    expect(result).toEqual({ ok: false, optedOut: true });
  });

  it.each([
    ['4h', 4 * HOUR_MS],
    ['5h', 5 * HOUR_MS],
    ['36h', 36 * HOUR_MS],
    ['1d', DAY_MS],
    ['7d', 7 * DAY_MS],
    ['8760h', 365 * DAY_MS],
    ['365d', 365 * DAY_MS],
  ])('accepts lifespan %s under a stack ceiling of 365d', (value, expected) => {
    const policy = valid(parseUnderYear({ [TAG.lifespan]: value }));
    expect(policy.lifespanMs).toBe(expected);
  });

  it('defaults grace to 2h and kind to random', () => {
    const policy = valid(parse({ [TAG.lifespan]: '7d' }));
    expect(policy.graceMs).toBe(DEFAULT_GRACE_MS);
    expect(policy.graceMs).toBe(2 * HOUR_MS);
    expect(policy.kind).toBe('random');
    expect(policy.revokeReason).toBeUndefined();
  });

  it.each([
    ['0m', '4h', 0],
    ['1m', '4h', MINUTE_MS],
    ['2h', '4h', 2 * HOUR_MS],
    ['120m', '4h', 2 * HOUR_MS],
    ['84h', '7d', 84 * HOUR_MS],
    ['3d', '7d', 3 * DAY_MS],
    ['182d', '365d', 182 * DAY_MS],
    ['4380h', '365d', 182.5 * DAY_MS],
  ])('accepts grace %s with lifespan %s (up to exactly half)', (grace, lifespan, expected) => {
    const policy = valid(parseUnderYear({ [TAG.lifespan]: lifespan, [TAG.grace]: grace }));
    expect(policy.graceMs).toBe(expected);
  });

  it.each([
    'random',
    'iam-access-key',
    'lambda:my-issuer',
    'lambda:my_issuer:live',
    'lambda:my-issuer:$LATEST',
    'lambda:111122223333:function:my-issuer',
    'lambda:arn:aws:lambda:eu-west-1:111122223333:function:my-issuer',
    'lambda:arn:aws:lambda:eu-west-1:111122223333:function:my-issuer:7',
    'lambda:arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:issuer',
    'lambda:arn:aws-cn:lambda:cn-north-1:111122223333:function:issuer',
  ])('accepts kind %s', (kind) => {
    const policy = valid(parse({ [TAG.lifespan]: '7d', [TAG.kind]: kind }));
    expect(policy.kind).toBe(kind);
    if (kind.startsWith('lambda:'))
      expect(policy.issuerFunction).toBe(kind.slice('lambda:'.length));
    else expect(policy.issuerFunction).toBeUndefined();
  });

  it('carries the revoke reason, cleaned for display', () => {
    const policy = valid(
      parse({ [TAG.lifespan]: '7d', [TAG.revoke]: 'leaked in\u0000 a \u202eticket\n' }),
    );
    expect(policy.revokeReason).toBe('leaked in a ticket');
  });

  it.each([
    ['banana', 'not a number followed by a unit'],
    ['', 'empty'],
    ['7', 'not a number followed by a unit'],
    ['d7', 'not a number followed by a unit'],
    ['7D', 'units are lower case'],
    ['7H', 'units are lower case'],
    ['7 d', 'contains spaces'],
    [' 7d', 'contains spaces'],
    ['7d ', 'contains spaces'],
    ['+7d', 'has a sign'],
    ['-7d', 'has a sign'],
    ['07d', 'leading zero'],
    ['1.5d', 'not a whole number'],
    ['7days', 'unknown unit "days"'],
    ['240m', 'unknown unit "m"'],
    ['7w', 'unknown unit "w"'],
    ['0h', 'shorter than 4h'],
    ['3h', 'shorter than 4h'],
    ['366d', "longer than the stack's maxLifespan (365d)"],
    ['8761h', "longer than the stack's maxLifespan (365d)"],
    ['9999999999d', 'too large'],
  ])('fails lifespan %j: %s', (value, why) => {
    const [problem, ...rest] = problems(parseUnderYear({ [TAG.lifespan]: value }));
    expect(rest).toEqual([]);
    expect(problem?.tag).toBe(TAG.lifespan);
    expect(problem?.found).toBe(value);
    expect(problem?.allowed).toBe('<n>h or <n>d, from 4h to 365d (e.g. 7d)');
    expect(problem?.message).toContain(`${TAG.lifespan} is "${value}": ${why}`);
    expect(problem?.message).toContain('allowed: <n>h or <n>d, from 4h to 365d');
  });

  it.each([
    ['0h', '7d', 'zero is written 0m'],
    ['0d', '7d', 'zero is written 0m'],
    ['00m', '7d', 'leading zero'],
    ['02h', '7d', 'leading zero'],
    ['2H', '7d', 'units are lower case'],
    ['-1m', '7d', 'has a sign'],
    ['2', '7d', 'not a number followed by a unit'],
    ['', '7d', 'empty'],
    ['2s', '7d', 'unknown unit "s"'],
    ['121m', '4h', 'longer than half the lifespan (2h)'],
    ['3h', '5h', 'longer than half the lifespan (150m)'],
    ['85h', '7d', 'longer than half the lifespan (84h)'],
    ['4d', '7d', 'longer than half the lifespan (84h)'],
  ])('fails grace %j with lifespan %s: %s', (grace, lifespan, why) => {
    const [problem, ...rest] = problems(parse({ [TAG.lifespan]: lifespan, [TAG.grace]: grace }));
    expect(rest).toEqual([]);
    expect(problem?.tag).toBe(TAG.grace);
    expect(problem?.found).toBe(grace);
    expect(problem?.message).toContain(`${TAG.grace} is "${grace}": ${why}`);
    expect(problem?.message).toContain('allowed: <n>m, <n>h or <n>d, from 0m to half the lifespan');
  });

  it.each([
    ['banana', 'unknown kind'],
    ['', 'empty'],
    ['Random', 'kind names are lower case'],
    ['IAM-ACCESS-KEY', 'kind names are lower case'],
    ['lambda:', 'no function named after lambda:'],
    ['lambda:my issuer', 'not a Lambda function name or ARN'],
    ['lambda:arn:aws:s3:::bucket', 'not a Lambda function name or ARN'],
    ['lambda:arn:aws:lambda:eu-west-1:1111:function:x', 'not a Lambda function name or ARN'],
    [`lambda:${'f'.repeat(65)}`, 'not a Lambda function name or ARN'],
    ['lambda:fn:a:b', 'not a Lambda function name or ARN'],
  ])('fails kind %j: %s', (kind, why) => {
    const [problem, ...rest] = problems(parse({ [TAG.lifespan]: '7d', [TAG.kind]: kind }));
    expect(rest).toEqual([]);
    expect(problem?.tag).toBe(TAG.kind);
    expect(problem?.message).toContain(
      `: ${why}; allowed: random, iam-access-key or lambda:<function name or ARN>`,
    );
  });

  it('reports every bad tag at once, checking grace against the widest lifespan when the lifespan is bad', () => {
    const found = problems(
      parse({ [TAG.lifespan]: 'banana', [TAG.grace]: '20d', [TAG.kind]: 'nope' }),
    );
    expect(found.map((p) => p.tag)).toEqual([TAG.lifespan, TAG.grace, TAG.kind]);
    expect(found[1]?.message).toContain("longer than half of the stack's maxLifespan (30d)");
  });

  it('shows a bad value without control characters and capped in length', () => {
    const value = `7d\u0007\r\n\u202e${'x'.repeat(200)}`;
    const [problem] = problems(parse({ [TAG.lifespan]: value }));
    expect(problem?.found).toBe(`7d${'x'.repeat(62)}…`);
    const hidden = [...(problem?.message ?? '')].filter(
      (c) => c.charCodeAt(0) < 32 || c === '\u202e',
    );
    expect(hidden).toEqual([]);
    expect(displayValue('a\u200bb\u2028c')).toBe('abc');
  });

  it('fingerprints the raw policy values: same values same print, any change a new one', () => {
    const base = { [TAG.lifespan]: 'banana', [TAG.grace]: '1h' };
    const print = policyFingerprint(base);
    expect(policyFingerprint({ ...base, unrelated: 'x', [TAG.revoke]: 'why' })).toBe(print);
    expect(policyFingerprint({ ...base, [TAG.lifespan]: 'bananas' })).not.toBe(print);
    expect(policyFingerprint({ ...base, [TAG.kind]: '' })).not.toBe(print);
    expect(policyFingerprint({ [TAG.lifespan]: 'banana' })).not.toBe(print);
    expect(print).toMatch(/^[0-9a-f]{16}$/);
    const result = parse(base);
    expect(!result.ok && !result.optedOut && result.fingerprint).toBe(print);
  });
});

describe('the lifespan ceiling (maxLifespan)', () => {
  it('refuses a 45d lifespan under the default ceiling of 30d, naming the ceiling', () => {
    // Act
    const [problem, ...rest] = problems(parse({ [TAG.lifespan]: '45d' }));
    // Assess
    expect(rest).toEqual([]);
    expect(problem?.message).toBe(
      `${TAG.lifespan} is "45d": longer than the stack's maxLifespan (30d); allowed: <n>h or <n>d, from 4h to 30d (e.g. 7d)`,
    );
  });

  it('accepts 30d and 720h, exactly the default ceiling', () => {
    expect(valid(parse({ [TAG.lifespan]: '30d' })).lifespanMs).toBe(30 * DAY_MS);
    expect(valid(parse({ [TAG.lifespan]: '720h' })).lifespanMs).toBe(30 * DAY_MS);
    expect(problems(parse({ [TAG.lifespan]: '721h' }))[0]?.tag).toBe(TAG.lifespan);
  });

  it('accepts a 45d lifespan when the stack raises the ceiling to 60d', () => {
    const policy = valid(
      parsePolicy(secret({ [TAG.lifespan]: '45d' }), { maxLifespanMs: 60 * DAY_MS }),
    );
    expect(policy.lifespanMs).toBe(45 * DAY_MS);
  });
});

describe('declared scopes (token-rotation:scopes)', () => {
  it('leaves scopes undefined when the tag is absent', () => {
    expect(valid(parse({ [TAG.lifespan]: '7d' })).scopes).toBeUndefined();
  });

  it.each([
    ['repo', ['repo']],
    ['s3:GetObject sqs:*', ['s3:GetObject', 'sqs:*']],
    ['read:org write:packages', ['read:org', 'write:packages']],
    [
      'https://www.googleapis.com/auth/drive.readonly',
      ['https://www.googleapis.com/auth/drive.readonly'],
    ],
  ])('accepts %j', (value, expected) => {
    const policy = valid(parse({ [TAG.lifespan]: '7d', [TAG.scopes]: value }));
    expect(policy.scopes).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    [' repo', 'leading or trailing space'],
    ['repo ', 'leading or trailing space'],
    ['repo  gist', 'two spaces in a row'],
    ['repo,gist', '"repo,gist" is not a scope name'],
    ['repo "gist"', '""gist"" is not a scope name'],
    ['repo	gist', 'is not a scope name'],
    ['repo gist repo', '"repo" is listed twice'],
    [Array.from({ length: 51 }, (_, i) => `s${i}`).join(' '), 'more than 50 scopes'],
  ])('fails scopes %j: %s', (value, why) => {
    const [problem, ...rest] = problems(parse({ [TAG.lifespan]: '7d', [TAG.scopes]: value }));
    expect(rest).toEqual([]);
    expect(problem?.tag).toBe(TAG.scopes);
    expect(problem?.message).toContain(why);
    expect(problem?.allowed).toContain('one space apart');
  });

  it('fingerprints the scopes tag, and keeps the old fingerprint of a secret without one', () => {
    const base = { [TAG.lifespan]: '7d' };
    const print = policyFingerprint(base);
    expect(policyFingerprint({ ...base, [TAG.scopes]: 'a,b' })).not.toBe(print);
    expect(policyFingerprint({ ...base, [TAG.scopes]: 'a,b' })).not.toBe(
      policyFingerprint({ ...base, [TAG.scopes]: 'a;b' }),
    );
    // The fingerprint before scopes existed: sha256 of the three raw values, 16 hex characters.
    expect(print).toBe(
      createHash('sha256')
        .update(JSON.stringify(['7d', null, null]))
        .digest('hex')
        .slice(0, 16),
    );
  });
});

describe('ages in alerts', () => {
  it('reads as days and hours, hours and minutes, or minutes', () => {
    expect(formatAge(35 * DAY_MS + 2 * HOUR_MS + 59 * MINUTE_MS)).toBe('35d 2h');
    expect(formatAge(5 * HOUR_MS + 12 * MINUTE_MS)).toBe('5h 12m');
    expect(formatAge(40 * MINUTE_MS + 30_000)).toBe('40m');
  });
});
