// The fingerprint key, read once per function container and kept in memory (a Secrets Manager
// GetSecretValue on the stack's key secret). A failure is remembered for the rest of the
// invocation's pass and read again at the next one: isolation is a detective control, so a key
// that cannot be read leaves tokens unindexed (alerted once), and never fails a rotation or sweep.
import { FingerprintKeyError, MIN_FINGERPRINT_KEY_LENGTH } from '../keyed-fingerprint.ts';

export type KeyReader = () => Promise<string | undefined>;

export interface FingerprintKeySource {
  /** The key, or an error saying why it cannot be had (never quoting the key). */
  get(): Promise<{ key: string } | { error: string }>;
  /** Forgets a failure, so the next `get` reads again (a new sweep). Keeps a key once read. */
  retry(): void;
}

export function fingerprintKeySource(read: KeyReader): FingerprintKeySource {
  let cached: Promise<{ key: string } | { error: string }> | undefined;
  let known = false;
  return {
    get() {
      cached ??= (async () => {
        try {
          const key = await read();
          if (key === undefined) return { error: 'the fingerprint key secret has no string value' };
          if (key.length < MIN_FINGERPRINT_KEY_LENGTH) {
            return {
              error: new FingerprintKeyError(
                `the fingerprint key is ${key.length} characters; at least ${MIN_FINGERPRINT_KEY_LENGTH} expected`,
              ).message,
            };
          }
          known = true;
          return { key };
        } catch (error) {
          const name = error instanceof Error ? error.name : 'Error';
          // The error's own text may come from AWS; the name and a short reason are enough.
          return { error: `the fingerprint key could not be read (${name})` };
        }
      })();
      return cached;
    },
    retry() {
      if (!known) cached = undefined;
    },
  };
}
