// Self-issued (`random`) tokens: minted from a CSPRNG, labelled with the previous token's prefix
// and closed by a checksum, so a secret scanner can recognise a leaked token with no lookup.
//
// Format: <prefix><body><checksum>
//   prefix    the previous token's text up to and including its last "_" when that looks like
//             a vendor label (`acme_live_`, `ghp_`): at most 32 characters, words of letters and
//             digits (a "-" may join them) separated by "_", starting with a letter, ending in
//             "_"; otherwise empty. Random keys often hold "_" too (base64url), and the text
//             before it is then no label, so they are minted with no prefix rather than refused
//   body      43 base62 characters (0-9A-Za-z) from node:crypto: 43 × log2(62) ≈ 256.03 bits
//   checksum  CRC-32 (ISO-HDLC, as zlib) of prefix+body, in base62, left-padded with "0" to 6
// Scanner regex (then confirm the checksum to rule out look-alikes):
//   (?<![A-Za-z0-9_-])(?:[A-Za-z0-9][A-Za-z0-9_-]{0,30}_)?[0-9A-Za-z]{49}(?![A-Za-z0-9_-])

import { createHash, randomBytes } from 'node:crypto';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const BODY_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
export const MAX_PREFIX_LENGTH = 32;

/** What a secret scanner can search for (see the module header); matches whole tokens only. */
export const TOKEN_PATTERN =
  /(?<![A-Za-z0-9_-])(?:[A-Za-z0-9][A-Za-z0-9_-]{0,30}_)?[0-9A-Za-z]{49}(?![A-Za-z0-9_-])/g;

const LABEL = /^[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*_$/;
const BASE62_ONLY = /^[0-9A-Za-z]*$/;

/** A token the suite cannot work from. The message describes it and never quotes it. */
export class TokenFormatError extends Error {
  override readonly name = 'TokenFormatError';
}

// 248 = 4 × 62: every accepted byte maps to exactly four byte values per character, so the
// mapping is uniform; bytes 248-255 are rejected rather than folded onto the first characters.
const ACCEPT_BELOW = 256 - (256 % BASE62.length);

/** One base62 character for a random byte, or undefined when the byte must be rejected. */
export function base62Digit(byte: number): string | undefined {
  return byte < ACCEPT_BELOW ? BASE62[byte % BASE62.length] : undefined;
}

/** `length` uniformly random base62 characters from the CSPRNG (rejection sampling). */
export function randomBase62(
  length: number,
  random: (n: number) => Uint8Array = randomBytes,
): string {
  let out = '';
  while (out.length < length) {
    for (const byte of random(length - out.length + 8)) {
      const digit = base62Digit(byte);
      if (digit !== undefined && out.length < length) out += digit;
    }
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (ISO-HDLC, the one zlib and most languages ship) of the UTF-8 bytes of `text`. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The fixed-width base62 checksum of prefix+body. */
export function checksum(prefixAndBody: string): string {
  let n = crc32(prefixAndBody);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** The text up to and including the last "_", label or not. */
function textBeforeLastUnderscore(token: string): string {
  return token.slice(0, token.lastIndexOf('_') + 1);
}

/** Whether `prefix` looks like a vendor label (see the module header). */
export function isLabel(prefix: string): boolean {
  return prefix.length <= MAX_PREFIX_LENGTH && LABEL.test(prefix);
}

/**
 * The prefix a new token keeps: everything up to and including the last "_" when that is a
 * label (see the module header), else ''.
 */
export function tokenPrefix(token: string): string {
  const prefix = textBeforeLastUnderscore(token);
  return isLabel(prefix) ? prefix : '';
}

/** Why `prefix` cannot label a token, or undefined when it can. Never quotes the prefix. */
export function checkPrefix(prefix: string): string | undefined {
  if (prefix === '' || isLabel(prefix)) return undefined;
  if (prefix.length > MAX_PREFIX_LENGTH) {
    return `a prefix (the text up to the last "_") of at most ${MAX_PREFIX_LENGTH} characters, found ${prefix.length}`;
  }
  return 'a prefix (the text up to the last "_") of words of letters and digits separated by "_", starting with a letter, found other characters';
}

/**
 * A new token carrying the previous token's prefix when it is a label, and none otherwise: any
 * existing token can be rotated, whatever its shape.
 */
export function mintToken(previous: string): string {
  const prefix = tokenPrefix(previous);
  const body = randomBase62(BODY_LENGTH);
  return prefix + body + checksum(prefix + body);
}

/**
 * What is wrong with `token`, or undefined when it is a well-formed token with a valid checksum
 * (and, when `expectedPrefix` is given, that prefix). The answer never quotes the token.
 */
export function checkToken(token: string, expectedPrefix?: string): string | undefined {
  if (token.length === 0) return 'expected a token, found an empty string';
  const prefix = textBeforeLastUnderscore(token);
  if (expectedPrefix !== undefined && prefix !== expectedPrefix) {
    const want = expectedPrefix === '' ? 'no prefix' : `the prefix "${expectedPrefix}"`;
    const found = prefix === '' ? 'no prefix' : `a different prefix of ${prefix.length} characters`;
    return `expected ${want}, found ${found}`;
  }
  const prefixProblem = checkPrefix(prefix);
  if (prefixProblem) return `expected ${prefixProblem}`;
  const rest = token.slice(prefix.length);
  const want = BODY_LENGTH + CHECKSUM_LENGTH;
  if (!BASE62_ONLY.test(rest)) {
    return `expected only letters and digits after the prefix, found other characters`;
  }
  if (rest.length !== want) {
    return `expected ${want} letters and digits after the prefix, found ${rest.length}`;
  }
  const body = rest.slice(0, BODY_LENGTH);
  if (checksum(prefix + body) !== rest.slice(BODY_LENGTH)) {
    return 'the checksum does not match: the token was altered or not minted by token-rotation';
  }
  return undefined;
}

/** A short, non-reversible name for a high-entropy token, for audit records and alerts. */
export function fingerprint(token: string): string {
  return `fp:${createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 12)}`;
}

/** A full digest of a token, to compare two tokens without keeping either (never shown). */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
