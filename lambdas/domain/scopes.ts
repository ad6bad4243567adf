// Declared scopes against actual scopes (SPEC "Scopes and lifespan ceiling"): what a token may do
// (the `token-rotation:scopes` tag) against what its issuer says it can do. One place for the
// comparison, the wildcard matching and the checks on an issuer's untrusted list of scopes; each
// kind reads its actual scopes its own way (kinds/<kind>/, the issuer's `scopesOf`).

import { createHash } from 'node:crypto';

// A scope name as issuers spell them: `repo`, `read:org`, `s3:GetObject`, `sqs:*`, or an OAuth URL
// scope. Anything else (quotes, commas, control characters) is refused rather than guessed at.
export const SCOPE_NAME = /^[A-Za-z0-9_.:*?/+=@-]{1,128}$/;
/** The most scopes an issuer's answer may report (an IAM user's policies can list many actions). */
export const MAX_REPORTED_SCOPES = 1000;

/**
 * How a kind's scopes compare. `exact`: names compared as written, case-sensitive, where a `*` in
 * a declared scope stands for any characters (`read:*`). `iam-actions`: IAM actions as IAM
 * matches them, case-insensitive, with `*` (any characters) and `?` (one character) wildcards;
 * a bare `*` is every action.
 */
export type ScopeMatching = 'exact' | 'iam-actions';

/** A list of scopes an issuer reported, checked (untrusted input), or why it was refused. */
export type ReportedScopes = { ok: true; scopes: string[] } | { ok: false; why: string };

/** Checks an issuer's reported scopes: an array of scope names, bounded. Duplicates are folded. */
export function readReportedScopes(value: unknown): ReportedScopes {
  if (!Array.isArray(value)) {
    const shape = value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value;
    return { ok: false, why: `expected an array of scope names, found ${shape}` };
  }
  if (value.length > MAX_REPORTED_SCOPES) {
    return {
      ok: false,
      why: `expected at most ${MAX_REPORTED_SCOPES} scopes, found ${value.length}`,
    };
  }
  const bad = value.findIndex((scope) => typeof scope !== 'string' || !SCOPE_NAME.test(scope));
  if (bad >= 0) {
    // The entry itself is not shown: an issuer's reply is untrusted and could hold anything.
    return {
      ok: false,
      why: `expected scope names (letters, digits and _ . : * ? / + = @ -, at most 128 characters), found entry ${bad + 1} that is not one`,
    };
  }
  return { ok: true, scopes: [...new Set(value as string[])] };
}

/**
 * Whether the declared pattern `declared` covers every scope the actual scope `actual` grants.
 * `actual` may be a pattern itself (`s3:*`): its wildcards are matched only by a declared `*`,
 * never by a literal or `?`, so a declared `s3:GetObject` or `s3:Get?bject` does not cover an
 * actual `s3:*`, while a declared `s3:*` or `*` does.
 */
export function scopeCovers(declared: string, actual: string, matching: ScopeMatching): boolean {
  const iam = matching === 'iam-actions';
  const d = iam ? declared.toLowerCase() : declared;
  const a = iam ? actual.toLowerCase() : actual;
  const wild = (c: string) => c === '*' || (iam && c === '?');
  // covers[i][j]: d from i covers a from j. Names are at most 128 characters: a small table.
  const memo = new Map<number, boolean>();
  const covers = (i: number, j: number): boolean => {
    const key = i * 1024 + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === d.length) result = j === a.length;
    else if (d[i] === '*') result = covers(i + 1, j) || (j < a.length && covers(i, j + 1));
    else if (j === a.length || wild(a[j]!)) result = false;
    else if (iam && d[i] === '?') result = covers(i + 1, j + 1);
    else result = d[i] === a[j] && covers(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return covers(0, 0);
}

/** The actual scopes no declared scope covers, in the order reported. */
export function extraScopes(
  declared: readonly string[],
  actual: readonly string[],
  matching: ScopeMatching,
): string[] {
  return actual.filter((scope) => !declared.some((d) => scopeCovers(d, scope, matching)));
}

/** Whether a scope is a wildcard (`*`, `s3:*`, `iam:Get?ser`): the extra it grants has no bound. */
export const isWildcard = (scope: string) => scope.includes('*') || scope.includes('?');

/** A token broader than its secret declares. */
export interface ScopeDrift {
  declared: string[];
  actual: string[];
  /** What the token can do beyond the declared scopes. */
  extra: string[];
  /** Some extra scope is a wildcard: the alert is critical. */
  wildcard: boolean;
  /** Identifies this drift (declared and extra): the same drift is alerted once, a change again. */
  incident: string;
}

/** Compares a token's actual scopes with the declared ones; undefined when it is not broader. */
export function scopeDrift(
  declared: readonly string[],
  actual: readonly string[],
  matching: ScopeMatching,
): ScopeDrift | undefined {
  const extra = extraScopes(declared, actual, matching);
  if (extra.length === 0) return undefined;
  const incident = createHash('sha256')
    .update(JSON.stringify([[...declared].sort(), [...extra].sort()]))
    .digest('hex')
    .slice(0, 16);
  return {
    declared: [...declared],
    actual: [...actual],
    extra,
    wildcard: extra.some(isWildcard),
    incident,
  };
}

/** Scopes as a person reads them in an alert, an audit record or the CLI: capped. */
export function formatScopes(scopes: readonly string[], max = 20): string {
  if (scopes.length === 0) return '(none)';
  const shown = scopes.slice(0, max).join(' ');
  return scopes.length > max ? `${shown} (and ${scopes.length - max} more)` : shown;
}

/** The digest of a declared scopes tag, as the sweep records the one it last checked. */
export function scopesDigest(tag: string): string {
  return createHash('sha256').update(tag).digest('hex').slice(0, 12);
}
