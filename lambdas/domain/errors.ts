// Errors a person can act on: the secret, the step, what was expected, what was found.
// A message here never carries a secret value; `scrub` is the last line of defence for
// messages that come from elsewhere (the SDK, JSON.parse, an issuer).

export class RotationError extends Error {
  override readonly name: string = 'RotationError';
  constructor(
    readonly secret: string,
    readonly step: string,
    message: string,
    /** A machine-readable reason, stable across versions (audit `reason` field). */
    readonly reason = 'invalid',
  ) {
    super(`${secret}: ${step}: ${message}`);
  }
}

/** Input we refuse: a bad event, tag or secret value. Never retried into success. */
export class ValidationError extends RotationError {
  override readonly name = 'ValidationError';
}

/** JSON string leaves shorter than this are too likely to be ordinary words to redact everywhere. */
export const MIN_SECRET_PART_LENGTH = 6;

// Identifiers that iam-access-key values carry at their top level: the IAM user name and the
// access key ID. Left readable (errors must name them) only when they have exactly that shape;
// anything else under those names, or any other field, is redacted like the rest.
const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;
const isIdentifier = (key: string, leaf: string) =>
  (key === 'userName' && IAM_USER_NAME.test(leaf) && credentialRuns(leaf).length === 0) ||
  (key === 'accessKeyId' && ACCESS_KEY_ID.test(leaf));

/**
 * What to redact for one secret value: the whole value and every string leaf of it when it is
 * JSON (recursively; leaves of MIN_SECRET_PART_LENGTH+ characters, except IDENTIFIER_FIELDS),
 * plus each leaf as it appears escaped inside JSON text.
 * An error often quotes one field (an API key) rather than the whole value, so every place that
 * learns a value adds all of these to its redaction set.
 */
export function secretParts(value: string): string[] {
  const parts = new Set<string>([value]);
  const trimmed = value.trim();
  if (trimmed !== value && trimmed !== '') parts.add(trimmed);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [...parts];
  }
  const walk = (node: unknown): void => {
    if (typeof node === 'string') {
      if (node.length < MIN_SECRET_PART_LENGTH) return;
      parts.add(node);
      const escaped = JSON.stringify(node).slice(1, -1);
      if (escaped !== node) parts.add(escaped);
    } else if (Array.isArray(node)) {
      for (const item of node) walk(item);
    } else if (typeof node === 'object' && node !== null) {
      for (const item of Object.values(node)) walk(item);
    }
  };
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    for (const [key, item] of Object.entries(parsed)) {
      if (!(typeof item === 'string' && isIdentifier(key, item))) walk(item);
    }
  } else {
    walk(parsed);
  }
  return [...parts];
}

/** Adds every part of `value` (secretParts) to a redaction set. */
export function rememberSecret(known: Set<string>, value: string): void {
  for (const part of secretParts(value)) known.add(part);
}

// A run of 20+ base64/hex/base62 characters with a letter and a digit: our token bodies, AWS
// secret access keys, hex and base64 API keys, and each long segment of a dash- or
// underscore-split token (Slack's xoxb-…). UUIDs (segments of at most 12) and account IDs (no
// letter) don't match; AWS access key IDs are non-secret identifiers the audit names keys by.
const CREDENTIAL_RUN = /[A-Za-z0-9+/=]{20,}/g;
const ACCESS_KEY_ID = /^(?:AKIA|ASIA)[A-Z0-9]{16}$/;
const looksLikeCredential = (run: string) =>
  /[A-Za-z]/.test(run) && /[0-9]/.test(run) && !ACCESS_KEY_ID.test(run);
/** The credential-shaped runs in `text` (the same test `scrub` redacts by). */
export function credentialRuns(text: string): string[] {
  return (text.match(CREDENTIAL_RUN) ?? []).filter(looksLikeCredential);
}
// The older, wider net: 32+ characters joined by "_" that mix upper case, lower case and digits
// (a base64url token whose "_" splits it into short segments).
const MIXED_RUN = /[A-Za-z0-9_/+]{32,}/g;
const looksMixed = (run: string) => /[a-z]/.test(run) && /[A-Z]/.test(run) && /[0-9]/.test(run);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes secret material from a message: every value in `known` (values read or minted during
 * this invocation, ideally via secretParts) and anything shaped like a credential. JSON.parse,
 * for one, quotes its input. Known values shorter than MIN_SECRET_PART_LENGTH are redacted where
 * they stand as a word of their own, so a short value does not shred every word containing it.
 */
export function scrub(message: string, known: Iterable<string> = []): string {
  let out = message;
  const values = [...new Set(known)].filter((v) => v.trim() !== '');
  // Longest first, so a field redacted inside its whole value leaves nothing of the value behind.
  values.sort((a, b) => b.length - a.length);
  for (const value of values) {
    if (value.length >= MIN_SECRET_PART_LENGTH) {
      out = out.split(value).join('[redacted]');
    } else {
      const word = new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(value)}(?![A-Za-z0-9])`, 'g');
      out = out.replace(word, '[redacted]');
    }
  }
  // The wider net first, so a whole underscore-joined token goes rather than only its body.
  out = out.replace(MIXED_RUN, (run) => (looksMixed(run) ? '[redacted]' : run));
  out = out.replace(CREDENTIAL_RUN, (run) => (looksLikeCredential(run) ? '[redacted]' : run));
  return out.length > 1000 ? `${out.slice(0, 1000)}…` : out;
}

/** A scrubbed, one-line description of anything thrown. */
export function describeError(error: unknown, known: Iterable<string> = []): string {
  const text =
    error instanceof Error
      ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`
      : String(error);
  return scrub(text.replace(/\s+/g, ' ').trim(), known);
}
