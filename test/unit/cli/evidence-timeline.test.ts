// The HTML evidence's reading of the audit trail: each token version's life from the records in
// the range and the labels read back now, and the compliance figures against the policy.
import { describe, expect, it } from 'vitest';
import type { AuditRecord, SecretDescription } from '#domain/ports';
import { TAG } from '#domain/vocabulary';
import { secretTimeline } from '../../../cli/evidence-timeline.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-05-01T00:00:00Z');
const at = (hours: number) => new Date(T0 + hours * H).toISOString();
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf';

const finish = (hours: number, current: string, previous: string): AuditRecord =>
  ({
    secretArn: ARN,
    secretName: 'app/key',
    event: 'step.succeeded',
    step: 'finishSecret',
    outcome: 'succeeded',
    versions: { current, previous },
    at: at(hours),
    trigger: { source: 'secretsmanager' },
    seq: 1,
    prevHash: '',
    hash: '',
  }) as AuditRecord;

const secret = (
  kind: string | undefined,
  versions: Record<string, string[]>,
): SecretDescription => ({
  arn: ARN,
  name: 'app/key',
  rotationEnabled: true,
  versions,
  tags: { [TAG.lifespan]: '1d', [TAG.grace]: '2h', ...(kind ? { [TAG.kind]: kind } : {}) },
  createdDate: new Date(T0),
});

const range = (hours: number) => ({ from: new Date(T0 - 24 * H), to: new Date(T0 + hours * H) });

