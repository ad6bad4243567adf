// Keyed token fingerprints (SPEC "Environment isolation", "Leak scan"): the one name under which
// the suite indexes every token it sees, and under which `token-rotation scan` looks a candidate
// string up. HMAC-SHA256 under the stack's fingerprint key, so without the key a fingerprint
// reveals nothing (no dictionary or brute-force search over short hand-set tokens), and no token
// value is ever stored.
//
// The key is a Secrets Manager secret the stack generates at deploy (64 random characters), not a
// KMS HMAC key: fingerprinting happens for every candidate string of a scan (hundreds of
// thousands in a large repository), which stays local and free with a key in memory, whereas
// KMS GenerateMac would cost one API call (and its quota) per candidate. The trade-off, written
// down in the README: the key is readable by the suite's functions and by whoever may scan.
//
// Format: hfp1:<base64url of the 32-byte MAC, 43 characters>. The version prefix lets a later
// key or algorithm coexist in the index.

import { createHmac } from 'node:crypto';

export const KEYED_FINGERPRINT_PREFIX = 'hfp1:';

/** The shortest key accepted: 32 bytes of key material, as the stack generates 64 characters. */
export const MIN_FINGERPRINT_KEY_LENGTH = 32;

/** A fingerprint key that cannot be used. The message never quotes the key. */
export class FingerprintKeyError extends Error {
  override readonly name = 'FingerprintKeyError';
}

/** The keyed fingerprint of `token` under `key` (the fingerprint key secret's string value). */
export function keyedFingerprint(key: string, token: string): string {
  if (key.length < MIN_FINGERPRINT_KEY_LENGTH) {
    throw new FingerprintKeyError(
      `the fingerprint key is ${key.length} characters; at least ${MIN_FINGERPRINT_KEY_LENGTH} expected`,
    );
  }
  const mac = createHmac('sha256', Buffer.from(key, 'utf8')).update(token, 'utf8').digest();
  return KEYED_FINGERPRINT_PREFIX + mac.toString('base64url');
}

/** Whether `text` has the shape of a keyed fingerprint (not whether it names a known token). */
export function isKeyedFingerprint(text: string): boolean {
  return /^hfp1:[A-Za-z0-9_-]{43}$/.test(text);
}

/**
 * One secret version that held a token, as the token index stores it (audit table, pk =
 * FP#<fingerprint>, sk = <secret ARN>#<version ID>; see #adapters/audit-table). No token value.
 */
export interface IndexedToken {
  fingerprint: string;
  secretArn: string;
  secretName: string;
  versionId: string;
  /** The version's stages when last seen (AWSCURRENT, AWSPREVIOUS, AWSPENDING), possibly none. */
  stages: string[];
  /** The secret's `token-rotation:environment` tag when last seen, if any. */
  environment?: string;
  /** ISO-8601 times. */
  firstSeen: string;
  lastSeen: string;
  /** When the suite confirmed the token revoked at its issuer (ISO-8601), if it did. */
  revokedAt?: string;
}
