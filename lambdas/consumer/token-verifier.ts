// For services that accept `random` tokens: checks a presented token against the secret's live
// token (AWSCURRENT) and, through its grace, the previous one (AWSPREVIOUS), and records when the
// previous token was still presented, so the sweep knows whether consumers switched before it
// revokes it (SPEC "Consumer switch-over").
//
// - Constant time: every presented token is hashed and compared with every staged token's hash
//   (crypto.timingSafeEqual on equal-length digests), whichever matches and whatever its length.
// - Cached: the staged values are read at most once per `cacheMs` (default 1 minute), and again
//   (at most every 5 seconds) when a token matches neither, so a rotation is seen without waiting
//   for the cache and invalid tokens cannot drive Secrets Manager calls.
// - Sampled: a use of the previous token is recorded at most once per `sampleMs` (default 5
//   minutes) per version, so a busy service writes a handful of items, not one per request.
//   A failed recording never fails the check.
// - Nothing secret is recorded: the item holds the version ID, a time and the consumer's name.
// - Scopes (SPEC "Scopes and lifespan ceiling"): `authorize(token, scope)` also checks that the
//   matched version's value grants `scope` in its `scopes` field (the declared scopes the suite
//   writes at every rotation; a declared `*` matches any characters). A value without the field
//   is unscoped and grants what its token does; a malformed field grants nothing (fail closed).
//
// The service's role needs secretsmanager:GetSecretValue on the secret and, to record, the grant
// TokenRotation.grantRecordTokenUse gives (UpdateItem on the audit table's USE#<secret> items only).
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isAwsError } from '#adapters/aws-errors';
import { tokenIn } from '#domain/kinds/random/issuer';
import type { TokenUses } from '#domain/ports';
import { readReportedScopes, scopeCovers } from '#domain/scopes';
import { STAGE } from '#domain/vocabulary';

/** Which staged token a presented one is. */
export type TokenMatch = 'current' | 'previous' | 'invalid';

/** One staged version, as the verifier keeps it: its ID and its token's digest, never the token. */
interface Staged {
  versionId: string;
  digest: Buffer;
  /** The scopes its value grants; undefined when it declares none, [] when its field is malformed. */
  scopes?: string[];
}

/** What `authorize` decided, and why (a service may log the reason; it names no token). */
export interface Authorization {
  match: TokenMatch;
  allowed: boolean;
  reason: 'granted' | 'unscoped' | 'scope-not-granted' | 'invalid-token';
}

/** The scopes a value's `scopes` field grants (see the module header). */
function scopesOf(value: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !Object.hasOwn(parsed, 'scopes')) {
    return undefined;
  }
  const read = readReportedScopes((parsed as { scopes: unknown }).scopes);
  return read.ok ? read.scopes : [];
}

/** Reads a staged version: its ID and value, or undefined when no version has that stage. */
export type StageReader = (
  stage: string,
) => Promise<{ versionId: string; value: string } | undefined>;

export interface TokenVerifierOptions {
  /** The secret's ARN: uses are recorded under it (the sweep looks them up by ARN). */
  secretArn: string;
  /** This service's name, recorded with each use of the previous token (shown in alerts). */
  consumer: string;
  read: StageReader;
  /** Where uses of the previous token are recorded; none: nothing is recorded. */
  uses?: TokenUses;
  cacheMs?: number;
  sampleMs?: number;
  now?: () => Date;
  /** Told when a use could not be recorded (the check itself still answers). */
  onRecordError?: (error: unknown) => void;
}

/** A token that matches nothing re-reads the stages at most this often. */
const MISS_RELOAD_MS = 5_000;

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * Which of the staged digests `presented` matches. Compares against every candidate, in constant
 * time each, and only then decides: the time taken does not tell which matched, or how closely.
 */
export function matchToken(
  presented: string,
  candidates: readonly (Staged | undefined)[],
  equal: (a: Buffer, b: Buffer) => boolean = timingSafeEqual,
): number {
  const mine = digest(presented);
  let found = -1;
  candidates.forEach((candidate, i) => {
    const same = equal(mine, candidate?.digest ?? Buffer.alloc(mine.length));
    if (same && candidate && found < 0) found = i;
  });
  return found;
}

/** Reads stages with a Secrets Manager client; a stage no version holds reads as undefined. */
export function secretsManagerStages(client: SecretsManagerClient, secretId: string): StageReader {
  return async (stage) => {
    try {
      const out = await client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }),
      );
      return out.VersionId && out.SecretString !== undefined
        ? { versionId: out.VersionId, value: out.SecretString }
        : undefined;
    } catch (error) {
      // By name, as everywhere AWS errors are told apart: a bundle may hold two SDK copies.
      if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  };
}

export function createTokenVerifier(options: TokenVerifierOptions) {
  const now = options.now ?? (() => new Date());
  const cacheMs = options.cacheMs ?? 60_000;
  const sampleMs = options.sampleMs ?? 5 * 60_000;
  let cache: { at: number; staged: (Staged | undefined)[] } | undefined;
  const recorded = new Map<string, number>();

  const stagedOf = async (stage: string): Promise<Staged | undefined> => {
    const version = await options.read(stage);
    const token = version && tokenIn(version.value);
    if (!version || !token) return undefined;
    return { versionId: version.versionId, digest: digest(token), scopes: scopesOf(version.value) };
  };
  const load = async () => {
    const staged = await Promise.all([stagedOf(STAGE.current), stagedOf(STAGE.previous)]);
    cache = { at: now().getTime(), staged };
    return staged;
  };
  const record = async (versionId: string) => {
    const at = now();
    const last = recorded.get(versionId);
    if (!options.uses || (last !== undefined && at.getTime() - last < sampleMs)) return;
    recorded.set(versionId, at.getTime());
    try {
      await options.uses.record(options.secretArn, versionId, { at, by: options.consumer });
    } catch (error) {
      recorded.delete(versionId);
      options.onRecordError?.(error);
    }
  };

  /** The staged version `presented` matches (recording a use of the previous one), if any. */
  const check = async (presented: string): Promise<{ match: TokenMatch; version?: Staged }> => {
    const fresh = !cache || now().getTime() - cache.at >= cacheMs;
    let staged = fresh ? await load() : cache!.staged;
    let found = matchToken(presented, staged);
    // Neither: perhaps a rotation the cache has not seen yet. Read again, but not more than
    // every few seconds, so that invalid tokens cannot drive Secrets Manager calls.
    if (found < 0 && !fresh && now().getTime() - cache!.at >= MISS_RELOAD_MS) {
      staged = await load();
      found = matchToken(presented, staged);
    }
    if (found === 0) return { match: 'current', version: staged[0] };
    if (found === 1) {
      await record(staged[1]!.versionId);
      return { match: 'previous', version: staged[1] };
    }
    return { match: 'invalid' };
  };

  return {
    /** Whether `presented` is the live token, the previous one (in grace), or neither. */
    async verify(presented: string): Promise<TokenMatch> {
      return (await check(presented)).match;
    },

    /**
     * Whether `presented` is a live token (current, or previous in grace) whose own version grants
     * `scope`: the check a service makes before doing what the request asks.
     */
    async authorize(presented: string, scope: string): Promise<Authorization> {
      const { match, version } = await check(presented);
      if (!version) return { match, allowed: false, reason: 'invalid-token' };
      if (version.scopes === undefined) return { match, allowed: true, reason: 'unscoped' };
      const allowed = version.scopes.some((granted) => scopeCovers(granted, scope, 'exact'));
      return { match, allowed, reason: allowed ? 'granted' : 'scope-not-granted' };
    },
  };
}