describe('the evidence timeline of one secret', () => {
  it('counts a random token revoked when its labels went, at the next rotation', () => {
    // Prepare: v1 → v2 at 10h, v2 → v3 at 20h; v3 current, v2 previous now
    const records = [finish(10, 'v2', 'v1'), finish(20, 'v3', 'v2')];
    const s = secret(undefined, { v1: [], v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'] });

    // Act
    const { spans, compliance } = secretTimeline(records, s, range(21));

    // Assess
    const by = Object.fromEntries(spans.map((x) => [x.versionId, x]));
    expect(by.v1).toMatchObject({
      state: 'revoked',
      revokedBy: 'labels gone',
      revokedAt: T0 + 20 * H,
    });
    expect(by.v1!.fromBeforeRange).toBe(false);
    expect(by.v2).toMatchObject({ state: 'in grace', replacedAt: T0 + 20 * H });
    expect(by.v3).toMatchObject({ state: 'live', from: T0 + 20 * H });
    expect(compliance.currentAgeMs).toBe(H);
    // v1 kept working 10h after it was replaced: over its 2h grace (plus the sweep's hour)
    expect(compliance.breaches).toEqual([
      'previous version v1 kept working 10h after it was replaced, over its grace of 2h',
    ]);
  });

  it('never counts an issuer token revoked because its labels went: it is unlabelled, still working', () => {
    const records = [finish(10, 'v2', 'v1'), finish(20, 'v3', 'v2')];
    const s = secret('iam-access-key', { v1: [], v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'] });

    const { spans, compliance } = secretTimeline(records, s, range(21));

    const v1 = spans.find((x) => x.versionId === 'v1')!;
    expect(v1.state).toBe('unlabelled');
    expect(v1.revokedAt).toBeUndefined();
    expect(compliance.breaches[0]).toBe(
      'previous version v1 has kept working 11h after it was replaced, over its grace of 2h',
    );
  });

  it('lists a token live past its lifespan, and its age as at least what the range shows', () => {
    const s = { ...secret(undefined, { v1: ['AWSCURRENT'] }), createdDate: new Date(T0 - 48 * H) };

    const { spans, compliance } = secretTimeline([], s, range(6));

    expect(spans[0]).toMatchObject({ versionId: 'v1', fromBeforeRange: true, state: 'live' });
    expect(compliance).toMatchObject({ currentAgeMs: 30 * H, currentAgeAtLeast: true });
    expect(compliance.breaches).toEqual([
      'version v1 was live at least 1d 6h, over its lifespan of 1d',
    ]);
  });

  it('draws and judges a previous token a label still keeps working, with no record in the range', () => {
    // Prepare: an IAM key rotated 48h ago (2h grace), AWSPREVIOUS still on it: the sweep kept failing
    const s = {
      ...secret('iam-access-key', { v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] }),
      createdDate: new Date(T0 - 30 * 24 * H),
      lastRotatedDate: new Date(T0 - 48 * H),
    };

    // Act: a range of one day, holding no record of it
    const { spans, compliance } = secretTimeline([], s, {
      from: new Date(T0 - 24 * H),
      to: new Date(T0),
    });

    // Assess
    const v1 = spans.find((x) => x.versionId === 'v1')!;
    expect(v1).toMatchObject({ state: 'in grace', replacedAtLeast: true });
    expect(compliance.breaches).toEqual([
      'previous version v1 has kept working at least 1d after it was replaced, over its grace of 2h',
    ]);
  });

  it('counts a grace extended only as far as the sweep recorded, and never for a still-used token revoked anyway', () => {
    const stillUsed = (hours: number, outcome: string, extendedUntil?: number): AuditRecord =>
      ({
        ...finish(hours, 'v2', 'v1'),
        event: 'previous.still-used',
        step: undefined,
        outcome,
        versions: { previous: 'v1' },
        detail: extendedUntil === undefined ? {} : { extendedUntil: at(extendedUntil) },
      }) as unknown as AuditRecord;
    const revokedAt = (hours: number): AuditRecord =>
      ({
        ...finish(hours, 'v2', 'v1'),
        event: 'previous.revoked',
        step: undefined,
        versions: { previous: 'v1' },
      }) as unknown as AuditRecord;
    const s = secret(undefined, { v2: ['AWSCURRENT'] });

    // Extended until 14h (replaced at 10h, 2h grace), revoked at 14h: on time
    const extended = secretTimeline(
      [finish(10, 'v2', 'v1'), stillUsed(12, 'skipped', 14), revokedAt(14)],
      s,
      range(15),
    );
    expect(extended.compliance.breaches).toEqual([]);
    // Reported (revoked anyway), no extension: 4h after replacement is over 2h grace + 1h
    const reported = secretTimeline(
      [finish(10, 'v2', 'v1'), stillUsed(12, 'reported'), revokedAt(14)],
      s,
      range(15),
    );
    expect(reported.compliance.breaches).toEqual([
      'previous version v1 kept working 4h after it was replaced, over its grace of 2h',
    ]);
  });

  it('does not draw or judge a quarantine notice as a token, and trusts a failed revoke for what it did revoke', () => {
    const revoke = (event: string, versions: Record<string, string>): AuditRecord =>
      ({ ...finish(12, 'x', 'y'), event, step: undefined, versions }) as unknown as AuditRecord;
    const s = secret(undefined, { q1: ['AWSCURRENT'], v2: [] });
    const records = [
      finish(10, 'v2', 'v1'),
      revoke('revoke.failed', { previous: 'v1', reissued: 'never' }),
      revoke('revoke.completed', { current: 'v2', quarantine: 'q1' }),
    ];

    const { spans, quarantineNotices, compliance } = secretTimeline(records, s, range(80));

    expect(quarantineNotices).toEqual(['q1']);
    expect(spans.map((x) => [x.versionId, x.state])).toEqual([
      ['v1', 'revoked'],
      ['v2', 'revoked'],
    ]);
    expect(compliance.notJudged).toBe('quarantined: AWSCURRENT holds a notice, no token');
    expect(compliance.currentAgeMs).toBeUndefined();
  });

  it('knows a notice put before the range by its version ID, with no revoke record to name it', () => {
    // A quarantine 90 days ago: the range holds no record of it, only the labels now.
    const notice = 'quarantine-0b6c6a52-6f0e-4f0e-9d55-4f8e2f0c1a11';
    const s = secret(undefined, { [notice]: ['AWSCURRENT'] });

    const { spans, quarantineNotices, compliance } = secretTimeline([], s, range(80));

    expect(quarantineNotices).toEqual([notice]);
    expect(spans).toEqual([]);
    expect(compliance.notJudged).toBe('quarantined: AWSCURRENT holds a notice, no token');
  });

  it('leaves a random token whose labels went at a time no record gives out of the grace judgement', () => {
    // v1 replaced at 10h, no later rotation recorded, and no label holds it now
    const s = secret(undefined, { v1: [], v2: ['AWSCURRENT'] });

    const { spans, compliance } = secretTimeline([finish(10, 'v2', 'v1')], s, range(30));

    expect(spans.find((x) => x.versionId === 'v1')).toMatchObject({
      state: 'revoked',
      revokedBy: 'labels gone, time unknown',
    });
    expect(compliance.longestGrace).toBeUndefined();
    expect(compliance.breaches).toEqual([]);
  });
});
