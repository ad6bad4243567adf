// A finding's liveness, judged from its secret as read back now: staged is live, unstaged is
// revoked only where that is proven (the kind revokes by unstaging, or the revoke is recorded).
import { describe, expect, it } from 'vitest';
import { indexedToken } from '#adapters/dynamodb-token-index';
import type { IndexedToken } from '#domain/keyed-fingerprint';
import type { SecretDescription } from '#domain/ports';
import { TAG } from '#domain/vocabulary';
import { judge } from '../../../cli/scan/lookup.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf';
const indexed = (over: Partial<IndexedToken> = {}): IndexedToken => ({
  fingerprint: `hfp1:${'A'.repeat(43)}`,
  secretArn: ARN,
  secretName: 'app/key',
  versionId: 'v-old',
  stages: ['AWSCURRENT'],
  firstSeen: '2026-01-01T00:00:00Z',
  lastSeen: '2026-01-02T00:00:00Z',
  ...over,
});
const secret = (versions: Record<string, string[]>, kind?: string): SecretDescription => ({
  arn: ARN,
  name: 'app/key',
  rotationEnabled: true,
  versions,
  tags: kind ? { [TAG.kind]: kind } : {},
});

describe('judge', () => {
  it('is live while the version is AWSCURRENT, AWSPENDING or AWSPREVIOUS (in grace), as read back', () => {
    expect(judge(indexed(), secret({ 'v-old': ['AWSCURRENT'] }))).toMatchObject({
      status: 'live',
      why: 'the version is AWSCURRENT',
    });
    expect(judge(indexed(), secret({ 'v-old': ['AWSPENDING'] })).status).toBe('live');
    expect(
      judge(indexed({ revokedAt: '2026-01-03T00:00:00Z' }), secret({ 'v-old': ['AWSPREVIOUS'] })),
    ).toMatchObject({
      status: 'live',
      why: 'the version is AWSPREVIOUS (previous token, in grace)',
    });
  });

  it('is revoked when a random token is no longer staged, whatever the index last saw', () => {
    expect(
      judge(indexed({ stages: ['AWSCURRENT'] }), secret({ 'v-new': ['AWSCURRENT'] })),
    ).toMatchObject({
      status: 'revoked',
    });
  });

  it('is revoked for another kind only when the index records the revoke at its issuer', () => {
    const now = secret({ 'v-new': ['AWSCURRENT'] }, 'iam-access-key');
    expect(judge(indexed(), now).status).toBe('unknown');
    expect(judge(indexed({ revokedAt: '2026-01-03T00:00:00Z' }), now)).toMatchObject({
      status: 'revoked',
      why: 'revoked at its issuer 2026-01-03T00:00:00Z; no longer staged',
    });
  });

  it('is unknown when the secret cannot be read back', () => {
    const gone = Object.assign(new Error('no such secret'), { name: 'ResourceNotFoundException' });
    expect(judge(indexed(), gone).status).toBe('unknown');
    expect(judge(indexed(), new Error('AccessDeniedException: no')).status).toBe('unknown');
  });
});

// The scanner reads index items with the index adapter's own reader.
describe('indexedToken', () => {
  it('reads stages stored as a list or a string set, and refuses items without the key fields', () => {
    const base = {
      fingerprint: 'hfp1:x',
      secretArn: ARN,
      versionId: 'v1',
      secretName: 'app/key',
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-02T00:00:00.000Z',
    };
    expect(indexedToken({ ...base, stages: ['AWSCURRENT'] })?.stages).toEqual(['AWSCURRENT']);
    expect(indexedToken({ ...base, stages: new Set(['AWSPREVIOUS']) })?.stages).toEqual([
      'AWSPREVIOUS',
    ]);
    expect(indexedToken({ fingerprint: 'hfp1:x', secretArn: ARN })).toBeUndefined();
  });
});
