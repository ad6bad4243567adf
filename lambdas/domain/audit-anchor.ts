// The anchored audit trail: checkpoints of every chain's head, written somewhere the table's
// writers cannot rewrite (an S3 bucket under Object Lock), and the checks that compare the
// chains and the checkpoints. A plain hash chain cannot tell that its newest records were cut
// off together with its HEAD item (audit-chain.ts); a checkpoint that recorded the head
// earlier can. Checkpoints are chained themselves, so a missing or replaced one shows too.
//
// What this still cannot see: records written after the last checkpoint can be cut, with their
// HEAD item, undetected until the next checkpoint is written (then the cut chain is checkpointed
// as it is, and the following check finds nothing missing). Checkpoint often, and alert on a
// regression the writer reports (writeCheckpoint's `regressions`).

import { createHash } from 'node:crypto';
import { type ChainBreak, canonicalJson, GENESIS_HASH } from './audit-chain.ts';
import type { AuditRecord, Clock } from './ports.ts';

/** One chain's head as a checkpoint recorded it. No secret value: an ARN, a number, a hash. */
export interface CheckpointHead {
  secretArn: string;
  seq: number;
  hash: string;
}

export interface Checkpoint {
  /** 1 for the first checkpoint, then one more each time. */
  seq: number;
  /** The hash of checkpoint `seq - 1` (64 zeros for the first). */
  previousHash: string;
  /** When the heads were read (ISO 8601). */
  at: string;
  /** Every chain head, by secret ARN. */
  heads: CheckpointHead[];
  /** SHA-256 of CHECKPOINT_HASH_DOMAIN and the canonical JSON of every other field. */
  hash: string;
}

/** Where a checkpoint lies, as the store read it back. */
export interface CheckpointRef {
  bucket: string;
  key: string;
  versionId: string;
  /** The Object Lock mode and retain-until date the store reports for this version. */
  lockMode?: string;
  retainUntil?: string;
}

/** A checkpoint object as read for verification: every version of its key considered. */
export interface StoredCheckpoint {
  ref: CheckpointRef;
  /** The parsed body of the key's first version, or undefined when it is not a checkpoint. */
  checkpoint?: Checkpoint;
  /** Why the body is not a checkpoint (not JSON, a field missing). */
  unreadable?: string;
  /** Versions of the key: more than one means someone wrote over it. */
  versions: number;
  /** A delete marker hides the key (its locked versions remain). */
  deleteMarker: boolean;
}

/** The port to the checkpoint bucket (s3-checkpoints.ts). */
export interface CheckpointStore {
  /**
   * The newest checkpoint, read back; undefined when none was written yet. `recentSince` is a
   * hint: look among the checkpoints written since then first (keys sort by time), and only
   * when there are none list them all.
   */
  latest(recentSince?: Date): Promise<{ checkpoint: Checkpoint; ref: CheckpointRef } | undefined>;
  /** Writes a new checkpoint object, locked until `retainUntil`; the ref is read back. */
  put(key: string, checkpoint: Checkpoint, retainUntil: Date): Promise<CheckpointRef>;
  /** Every checkpoint object in key order, each from its first (original) version. */
  list(): Promise<StoredCheckpoint[]>;
}

/** Reads every chain head (the audit table's HEAD items). */
/**
 * Reads the chain heads a checkpoint records. It is given the previous checkpoint, whose chains
 * must stay anchored (a chain cut to nothing shows only because the previous checkpoint had it).
 */
export type ChainHeadSource = (previous?: Checkpoint) => Promise<CheckpointHead[]>;

/** Versions the canonical form, as audit records' hashes are versioned. */
export const CHECKPOINT_HASH_DOMAIN = 'token-rotation/audit-checkpoint/v1\n';
export const CHECKPOINT_PREFIX = 'checkpoints/';
export const DEFAULT_RETENTION_DAYS = 400;

export function hashCheckpoint(checkpoint: Omit<Checkpoint, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = checkpoint;
  return createHash('sha256')
    .update(CHECKPOINT_HASH_DOMAIN + canonicalJson(rest), 'utf8')
    .digest('hex');
}

/** `checkpoints/<ISO time>-<seq, 12 digits>.json`: keys sort in the order they were written. */
export const checkpointKey = (at: Date, seq: number) =>
  `${CHECKPOINT_PREFIX}${at.toISOString()}-${String(seq).padStart(12, '0')}.json`;

export interface CheckpointDeps {
  heads: ChainHeadSource;
  store: CheckpointStore;
  clock: Clock;
  /** How long each checkpoint is locked (COMPLIANCE). Default 400 days. */
  retentionDays?: number;
}

/** A chain that is shorter now than the previous checkpoint recorded, or gone. */
export interface HeadRegression {
  secretArn: string;
  message: string;
}

export interface CheckpointWritten {
  checkpoint: Checkpoint;
  ref: CheckpointRef;
  /** Chains behind the previous checkpoint: the table was cut; alert on it. */
  regressions: HeadRegression[];
}

