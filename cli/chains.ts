// Every hash chain in the audit table, each one verified, and the chains that must exist: a
// secret the suite manages has a trail, and a trail whose head was recorded is at least that long.
// Finding them all is the one read that is not a Query: a secret deleted long ago is in no index
// but the table itself, so the table is scanned once for its partition keys (audit records and
// chain heads only).
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE } from '#adapters/audit-table';
import type { DynamoAuditLog } from '#adapters/dynamodb-audit-log';
import { type ChainHead, listChains } from '#adapters/dynamodb-chain-heads';
import { DynamoManagedSet, MANAGED_PK } from '#adapters/dynamodb-managed-set';
import { type AnchoredHead, checkAgainstAnchors } from '#domain/audit-anchor';
import { type ChainBreak, type ChainReport, verifyChain } from '#domain/audit-chain';
import type { AuditLog, SecretDescription } from '#domain/ports';
import { TAG } from '#domain/vocabulary';
import type { Connection } from './aws.ts';
import { mapConcurrent } from './records.ts';

// Chains read and verified at once.
const CONCURRENCY = 8;

export { type ChainHead, listChains };

/** A chain that must exist: why, and how far it must reach when something recorded its head. */
export interface ExpectedChain {
  secretArn: string;
  secretName?: string;
  /** The newest record as recorded outside the chain (the table's HEAD item). */
  head?: ChainHead;
  /** Why the suite manages the secret, in a person's words. */
  because: string[];
  /** Every head a checkpoint of the anchored audit trail recorded for this chain. */
  anchors?: AnchoredHead[];
}

/**
 * Adds what the checkpoints say to the chains that must exist: a chain in any checkpoint must
 * exist, and reach every head the checkpoints recorded for it.
 */
export function withAnchors(
  expected: Map<string, ExpectedChain>,
  anchors: ReadonlyMap<string, AnchoredHead[]>,
  only?: string,
): Map<string, ExpectedChain> {
  for (const [arn, heads] of anchors) {
    if (only !== undefined && arn !== only) continue;
    const newest = heads.reduce((a, b) => (b.checkpoint > a.checkpoint ? b : a));
    const entry = expected.get(arn) ?? { secretArn: arn, because: [] };
    entry.because.push(`checkpoint ${newest.checkpoint} recorded its head #${newest.seq}`);
    entry.anchors = heads;
    expected.set(arn, entry);
  }
  return expected;
}

/** Managed: opted in with rotation attached (the attach is audited), or rotated before. */
const managedBecause = (secret: SecretDescription): string | undefined => {
  if (secret.tags[TAG.lifespan] === undefined) return undefined;
  if (secret.rotationEnabled) return `opted in (${TAG.lifespan}) with rotation attached`;
  if (secret.lastRotatedDate) return `opted in (${TAG.lifespan}) and rotated before`;
  return undefined;
};

/**
 * Every chain the evidence outside the chains says must exist: recorded chain heads, the
 * suite's managed set, and the opted-in secrets of Secrets Manager that rotation is attached
 * to. One more source (checkpoints of chain heads kept outside the table) adds its heads here.
 */
export async function expectedChainHeads(
  connection: Connection,
  tableName: string,
  recordedHeads: ReadonlyMap<string, ChainHead>,
  progress?: (text: string) => void,
  /** The opted-in secrets when the caller listed them already (saves listing them again). */
  optedIn?: Iterable<SecretDescription>,
): Promise<Map<string, ExpectedChain>> {
  const expected = new Map<string, ExpectedChain>();
  const add = (arn: string, because: string, name?: string) => {
    const entry = expected.get(arn) ?? { secretArn: arn, because: [] };
    if (name && !entry.secretName) entry.secretName = name;
    entry.because.push(because);
    expected.set(arn, entry);
    return entry;
  };
  for (const [arn, head] of recordedHeads) {
    add(arn, `its chain head #${head.seq} is recorded`).head = head;
  }
  const managed = new DynamoManagedSet(connection.dynamo, tableName);
  let after: string | undefined;
  do {
    const page = await managed.page(after);
    for (const member of page.members) add(member.arn, 'in the managed set', member.name);
    after = page.last;
  } while (after !== undefined);
  const consider = (secret: SecretDescription) => {
    const because = managedBecause(secret);
    if (because) add(secret.arn, because, secret.name);
  };
  if (optedIn) for (const secret of optedIn) consider(secret);
  else {
    let nextToken: string | undefined;
    do {
      const listed = await connection.catalog.listTagged(TAG.lifespan, nextToken);
      listed.secrets.forEach(consider);
      nextToken = listed.nextToken;
    } while (nextToken);
  }
  progress?.(`${expected.size} secrets must have a chain`);
  return expected;
}

