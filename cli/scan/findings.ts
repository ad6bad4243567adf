// From what the scanner saw to what it reports: each token's places, the secret versions the
// index knows it by, and each version's liveness as read back from Secrets Manager. A finding
// names the token by fingerprint only (see `Finding.fingerprint`); the token stays in memory.
import type { IndexedToken } from '#domain/keyed-fingerprint';
import { keyedFingerprint } from '#domain/keyed-fingerprint';
import { fingerprint } from '#domain/tokens';
import { judge, type Liveness, type SecretReader } from './lookup.ts';
import type { Place, Seen } from './sightings.ts';

export interface Finding extends Place {
  /** How the token was recognised: its `random` checksum (offline), or the token index. */
  recognisedBy: 'checksum' | 'index';
  /**
   * The token's name, never its characters: the keyed fingerprint (`hfp1:`, meaningless without
   * the stack's key) when the index knows it, else the audit trail's `fp:` (12 hex digits of its
   * SHA-256; only for checksummed `random` tokens, 256 random bits, so not reversible).
   */
  fingerprint: string;
  secretArn?: string;
  secretName?: string;
  versionId?: string;
  environment?: string;
  status: Liveness;
  stages: string[];
  why: string;
}

/** The online side: the key, the index lookup and the read-back. */
export interface Online {
  key: string;
  lookUp(fingerprints: string[]): Promise<Map<string, IndexedToken[]>>;
  secrets: SecretReader;
}

const OFFLINE_WHY = 'a token-rotation token (valid checksum); liveness not checked (offline)';
const UNINDEXED_WHY =
  'a token-rotation token (valid checksum) the index does not know: not one this stack has seen';

/** Findings for everything seen; with `online`, looked up and read back. */
export async function findingsOf(
  seen: [string, Seen][],
  online: Online | undefined,
): Promise<Finding[]> {
  if (!online) {
    return seen
      .filter(([, s]) => s.selfIssued)
      .flatMap(([token, s]) =>
        s.places.map((place) => ({
          ...place,
          recognisedBy: 'checksum' as const,
          fingerprint: fingerprint(token),
          status: 'unknown' as const,
          stages: [],
          why: OFFLINE_WHY,
        })),
      );
  }
  const keyed = seen.map(([token]) => keyedFingerprint(online.key, token));
  const index = await online.lookUp([...new Set(keyed)]);
  const findings: Finding[] = [];
  for (const [i, [token, s]] of seen.entries()) {
    const fp = keyed[i]!;
    const versions = index.get(fp);
    if (!versions) {
      if (!s.selfIssued) continue;
      for (const place of s.places) {
        findings.push({
          ...place,
          recognisedBy: 'checksum',
          fingerprint: fingerprint(token),
          status: 'unknown',
          stages: [],
          why: UNINDEXED_WHY,
        });
      }
      continue;
    }
    for (const version of versions) {
      const verdict = judge(version, await online.secrets.read(version.secretArn));
      for (const place of s.places) {
        findings.push({
          ...place,
          recognisedBy: 'index',
          fingerprint: fp,
          secretArn: version.secretArn,
          secretName: version.secretName,
          versionId: version.versionId,
          ...(version.environment && { environment: version.environment }),
          ...verdict,
        });
      }
    }
  }
  return findings;
}

/** Reads every indexed finding's secret again and judges it anew (after a revoke). */
export async function rejudge(findings: Finding[], online: Online): Promise<Finding[]> {
  const index = await online.lookUp([
    ...new Set(findings.filter((f) => f.recognisedBy === 'index').map((f) => f.fingerprint)),
  ]);
  const out: Finding[] = [];
  for (const finding of findings) {
    const version = index
      .get(finding.fingerprint)
      ?.find((v) => v.secretArn === finding.secretArn && v.versionId === finding.versionId);
    if (!version) {
      out.push(finding);
      continue;
    }
    out.push({ ...finding, ...judge(version, await online.secrets.read(version.secretArn)) });
  }
  return out;
}

/** Where a finding was, in one line: `path:line`, or `commit:path:line` in history. */
export function whereFound(finding: Place, commitLength = 12): string {
  const at = `${finding.path}:${finding.line}`;
  return finding.commit ? `${finding.commit.slice(0, commitLength)}:${at}` : at;
}

/** 0 when every finding is proven revoked (or there is none); 1 otherwise. */
export function exitCodeOf(findings: Finding[]): number {
  return findings.every((f) => f.status === 'revoked') ? 0 : 1;
}