/**
 * Reads every chain head and writes one checkpoint of them, chained to the newest checkpoint
 * and locked for `retentionDays`. The audit-anchor function calls it once per sweep interval; it can be called on demand.
 * Throws when the heads cannot be read or the checkpoint cannot be written: a checkpoint with
 * heads missing would anchor a trail that was never that short.
 */
export async function writeCheckpoint(
  deps: CheckpointDeps,
  options: {
    /**
     * Told of the regressions before the checkpoint is written. If it throws, nothing is
     * written: the next checkpoint compares with the same previous one and finds them again, so
     * a regression whose alert could not be sent is never lost.
     */
    beforePut?: (regressions: HeadRegression[], previous?: CheckpointRef) => Promise<void>;
  } = {},
): Promise<CheckpointWritten> {
  const days = deps.retentionDays ?? DEFAULT_RETENTION_DAYS;
  if (!Number.isInteger(days) || days < 1) {
    throw new Error(`checkpoint retention must be a whole number of days ≥ 1, found ${days}`);
  }
  // The audit anchor checkpoints every sweep interval: the newest is among those of the last two days.
  const previous = await deps.store.latest(new Date(deps.clock().getTime() - 2 * 86_400_000));
  const heads = await deps.heads(previous?.checkpoint);
  const now = deps.clock();
  const body: Omit<Checkpoint, 'hash'> = {
    seq: (previous?.checkpoint.seq ?? 0) + 1,
    previousHash: previous?.checkpoint.hash ?? GENESIS_HASH,
    at: now.toISOString(),
    heads: [...heads]
      .map(({ secretArn, seq, hash }) => ({ secretArn, seq, hash }))
      .sort((a, b) => (a.secretArn < b.secretArn ? -1 : a.secretArn > b.secretArn ? 1 : 0)),
  };
  const checkpoint: Checkpoint = { ...body, hash: hashCheckpoint(body) };
  const regressions = previous ? regressionsSince(previous.checkpoint, checkpoint) : [];
  await options.beforePut?.(regressions, previous?.ref);
  const retainUntil = new Date(now.getTime() + days * 86_400_000);
  const ref = await deps.store.put(checkpointKey(now, checkpoint.seq), checkpoint, retainUntil);
  return { checkpoint, ref, regressions };
}

function regressionsSince(before: Checkpoint, after: Checkpoint): HeadRegression[] {
  const now = new Map(after.heads.map((head) => [head.secretArn, head]));
  const found: HeadRegression[] = [];
  for (const head of before.heads) {
    const current = now.get(head.secretArn);
    if (!current) {
      found.push({
        secretArn: head.secretArn,
        message: `the chain's head is gone: checkpoint ${before.seq} recorded record ${head.seq}`,
      });
    } else if (current.seq < head.seq || (current.seq === head.seq && current.hash !== head.hash)) {
      found.push({
        secretArn: head.secretArn,
        message: `the chain's head went back: checkpoint ${before.seq} recorded record ${head.seq} (${short(head.hash)}), the table now says record ${current.seq} (${short(current.hash)})`,
      });
    }
  }
  return found;
}

/** A problem with the checkpoints themselves. */
export interface CheckpointFinding {
  kind: 'gap' | 'altered' | 'overwritten' | 'deleted' | 'unlocked' | 'unreadable';
  key: string;
  message: string;
}

/**
 * Checks the checkpoint chain: each one's own hash, its link to its predecessor, no seq missing
 * or repeated, no key written over or hidden by a delete marker, and each version locked.
 */
export function verifyCheckpoints(stored: readonly StoredCheckpoint[]): CheckpointFinding[] {
  const findings: CheckpointFinding[] = [];
  const readable: { checkpoint: Checkpoint; key: string }[] = [];
  for (const { ref, checkpoint, unreadable, versions, deleteMarker } of stored) {
    const key = ref.key;
    if (versions > 1) {
      findings.push({
        kind: 'overwritten',
        key,
        message: `${key} was written over: it has ${versions} versions; its first version (${ref.versionId}) is the one checked`,
      });
    }
    if (deleteMarker) {
      findings.push({
        kind: 'deleted',
        key,
        message: `${key} was deleted: a delete marker hides it; its locked version ${ref.versionId} is still there and was read`,
      });
    }
    if (ref.lockMode !== 'COMPLIANCE') {
      findings.push({
        kind: 'unlocked',
        key,
        message: `${key} is not under COMPLIANCE retention (found ${ref.lockMode ?? 'no lock'}): it could be removed`,
      });
    }
    if (!checkpoint) {
      findings.push({
        kind: 'unreadable',
        key,
        message: `${key} is not a checkpoint: ${unreadable}`,
      });
      continue;
    }
    const expected = hashCheckpoint(checkpoint);
    if (expected !== checkpoint.hash) {
      findings.push({
        kind: 'altered',
        key,
        message: `checkpoint ${checkpoint.seq} (${key}) hashes to ${short(expected)}, but says ${short(checkpoint.hash)}`,
      });
    }
    readable.push({ checkpoint, key });
  }
  readable.sort((a, b) => a.checkpoint.seq - b.checkpoint.seq);
  let prev: { checkpoint: Checkpoint; key: string } | undefined;
  for (const item of readable) {
    const gap = linkOf(prev, item);
    if (gap) findings.push(gap);
    prev = item;
  }
  return findings;
}

