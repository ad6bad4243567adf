import { describe, expect, it } from 'vitest';
import { readReportedScopes, scopeCovers, scopeDrift } from '#domain/scopes';

describe('IAM action matching', () => {
  it.each([
    ['s3:*', 's3:GetObject', true],
    ['*', 'iam:CreateUser', true],
    ['s3:GetObject', 's3:getobject', true],
    ['s3:Get*', 's3:GetObjectAcl', true],
    ['s3:Get?bject', 's3:GetObject', true],
    ['s3:GetObject', 's3:PutObject', false],
    ['s3:GetObject', 's3:*', false],
    ['s3:Get*', 's3:*', false],
    ['s3:Get?bject', 's3:Get*', false],
    ['s3:*', 's3:Get*', true],
    ['*', '*', true],
    ['s3:GetObject', '*', false],
    ['sqs:*', 's3:GetObject', false],
  ])('declared %s covers actual %s: %s', (declared, actual, covered) => {
    expect(scopeCovers(declared, actual, 'iam-actions')).toBe(covered);
  });

  it('names the extra actions, critical when one is a wildcard', () => {
    // Act
    const narrow = scopeDrift(['s3:GetObject'], ['s3:GetObject'], 'iam-actions');
    const broad = scopeDrift(['s3:GetObject'], ['s3:GetObject', '*'], 'iam-actions');
    const wider = scopeDrift(['s3:GetObject'], ['s3:PutObject'], 'iam-actions');

    // Assess
    expect(narrow).toBeUndefined();
    expect(broad).toMatchObject({ extra: ['*'], wildcard: true });
    expect(wider).toMatchObject({ extra: ['s3:PutObject'], wildcard: false });
    expect(broad?.incident).not.toBe(wider?.incident);
  });
});

describe('exact scope matching', () => {
  it('is case-sensitive, and a declared * covers a suffix', () => {
    expect(scopeCovers('read', 'Read', 'exact')).toBe(false);
    expect(scopeCovers('read:*', 'read:org', 'exact')).toBe(true);
    expect(scopeDrift(['read'], ['read', 'admin'], 'exact')?.extra).toEqual(['admin']);
    expect(scopeDrift(['read', 'write'], ['read'], 'exact')).toBeUndefined();
  });
});

describe("an issuer's reported scopes (untrusted)", () => {
  it('accepts an array of scope names and refuses anything else without quoting it', () => {
    const canary = 'saas_live_ReportedScopeCanary0123456789';
    expect(readReportedScopes(['read', 'read', 'write'])).toEqual({
      ok: true,
      scopes: ['read', 'write'],
    });
    for (const bad of ['read write', { read: true }, [`${canary} x`], [42], null]) {
      const read = readReportedScopes(bad);
      expect(read.ok).toBe(false);
      expect(JSON.stringify(read)).not.toContain(canary);
    }
  });
});
