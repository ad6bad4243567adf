// The fingerprint key, read once per function container and kept in memory (a Secrets Manager
// GetSecretValue on the stack's key secret, or its value read alongside another secret's in one
// BatchGetSecretValue: the rotation's way, at no extra call). A failure is remembered for the rest
// of the invocation's pass and read again at the next one: isolation is a detective control, so a
// key that cannot be read leaves tokens unindexed (alerted once), and never fails a rotation or
// sweep.
import { FingerprintKeyError, MIN_FINGERPRINT_KEY_LENGTH } from '../keyed-fingerprint.ts';

export type KeyReader = () => Promise<string | undefined>;

type Keyed = { key: string } | { error: string };

export interface FingerprintKeySource {
  /** The key, or an error saying why it cannot be had (never quoting the key). */
  get(): Promise<Keyed>;
  /** Forgets a failure, so the next `get` reads again (a new sweep). Keeps a key once read. */
  retry(): void;
  /** Whether the key is in memory: `get` then costs no call. */
  readonly known: boolean;
  /** The key secret's value, read by another call: kept as if `get` had read it. */
  seed(value: string): void;
}

/** The key as read, checked; or why it cannot be used. */
function checked(key: string | undefined): Keyed {
  if (key === undefined) return { error: 'the fingerprint key secret has no string value' };
  if (key.length < MIN_FINGERPRINT_KEY_LENGTH) {
    return {
      error: new FingerprintKeyError(
        `the fingerprint key is ${key.length} characters; at least ${MIN_FINGERPRINT_KEY_LENGTH} expected`,
      ).message,
    };
  }
  return { key };
}

export function fingerprintKeySource(read: KeyReader): FingerprintKeySource {
  let cached: Promise<Keyed> | undefined;
  let known = false;
  const keep = (result: Keyed): Keyed => {
    if ('key' in result) known = true;
    return result;
  };
  return {
    get() {
      cached ??= (async () => {
        try {
          return keep(checked(await read()));
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
    get known() {
      return known;
    },
    seed(value) {
      if (known) return;
      cached = Promise.resolve(keep(checked(value)));
    },
  };
}