function linkOf(
  prev: { checkpoint: Checkpoint; key: string } | undefined,
  { checkpoint, key }: { checkpoint: Checkpoint; key: string },
): CheckpointFinding | undefined {
  const expectedSeq = (prev?.checkpoint.seq ?? 0) + 1;
  const after = prev ? `checkpoint ${prev.checkpoint.seq} (${prev.key})` : 'the start';
  if (checkpoint.seq === prev?.checkpoint.seq) {
    return { kind: 'gap', key, message: `a second checkpoint numbered ${checkpoint.seq} (${key})` };
  }
  if (checkpoint.seq > expectedSeq) {
    const missing =
      checkpoint.seq - 1 === expectedSeq
        ? `checkpoint ${expectedSeq} is`
        : `checkpoints ${expectedSeq} to ${checkpoint.seq - 1} are`;
    return {
      kind: 'gap',
      key,
      message: `${missing} missing: ${after} is followed by checkpoint ${checkpoint.seq} (${key})`,
    };
  }
  const previousHash = prev?.checkpoint.hash ?? GENESIS_HASH;
  if (checkpoint.previousHash !== previousHash) {
    return {
      kind: 'gap',
      key,
      message: `checkpoint ${checkpoint.seq} (${key}) does not follow ${after}: it names a predecessor with hash ${short(checkpoint.previousHash)}, found ${short(previousHash)}`,
    };
  }
  return undefined;
}

/** A head some checkpoint recorded, and which checkpoint (the newest one that did). */
export interface AnchoredHead {
  seq: number;
  hash: string;
  checkpoint: number;
  key: string;
}

/** Every (seq, hash) each chain was checkpointed at, from every readable checkpoint. */
export function anchoredHeads(stored: readonly StoredCheckpoint[]): Map<string, AnchoredHead[]> {
  const byChain = new Map<string, Map<string, AnchoredHead>>();
  const inOrder = stored
    .filter((s): s is StoredCheckpoint & { checkpoint: Checkpoint } => s.checkpoint !== undefined)
    .sort((a, b) => a.checkpoint.seq - b.checkpoint.seq);
  for (const { checkpoint, ref } of inOrder) {
    for (const head of checkpoint.heads) {
      const seen = byChain.get(head.secretArn) ?? new Map<string, AnchoredHead>();
      seen.set(`${head.seq}:${head.hash}`, {
        seq: head.seq,
        hash: head.hash,
        checkpoint: checkpoint.seq,
        key: ref.key,
      });
      byChain.set(head.secretArn, seen);
    }
  }
  return new Map([...byChain].map(([arn, seen]) => [arn, [...seen.values()]]));
}

/**
 * Where a chain (its records in chain order) falls short of the heads checkpoints recorded:
 * it ends before a checkpointed record, or the record at a checkpointed seq is another one.
 */
export function checkAgainstAnchors(
  records: readonly AuditRecord[],
  anchors: readonly AnchoredHead[],
): ChainBreak[] {
  const bySeq = new Map(records.map((record) => [record.seq, record]));
  const last = records.at(-1)?.seq ?? 0;
  const breaks: ChainBreak[] = [];
  const longest = anchors.reduce<AnchoredHead | undefined>(
    (best, a) => (best && best.seq >= a.seq ? best : a),
    undefined,
  );
  if (longest && last < longest.seq) {
    breaks.push({
      kind: 'deleted',
      seq: longest.seq,
      missing: { from: last + 1, to: longest.seq },
      message:
        records.length === 0
          ? `the chain is missing: checkpoint ${longest.checkpoint} (${longest.key}) recorded its head as record ${longest.seq}`
          : `the chain was cut short: it ends at record ${last}, but checkpoint ${longest.checkpoint} (${longest.key}) recorded its head as record ${longest.seq}`,
    });
  }
  for (const anchor of anchors) {
    const record = bySeq.get(anchor.seq);
    if (record && record.hash !== anchor.hash) {
      breaks.push({
        kind: 'deleted',
        seq: anchor.seq,
        message: `record ${anchor.seq} is not the one checkpoint ${anchor.checkpoint} (${anchor.key}) recorded (hash ${short(anchor.hash)}, found ${short(record.hash)}): the chain was rewritten from here`,
      });
    }
  }
  return breaks;
}

const short = (hash: string) => (hash.length > 12 ? `${hash.slice(0, 12)}…` : hash);
