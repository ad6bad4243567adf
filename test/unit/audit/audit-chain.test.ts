import { describe, expect, it } from 'vitest';
import { canonicalRecord, GENESIS_HASH, hashRecord, verifyChain } from '#domain/audit-chain';
import type { AuditEntry, AuditRecord } from '#domain/ports';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/stripe-key-AbCdEf';

/** Builds a chain the way the audit log does: each record names its predecessor's hash. */
function chain(length: number, secretArn = ARN): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let seq = 1; seq <= length; seq++) {
    const entry: AuditEntry = {
      event: seq % 2 ? 'step.started' : 'step.succeeded',
      outcome: seq % 2 ? 'started' : 'succeeded',
      secretArn,
      secretName: 'prod/payments/stripe-key',
      step: 'createSecret',
      versions: { pending: `v-${seq}`, current: 'v-0' },
      trigger: { source: 'schedule' },
    };
    const unhashed = {
      ...entry,
      seq,
      at: new Date(Date.UTC(2025, 0, 1, 0, seq)).toISOString(),
      prevHash: records.at(-1)?.hash ?? GENESIS_HASH,
    };
    records.push({ ...unhashed, hash: hashRecord(unhashed) });
  }
  return records;
}

describe('audit hash chain', () => {
  it('hashes a record the same whatever order its attributes come back in', () => {
    // Prepare
    const [record] = chain(1) as [AuditRecord];
    const shuffled = Object.fromEntries(Object.entries(record).reverse()) as unknown as AuditRecord;
    shuffled.versions = { current: 'v-0', pending: 'v-1' };

    // Act
    const original = hashRecord(record);
    const reordered = hashRecord(shuffled);

    // Assess
    expect(reordered).toBe(original);
    expect(canonicalRecord(shuffled)).toBe(canonicalRecord(record));
  });

  it('covers every field but the hash, so any change to a field changes the hash', () => {
    // Prepare
    const [record] = chain(1) as [AuditRecord];
    const changes: Partial<AuditRecord>[] = [
      { outcome: 'failed' },
      { seq: 2 },
      { at: '2030-01-01T00:00:00.000Z' },
      { prevHash: 'f'.repeat(64) },
      { versions: { pending: 'v-9', current: 'v-0' } },
      { trigger: { source: 'console', principal: 'arn:aws:iam::123456789012:user/mallory' } },
      { detail: { reason: 'added later' } },
    ];

    // Act
    const hashes = changes.map((change) => hashRecord({ ...record, ...change }));

    // Assess
    for (const hash of hashes) expect(hash).not.toBe(record.hash);
    expect(hashRecord({ ...record, hash: 'anything' })).toBe(record.hash);
  });

  it('verifies an untouched chain and reports its head', () => {
    // Prepare
    const records = chain(5);

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report).toMatchObject({ ok: true, total: 5, verified: 5, breaks: [] });
    expect(report.head).toEqual({ seq: 5, hash: records[4]?.hash });
    expect(records[0]?.prevHash).toBe(GENESIS_HASH);
  });

  it('verifies a secret with no records as ok, with nothing verified and no head', () => {
    // Act
    const report = verifyChain(ARN, []);

    // Assess
    expect(report).toMatchObject({ ok: true, total: 0, verified: 0, breaks: [] });
    expect(report.head).toBeUndefined();
  });

  it('fails a chain with an edited record, naming that record', () => {
    // Prepare
    const records = chain(5);
    records[2] = { ...(records[2] as AuditRecord), outcome: 'failed' };

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report.ok).toBe(false);
    expect(report.verified).toBe(4);
    expect(report.breaks).toHaveLength(1);
    expect(report.breaks[0]).toMatchObject({ kind: 'edited', seq: 3 });
    expect(report.breaks[0]?.message).toContain('record 3 was changed');
  });

  it('fails a chain whose edited record had its hash recomputed, at the link to its successor', () => {
    // Prepare
    const records = chain(5);
    const { hash: _old, ...edited } = {
      ...(records[2] as AuditRecord),
      outcome: 'failed' as const,
    };
    records[2] = { ...edited, hash: hashRecord(edited) };

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report.ok).toBe(false);
    expect(report.breaks).toEqual([expect.objectContaining({ kind: 'deleted', seq: 4 })]);
    expect(report.breaks[0]?.message).toContain('deleted or replaced');
  });

  it('fails a chain with a deleted record, naming the missing sequence numbers', () => {
    // Prepare
    const records = chain(6);
    records.splice(2, 2); // seq 3 and 4

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report.ok).toBe(false);
    expect(report.breaks).toEqual([
      expect.objectContaining({ kind: 'deleted', seq: 5, missing: { from: 3, to: 4 } }),
    ]);
    expect(report.breaks[0]?.message).toContain('records 3 to 4 are missing');
    expect(report.verified).toBe(3);
  });

  it('fails a chain whose first record was deleted', () => {
    // Prepare
    const records = chain(3).slice(1);

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report.breaks).toEqual([
      expect.objectContaining({ kind: 'deleted', seq: 2, missing: { from: 1, to: 1 } }),
    ]);
  });

  it('fails a chain with a record inserted under an existing sequence number', () => {
    // Prepare
    const records = chain(4);
    const forged = {
      ...(records[1] as AuditRecord),
      outcome: 'succeeded' as const,
      detail: { forged: true },
    };
    const { hash: _h, ...unhashed } = forged;
    records.splice(2, 0, { ...unhashed, hash: hashRecord(unhashed) });

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report.ok).toBe(false);
    expect(report.breaks).toEqual([expect.objectContaining({ kind: 'inserted', seq: 2 })]);
    expect(report.total).toBe(5);
    expect(report.verified).toBe(4);
  });

  it("fails a chain holding another secret's record", () => {
    // Prepare
    const records = chain(3);
    const other = chain(4, `${ARN}-other`);
    records.push(other[3] as AuditRecord);

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report.breaks.map((b) => b.kind)).toContain('inserted');
    expect(report.breaks.some((b) => b.message.includes('belongs to'))).toBe(true);
  });

  it('fails a chain whose records were moved out of order', () => {
    // Prepare
    const records = chain(5);
    const [moved] = records.splice(1, 1); // seq 2 moved after seq 5
    records.push(moved as AuditRecord);

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report.ok).toBe(false);
    expect(report.breaks.map((b) => b.kind)).toEqual(['deleted', 'reordered']);
    expect(report.breaks[1]).toMatchObject({ seq: 2 });
  });

  it('cannot see the newest records cut off: truncation needs an external anchor', () => {
    // Prepare: documents the limit stated in audit-chain.ts, so nobody relies on more.
    const records = chain(5).slice(0, 3);

    // Act
    const report = verifyChain(ARN, records);

    // Assess
    expect(report.ok).toBe(true);
    expect(report.head?.seq).toBe(3);
  });
});
