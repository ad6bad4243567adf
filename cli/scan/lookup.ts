// The online half of `token-rotation scan`: each candidate's keyed fingerprint looked up in the
// token index (DynamoDB Query on its own partition, never a Scan), and each indexed secret version
// judged live or revoked from what Secrets Manager says NOW (DescribeSecret's staging labels),
// not from the index alone. What cannot be read back is "unknown", never guessed.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTokenIndex } from '#adapters/dynamodb-token-index';
import { describeError, errorCode } from '#domain/errors';
import type { IndexedToken } from '#domain/keyed-fingerprint';
import { kindOf } from '#domain/kinds/registry';
import type { Pace } from '#domain/pacer';
import type { SecretDescription, SecretStore } from '#domain/ports';
import { inParallel } from '#domain/sweep/workers';
import { DELETE_AFTER_LABEL_PREFIX, STAGE, TAG } from '#domain/vocabulary';

/** Index lookups in flight at once: DynamoDB answers in milliseconds, the pacer caps the rate. */
export const LOOKUP_CONCURRENCY = 16;

/** Every secret version the index holds under each fingerprint (absent: not a known token). */
export async function lookUpFingerprints(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  fingerprints: string[],
  pace: Pace,
  tick: (done: number) => void = () => {},
): Promise<Map<string, IndexedToken[]>> {
  const found = new Map<string, IndexedToken[]>();
  const index = new DynamoTokenIndex(dynamo, tableName, pace);
  let done = 0;
  const queue = (async function* () {
    yield* fingerprints;
  })();
  await inParallel(LOOKUP_CONCURRENCY, queue, async (fp) => {
    const tokens = await index.holders(fp);
    if (tokens.length > 0) found.set(fp, tokens);
    tick(++done);
  });
  return found;
}

export type Liveness = 'live' | 'revoked' | 'unknown';

/** A secret version's liveness as read back now, and why, in words. */
export interface Verdict {
  status: Liveness;
  /** The version's staging labels as read back (empty when none or unread). */
  stages: string[];
  why: string;
}

const LIVE_STAGES = [STAGE.current, STAGE.pending, STAGE.previous] as const;

/**
 * Judges one indexed version from its secret as read back (or the failure to read it):
 * AWSCURRENT, AWSPENDING or AWSPREVIOUS (in grace) is live; a version no longer staged is revoked
 * when its kind is revoked by unstaging (`random`) or the index records its revoke at the
 * issuer; a deactivated version (delete-after label) is revoked; anything else is unknown.
 */
export function judge(token: IndexedToken, secret: SecretDescription | Error): Verdict {
  if (secret instanceof Error) {
    return {
      status: 'unknown',
      stages: [],
      why:
        errorCode(secret) === 'not-found'
          ? 'its secret could not be read back: Secrets Manager has no such secret now'
          : `its secret could not be read back: ${describeError(secret)}`,
    };
  }
  const stages = secret.versions[token.versionId] ?? [];
  const live = LIVE_STAGES.filter((s) => stages.includes(s));
  if (live.length > 0) {
    const grace =
      live.includes(STAGE.previous) && live.length === 1 ? ' (previous token, in grace)' : '';
    return { status: 'live', stages, why: `the version is ${live.join(',')}${grace}` };
  }
  if (stages.some((s) => s.startsWith(DELETE_AFTER_LABEL_PREFIX))) {
    return { status: 'revoked', stages, why: 'deactivated at its issuer; deleted later' };
  }
  if (token.revokedAt) {
    return {
      status: 'revoked',
      stages,
      why: `revoked at its issuer ${token.revokedAt}; no longer staged`,
    };
  }
  const kind = kindOf(secret.tags[TAG.kind]);
  if (kind?.capabilities.revokedByUnstaging) {
    return {
      status: 'revoked',
      stages,
      why: `no staged version holds it (a ${kind.name} token is revoked so)`,
    };
  }
  return {
    status: 'unknown',
    stages,
    why: 'no longer staged, and no revoke at its issuer is recorded: it may still work there',
  };
}

/** Reads each secret once (DescribeSecret: labels and tags, never a value); failures kept as such. */
export class SecretReader {
  private readonly cache = new Map<string, Promise<SecretDescription | Error>>();
  constructor(
    private readonly store: Pick<SecretStore, 'describe'>,
    private readonly pace: Pace,
  ) {}

  read(secretArn: string): Promise<SecretDescription | Error> {
    let found = this.cache.get(secretArn);
    if (!found) {
      found = this.pace(() => this.store.describe(secretArn)).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error)),
      );
      this.cache.set(secretArn, found);
    }
    return found;
  }

  /** Forgets what was read, so the next read is fresh (after a revoke). */
  forget(secretArn: string): void {
    this.cache.delete(secretArn);
  }
}
