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

// A run of 32+ credential characters mixing upper case, lower case and digits: our tokens,
// AWS secret access keys and most vendors' API keys. Names, ARNs and version IDs (UUIDs) don't match.
const CREDENTIAL_RUN = /[A-Za-z0-9_/+]{32,}/g;
const looksLikeCredential = (run: string) => /[a-z]/.test(run) && /[A-Z]/.test(run) && /[0-9]/.test(run);

/**
 * Removes secret material from a message: every value in `known` (values read during this
 * invocation) and anything shaped like a credential. JSON.parse, for one, quotes its input.
 */
export function scrub(message: string, known: Iterable<string> = []): string {
  let out = message;
  for (const value of known) {
    if (value.length >= 4) out = out.split(value).join('[redacted]');
  }
  out = out.replace(CREDENTIAL_RUN, (run) => (looksLikeCredential(run) ? '[redacted]' : run));
  return out.length > 1000 ? `${out.slice(0, 1000)}…` : out;
}

/** A scrubbed, one-line description of anything thrown. */
export function describeError(error: unknown, known: Iterable<string> = []): string {
  const text =
    error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return scrub(text.replace(/\s+/g, ' ').trim(), known);
}
