// The hash chain that makes one secret's audit trail tamper-evident: a canonical form of a
// record, its hash, and `verifyChain`, which says what was edited, deleted, inserted or moved.
//
// What a plain SHA-256 chain can and cannot promise. Each record commits to its own contents
// and to its predecessor's hash, so editing, deleting, inserting or reordering any record that
// has a successor breaks the chain where it happened. It cannot detect:
//   - truncation: deleting the newest records leaves a shorter chain that still verifies;
//   - a rewriter: anyone who can write the table can recompute every hash from the genesis on
//     and produce a different chain that verifies, since SHA-256 needs no key.
// Both need something outside the writer's reach. An external anchor (the head's seq and hash
// published periodically to somewhere append-only: CloudWatch Logs with a retention lock, an
// S3 Object Lock bucket, another account) catches truncation and rewrites up to the last
// anchor. An HMAC keyed by a KMS key (GenerateMac) that only the suite's writer role may use
// stops a table writer from forging hashes at all. The anchor is built (audit-anchor.ts: S3
// Object Lock checkpoints); the HMAC is not, and the table's IAM stands in for it.

import { createHash } from 'node:crypto';
import type { AuditRecord } from './ports.ts';

/**
 * Set by a storage adapter on a record it read whose index attributes (stored beside the record,
 * outside the hash: DynamoDB's `day`) disagree with the hashed fields they derive from. Editing
 * one hides the record from time-range queries and evidence while its hash still holds, so
 * verifyChain reports it as an edit. A symbol: never stored, never hashed, never forgeable.
 */
export const INDEX_MISMATCH: unique symbol = Symbol('token-rotation.audit.indexMismatch');

/** A record as read back, possibly marked by its adapter (see INDEX_MISMATCH). */
export type ReadRecord = AuditRecord & { [INDEX_MISMATCH]?: string };

/** prevHash of the first record of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Versions the canonical form, so a later format can coexist with records hashed under this one. */
const HASH_DOMAIN = 'token-rotation/audit-record/v1\n';

/**
 * A record without its hash, as one string that does not depend on attribute order (DynamoDB
 * returns map attributes in no particular order) or on absent optional fields. Every field but
 * `hash` is covered, so fields added to AuditEntry later are covered too.
 */
export function canonicalRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = record;
  return canonicalJson(rest);
}

export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  return createHash('sha256')
    .update(HASH_DOMAIN + canonicalRecord(record), 'utf8')
    .digest('hex');
}

/** JSON with object keys sorted at every depth and undefined members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const members = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map(
      (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
    );
  return `{${members.join(',')}}`;
}

/** One place where the chain does not hold, in the words a reviewer needs. */
export type ChainBreak =
  | { kind: 'edited'; seq: number; expectedHash: string; foundHash: string; message: string }
  /** `missing` when the numbering shows which records are gone; absent when only the link broke. */
  | { kind: 'deleted'; seq: number; missing?: { from: number; to: number }; message: string }
  | { kind: 'inserted'; seq: number; message: string }
  | { kind: 'reordered'; seq: number; message: string };

export interface ChainReport {
  secretArn: string;
  /** True when every record verified and every link held. */
  ok: boolean;
  /** Records read. */
  total: number;
  /** Records whose own hash and whose link to their predecessor both hold. */
  verified: number;
  breaks: ChainBreak[];
  /** The newest record's place, to compare with an external anchor (see the header comment). */
  head?: { seq: number; hash: string };
}

/**
 * Checks one secret's records, given in chain order (ascending seq, as the table returns them).
 * Never throws on bad data: every problem becomes a break in the report.
 */
export function verifyChain(secretArn: string, records: readonly AuditRecord[]): ChainReport {
  const breaks: ChainBreak[] = [];
  const seen = new Set<number>();
  let verified = 0;
  let prev: AuditRecord | undefined;

  for (const record of records) {
    const seq = typeof record.seq === 'number' ? record.seq : Number.NaN;
    let intact = true;

    const expectedHash = hashRecord(record);
    const edited = (how: string) => {
      intact = false;
      breaks.push({
        kind: 'edited',
        seq,
        expectedHash,
        foundHash: String(record.hash),
        message: `record ${seq} was changed after it was written: ${how}`,
      });
    };
    if (expectedHash !== record.hash) {
      edited(
        `its contents hash to ${short(expectedHash)}, the record says ${short(String(record.hash))}`,
      );
    }
    const misindexed = (record as ReadRecord)[INDEX_MISMATCH];
    if (typeof misindexed === 'string') edited(misindexed);
    if (record.secretArn !== secretArn) {
      intact = false;
      breaks.push({
        kind: 'inserted',
        seq,
        message: `record ${seq} belongs to ${record.secretArn}, not to this secret's chain`,
      });
    }

    const link = checkLink(prev, record, seq, seen);
    if (link) {
      intact = false;
      breaks.push(link);
    }

    if (intact) verified += 1;
    if (Number.isFinite(seq)) seen.add(seq);
    // A record that went backwards stays out of the sequence, so one moved record is one break.
    if (!prev || !(seq <= prev.seq)) prev = record;
  }

  const last = records.at(-1);
  return {
    secretArn,
    ok: breaks.length === 0,
    total: records.length,
    verified,
    breaks,
    ...(last ? { head: { seq: last.seq, hash: last.hash } } : {}),
  };
}

function checkLink(
  prev: AuditRecord | undefined,
  record: AuditRecord,
  seq: number,
  seen: ReadonlySet<number>,
): ChainBreak | undefined {
  const expectedSeq = prev ? prev.seq + 1 : 1;
  const expectedPrevHash = prev ? prev.hash : GENESIS_HASH;
  const after = prev ? `record ${prev.seq}` : 'the start of the chain';

  if (!Number.isInteger(seq) || seq < 1) {
    return {
      kind: 'inserted',
      seq,
      message: `a record with sequence "${String(record.seq)}" is not one of ours`,
    };
  }
  if (seen.has(seq)) {
    return {
      kind: 'inserted',
      seq,
      message: `a second record numbered ${seq} was added to the chain`,
    };
  }
  if (prev && seq < prev.seq) {
    return {
      kind: 'reordered',
      seq,
      message: `record ${seq} appears after ${after}: records were moved`,
    };
  }
  if (seq > expectedSeq) {
    return {
      kind: 'deleted',
      seq,
      missing: { from: expectedSeq, to: seq - 1 },
      message:
        seq - 1 === expectedSeq
          ? `record ${expectedSeq} is missing: ${after} is followed by record ${seq}`
          : `records ${expectedSeq} to ${seq - 1} are missing: ${after} is followed by record ${seq}`,
    };
  }
  if (record.prevHash !== expectedPrevHash) {
    // Consecutive numbers that do not link: the predecessor was replaced with a recomputed hash,
    // or records were deleted and the rest renumbered.
    return {
      kind: 'deleted',
      seq,
      message: `record ${seq} does not follow ${after}: it names a predecessor with hash ${short(String(record.prevHash))}, found ${short(expectedPrevHash)}; a record was deleted or replaced here`,
    };
  }
  return undefined;
}

const short = (hash: string) => (hash.length > 12 ? `${hash.slice(0, 12)}…` : hash);