/** expectedChainHeads for one secret (its description, when Secrets Manager still has it). */
export async function expectedChainHead(
  connection: Connection,
  log: DynamoAuditLog,
  tableName: string,
  secretArn: string,
  secret: SecretDescription | undefined,
): Promise<ExpectedChain | undefined> {
  const because: string[] = [];
  const head = await log.recordedHead(secretArn);
  if (head) because.push(`its chain head #${head.seq} is recorded`);
  const member = await connection.dynamo.send(
    new GetCommand({
      TableName: tableName,
      Key: { [AUDIT_TABLE.partitionKey]: MANAGED_PK, [AUDIT_TABLE.sortKey]: secretArn },
      ConsistentRead: true,
    }),
  );
  if (member.Item) because.push('in the managed set');
  const managed = secret ? managedBecause(secret) : undefined;
  if (managed) because.push(managed);
  if (because.length === 0) return undefined;
  return {
    secretArn,
    ...(secret ? { secretName: secret.name } : {}),
    ...(head && { head }),
    because,
  };
}

export interface VerifiedChain {
  /** The name the newest record gives the secret (the ARN's last part when it has none). */
  secretName: string;
  report: ChainReport;
}

/**
 * Reads one secret's whole chain (Query) and verifies it with the domain's verifyChain; with
 * `expected`, a chain that is missing or shorter than its recorded head is broken too.
 */
export async function verifyTrail(
  log: AuditLog,
  secretArn: string,
  expected?: ExpectedChain,
): Promise<VerifiedChain> {
  const records = await log.history(secretArn);
  const named = records.findLast((record) => typeof record.secretName === 'string');
  const report = verifyChain(secretArn, records);
  const missing = expected ? missingRecords(report, expected) : undefined;
  // A chain with no records at all is said missing once, with every reason it must exist.
  const anchored =
    expected?.anchors && !(missing && report.total === 0)
      ? checkAgainstAnchors(records, expected.anchors)
      : [];
  const extra = [...(missing ? [missing] : []), ...anchored];
  return {
    secretName:
      named?.secretName ?? expected?.secretName ?? secretArn.split(':').at(-1) ?? secretArn,
    report:
      extra.length > 0 ? { ...report, ok: false, breaks: [...report.breaks, ...extra] } : report,
  };
}

/**
 * Verifies the chain of each of `arns` (verifyTrail) against its expected head, a few at a time,
 * telling `progress` every 25 chains and at the last. In the order of `arns`.
 */
export async function verifyTrails(
  log: AuditLog,
  arns: string[],
  expected: Map<string, ExpectedChain>,
  progress: (message: string) => void,
): Promise<VerifiedChain[]> {
  let done = 0;
  return mapConcurrent(arns, CONCURRENCY, async (arn) => {
    const chain = await verifyTrail(log, arn, expected.get(arn));
    done += 1;
    if (done % 25 === 0 || done === arns.length) {
      progress(`verified ${done} of ${arns.length} chains`);
    }
    return chain;
  });
}

/** What the chain lacks that `expected` says it has: no records at all, or its newest ones. */
function missingRecords(report: ChainReport, expected: ExpectedChain): ChainBreak | undefined {
  const why = expected.because.join('; ');
  const want = expected.head;
  if (report.total === 0) {
    return {
      kind: 'deleted',
      seq: want?.seq ?? 1,
      ...(want ? { missing: { from: 1, to: want.seq } } : {}),
      message: `the chain is missing: no audit records, yet the secret is managed (${why})`,
    };
  }
  const head = report.head;
  if (!want || !head) return undefined;
  if (head.seq < want.seq) {
    return {
      kind: 'deleted',
      seq: want.seq,
      missing: { from: head.seq + 1, to: want.seq },
      message: `the chain was cut short: it ends at record ${head.seq}, but its head was recorded as record ${want.seq}; ${want.seq - head.seq === 1 ? `record ${want.seq} was` : `records ${head.seq + 1} to ${want.seq} were`} deleted`,
    };
  }
  if (head.seq === want.seq && head.hash !== want.hash) {
    return {
      kind: 'deleted',
      seq: want.seq,
      message: `record ${want.seq} is not the one recorded as the chain's head (hash ${want.hash.slice(0, 12)}…, found ${head.hash.slice(0, 12)}…): the head was deleted and another record written in its place`,
    };
  }
  return undefined;
}
