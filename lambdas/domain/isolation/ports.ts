// The token index's port (SPEC "Environment isolation"): kept beside the isolation rules that
// use it; the DynamoDB side is #adapters/dynamodb-token-index.
import type { IndexedToken } from '../keyed-fingerprint.ts';

/**
 * The token index (SPEC "Environment isolation"): every secret version that held a token, under
 * the token's keyed fingerprint (#domain/keyed-fingerprint). Never the token.
 */
export interface TokenIndex {
  /**
   * Records that `seen.versionId` of `seen.secretArn` held the token `seen.fingerprint`: the first
   * time keeps `firstSeen`; later ones update `lastSeen`, `stages`, `environment` and the name.
   */
  record(seen: Omit<IndexedToken, 'firstSeen' | 'lastSeen' | 'revokedAt'>, at: Date): Promise<void>;
  /** Every secret version recorded under `fingerprint` (a Query on its partition). */
  holders(fingerprint: string): Promise<IndexedToken[]>;
  /** Marks one recorded version's token revoked at `at`; false when the index has no such item. */
  markRevoked(
    fingerprint: string,
    secretArn: string,
    versionId: string,
    at: Date,
  ): Promise<boolean>;
  /**
   * What the index remembers of one secret (version ID to fingerprint and stages, as last
   * indexed), so that the sweep reads a value only for a version it has not indexed.
   */
  indexedVersions(secretArn: string): Promise<IndexedVersions | undefined>;
  /** The same for every secret, page by page (a Query on one partition, not one read per secret). */
  allIndexedVersions(): AsyncIterable<[secretArn: string, versions: IndexedVersions]>;
  rememberVersions(secretArn: string, versions: IndexedVersions): Promise<void>;
}

/** Version ID to the fingerprint of its token (absent: the kind names no token in it) and stages. */
export type IndexedVersions = Record<
  string,
  { fingerprint?: string; stages: string[]; environment?: string }
>;

/**
 * What the emergency revoke tells the token index (#domain/isolation/revoked): a version whose
 * token it proved revoked, and that token as the kind's contract names it (in memory only, for
 * its keyed fingerprint), so `token-rotation scan` reports the token revoked. Never throws.
 */
export interface RevokedTokens {
  revoked(
    secret: { arn: string; name: string; tags: Record<string, string> },
    versionId: string,
    token: string | undefined,
  ): Promise<void>;
}

/** What an audit write may carry at no extra call (one DynamoDB transaction). */
export interface AuditAlongside {
  /**
   * A token just seen, for the token index (#domain/isolation), recorded as `TokenIndex.record`
   * records it, at the record's time. Its keyed fingerprint only, never the token.
   */
  tokenSeen?: Omit<IndexedToken, 'firstSeen' | 'lastSeen' | 'revokedAt'>;
}
