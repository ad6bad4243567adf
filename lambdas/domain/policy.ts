// The policy tags of SPEC "Policy tags", parsed and validated in one place for every handler.
// An invalid policy is a value (the problems, each naming its tag), never an exception.
//
// Grammar (strict, so that what a person reads on the secret is exactly what is enforced):
//   lifespan  <n>h | <n>d             4h .. the stack's maxLifespan (default 30d, at most 365d)
//   grace     0m | <n>m | <n>h | <n>d  0m .. half the lifespan   (default 2h)
//   kind      a value one of the registered token kinds accepts (each kind's `parse`)
//   scopes    <scope>( <scope>)*       scope names, one space apart, no repeats
//   environment  [a-z0-9][a-z0-9._-]*  at most 32 characters (e.g. ci, staging, prod)
//   isolation    enforce
// <n> is a positive decimal integer without sign, spaces or leading zeros; zero is written `0m`
// only. Units and kind names are lower case: `7D` or `Random` are refused, not guessed at, because
// an invalid policy changes nothing and is alerted, while a guess could enforce the wrong thing.
import { createHash } from 'node:crypto';
import { DEFAULT_KIND, kindChoices, parseKindValue } from './kinds/registry.ts';
import { TAG } from './vocabulary.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export const MIN_LIFESPAN_MS = 4 * HOUR_MS;
/** The highest ceiling a stack may set: tokens live days, not years. */
export const MAX_LIFESPAN_MS = 365 * DAY_MS;
/** The stack's ceiling when it sets none (`maxLifespan`): days, not months. */
export const DEFAULT_MAX_LIFESPAN_MS = 30 * DAY_MS;
export const DEFAULT_GRACE_MS = 2 * HOUR_MS;

export interface Policy {
  /** Maximum age of the live token (AWSCURRENT). */
  lifespanMs: number;
  /** How long the previous token keeps working after a rotation. */
  graceMs: number;
  /**
   * How much longer a previous token still in use at the end of its grace may live, once: the
   * stack's graceExtensions times the grace, within the lifespan. 0: revoked at grace's end.
   */
  graceExtensionMs: number;
  /** The kind tag as `issuerFor` takes it (`random` when the tag is absent). */
  kind: string;
  /** For `lambda:<fn>`: the function name or ARN to invoke. */
  issuerFunction?: string;
  /** Set when `token-rotation:revoke` is present: the reason given, cleaned for display. */
  revokeReason?: string;
  /** The scopes `token-rotation:scopes` declares, in tag order; undefined when the tag is absent. */
  scopes?: string[];
  /** The secret's environment (`token-rotation:environment`), when tagged. */
  environment?: string;
  /** `token-rotation:isolation` = `enforce`: a shared token's less trusted copy is rotated at once. */
  isolation?: 'enforce';
  /** Fingerprint of the raw policy tag values (see `policyFingerprint`). */
  fingerprint: string;
}

/** What the stack sets for every secret's policy. */
export interface PolicyLimits {
  /** The longest lifespan a tag may ask for (the stack's `maxLifespan`). */
  maxLifespanMs: number;
  /**
   * How many more grace periods a previous token that consumers still use may live, once (the
   * stack's `graceExtensions`, 0 to 4; default 1). Never past its lifespan.
   */
  graceExtensions?: number;
}

export const DEFAULT_GRACE_EXTENSIONS = 1;
export const MAX_GRACE_EXTENSIONS = 4;

export const DEFAULT_LIMITS: PolicyLimits = { maxLifespanMs: DEFAULT_MAX_LIFESPAN_MS };

/** One thing wrong with one policy tag, in words a person can act on. */
export interface PolicyProblem {
  tag: string;
  /** The value found, cleaned for display (control characters removed, length capped). */
  found: string;
  /** What the tag accepts. */
  allowed: string;
  /** One line: `<tag> is "<found>": <why>; allowed: <allowed>`. */
  message: string;
}

export type PolicyResult =
  | { ok: true; policy: Policy }
  | { ok: false; optedOut: true }
  | { ok: false; optedOut?: false; problems: PolicyProblem[]; fingerprint: string };

/** What parsing needs of a secret: its tags (the ARN and name only label the result). */
export interface TaggedSecret {
  arn?: string;
  name?: string;
  tags: Record<string, string | undefined>;
}

const ALLOWED = {
  lifespan: (limits: PolicyLimits) =>
    `<n>h or <n>d, from 4h to ${formatDuration(limits.maxLifespanMs)} (e.g. 7d)`,
  grace: '<n>m, <n>h or <n>d, from 0m to half the lifespan (e.g. 2h)',
  environment:
    'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit, at most 32 characters (e.g. ci, staging, prod)',
  isolation: 'enforce',
  scopes: `scope names (letters, digits and ${'_ . : * / + = @ -'}, at most 128 characters each) one space apart, at most 50, no repeats (e.g. "s3:GetObject sqs:SendMessage")`,
} as const;

const UNIT_MS = { m: MINUTE_MS, h: HOUR_MS, d: DAY_MS } as const;
const MAX_SHOWN = 64;

/** A tag value made safe to show in an alert or audit record: no control or format characters, capped. */
export function displayValue(value: string, max = MAX_SHOWN): string {
  const clean = value.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '');
  const chars = [...clean];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : clean;
}

function problem(tag: string, value: string, why: string, allowed: string): PolicyProblem {
  const found = displayValue(value);
  return { tag, found, allowed, message: `${tag} is "${found}": ${why}; allowed: ${allowed}` };
}

/** Why a duration's text is malformed, or undefined when it is well formed. */
function durationSyntax(value: string, units: string): string | undefined {
  if (value === '') return 'empty';
  if (/\s/.test(value)) return 'contains spaces';
  if (/^[+-]/.test(value)) return 'has a sign';
  if (/[.,]/.test(value)) return 'not a whole number';
  const match = /^(\d+)([a-zA-Z]+)$/.exec(value);
  if (!match) return 'not a number followed by a unit';
  const [, digits, unit] = match as unknown as [string, string, string];
  if (!units.includes(unit.toLowerCase()) || unit.length !== 1)
    return `unknown unit "${displayValue(unit, 8)}"`;
  if (unit !== unit.toLowerCase()) return 'units are lower case';
  if (digits.length > 1 && digits.startsWith('0')) return 'leading zero';
  if (digits.length > 9) return 'too large';
  return undefined;
}

function parseDuration(value: string): number {
  const unit = value.slice(-1) as keyof typeof UNIT_MS;
  return Number(value.slice(0, -1)) * UNIT_MS[unit];
}

function parseLifespan(value: string, limits: PolicyLimits): number | PolicyProblem {
  const tag = TAG.lifespan;
  const allowed = ALLOWED.lifespan(limits);
  const bad = durationSyntax(value, 'hd');
  if (bad) return problem(tag, value, bad, allowed);
  const ms = parseDuration(value);
  if (ms < MIN_LIFESPAN_MS)
    return problem(tag, value, 'shorter than 4h, Secrets Manager’s fastest rotation', allowed);
  if (ms > limits.maxLifespanMs) {
    const ceiling = formatDuration(limits.maxLifespanMs);
    return problem(tag, value, `longer than the stack's maxLifespan (${ceiling})`, allowed);
  }
  return ms;
}

// A scope name as issuers spell them: `repo`, `read:org`, `s3:GetObject`, `sqs:*`, or an OAuth URL
// scope. Anything else (quotes, commas, control characters) is refused rather than guessed at.
const SCOPE = /^[A-Za-z0-9_.:*/+=@-]{1,128}$/;
const MAX_SCOPES = 50;

function parseScopes(value: string): string[] | PolicyProblem {
  const tag = TAG.scopes;
  if (value === '') return problem(tag, value, 'empty', ALLOWED.scopes);
  if (value !== value.trim())
    return problem(tag, value, 'leading or trailing space', ALLOWED.scopes);
  const scopes = value.split(' ');
  if (scopes.includes('')) return problem(tag, value, 'two spaces in a row', ALLOWED.scopes);
  const bad = scopes.find((scope) => !SCOPE.test(scope));
  if (bad !== undefined) {
    return problem(tag, value, `"${displayValue(bad, 32)}" is not a scope name`, ALLOWED.scopes);
  }
  if (scopes.length > MAX_SCOPES) return problem(tag, value, 'more than 50 scopes', ALLOWED.scopes);
  const repeated = scopes.find((scope, i) => scopes.indexOf(scope) !== i);
  if (repeated !== undefined) {
    return problem(tag, value, `"${displayValue(repeated, 32)}" is listed twice`, ALLOWED.scopes);
  }
  return scopes;
}

/**
 * The scopes a secret's tags declare, for the rotation (which has no stack limits to parse the
 * whole policy with): undefined without the tag; a problem when the tag is invalid.
 */
export function declaredScopes(
  tags: Record<string, string | undefined>,
): string[] | undefined | PolicyProblem {
  const tag = tags[TAG.scopes];
  return tag === undefined ? undefined : parseScopes(tag);
}

function parseGrace(
  value: string,
  lifespanMs: number | undefined,
  limits: PolicyLimits,
): number | PolicyProblem {
  const tag = TAG.grace;
  const bad = durationSyntax(value, 'mhd');
  if (bad) return problem(tag, value, bad, ALLOWED.grace);
  const ms = parseDuration(value);
  if (ms === 0 && value !== '0m') return problem(tag, value, 'zero is written 0m', ALLOWED.grace);
  // Without a valid lifespan, the widest grace any lifespan allows is still a bound worth checking.
  const limit = (lifespanMs ?? limits.maxLifespanMs) / 2;
  if (ms > limit) {
    const why =
      lifespanMs === undefined
        ? `longer than half of the stack's maxLifespan (${formatDuration(limits.maxLifespanMs)})`
        : `longer than half the lifespan (${formatDuration(limit)})`;
    return problem(tag, value, why, ALLOWED.grace);
  }
  return ms;
}

// The kinds read their own values (kinds/<kind>/index.ts); a value no kind claims is refused, and so
// is one some kind claims only once lower-cased.
function parseKind(value: string): { kind: string; issuerFunction?: string } | PolicyProblem {
  const tag = TAG.kind;
  const read = parseKindValue(value)?.value;
  if (read?.ok) {
    const { issuerFunction } = read;
    return { kind: value, ...(issuerFunction !== undefined && { issuerFunction }) };
  }
  if (read) return problem(tag, value, read.why, kindChoices());
  const why =
    value === ''
      ? 'empty'
      : parseKindValue(value.toLowerCase())
        ? 'kind names are lower case'
        : 'unknown kind';
  return problem(tag, value, why, kindChoices());
}

const ENVIRONMENT = /^[a-z0-9][a-z0-9._-]{0,31}$/;

/** `token-rotation:environment`: free text, but a word a person can read and rank (ci, prod). */
export function parseEnvironment(value: string): string | PolicyProblem {
  const tag = TAG.environment;
  if (value === '') return problem(tag, value, 'empty', ALLOWED.environment);
  if (value.length > 32)
    return problem(tag, value, 'longer than 32 characters', ALLOWED.environment);
  if (value !== value.toLowerCase())
    return problem(tag, value, 'not lower case', ALLOWED.environment);
  if (!ENVIRONMENT.test(value))
    return problem(tag, value, 'not an environment name', ALLOWED.environment);
  return value;
}

function parseIsolation(value: string): 'enforce' | PolicyProblem {
  return value === 'enforce'
    ? value
    : problem(TAG.isolation, value, 'not a known mode', ALLOWED.isolation);
}

/**
 * Stable fingerprint of the raw policy tag values (lifespan, kind, grace, scopes; absent and empty
 * differ). `policy.invalid` is alerted once per fingerprint, so once per distinct bad value, not
 * per sweep. A secret without a scopes tag keeps the fingerprint it had before scopes existed.
 */
export function policyFingerprint(tags: Record<string, string | undefined>): string {
  const raw: (string | null)[] = [TAG.lifespan, TAG.kind, TAG.grace].map(
    (key) => tags[key] ?? null,
  );
  if (tags[TAG.scopes] !== undefined) raw.push(tags[TAG.scopes] ?? null);
  // Like scopes: only when present, so an untagged secret keeps the fingerprint it had.
  for (const key of [TAG.environment, TAG.isolation]) {
    if (tags[key] !== undefined) raw.push(`${key}=${tags[key]}`);
  }
  return createHash('sha256').update(JSON.stringify(raw)).digest('hex').slice(0, 16);
}

/**
 * Parses a secret's policy tags under the stack's limits. No lifespan tag means the secret has not
 * opted in.
 */
export function parsePolicy(
  secret: TaggedSecret,
  limits: PolicyLimits = DEFAULT_LIMITS,
): PolicyResult {
  const { tags } = secret;
  const lifespanTag = tags[TAG.lifespan];
  if (lifespanTag === undefined) return { ok: false, optedOut: true };
  const fingerprint = policyFingerprint(tags);
  const problems: PolicyProblem[] = [];

  const lifespan = parseLifespan(lifespanTag, limits);
  const lifespanMs = typeof lifespan === 'number' ? lifespan : undefined;
  if (typeof lifespan !== 'number') problems.push(lifespan);

  const graceTag = tags[TAG.grace];
  const grace =
    graceTag === undefined ? DEFAULT_GRACE_MS : parseGrace(graceTag, lifespanMs, limits);
  if (typeof grace !== 'number') problems.push(grace);
  // The default grace (2h) is always within half of the 4h minimum lifespan.

  const kindTag = tags[TAG.kind];
  const kind = kindTag === undefined ? { kind: DEFAULT_KIND } : parseKind(kindTag);
  if ('tag' in kind) problems.push(kind);

  const scopesTag = tags[TAG.scopes];
  const scopes = scopesTag === undefined ? undefined : parseScopes(scopesTag);
  if (scopes !== undefined && !Array.isArray(scopes)) problems.push(scopes);

  const environmentTag = tags[TAG.environment];
  const environment = environmentTag === undefined ? undefined : parseEnvironment(environmentTag);
  if (typeof environment === 'object') problems.push(environment);
  const isolationTag = tags[TAG.isolation];
  const isolation = isolationTag === undefined ? undefined : parseIsolation(isolationTag);
  if (typeof isolation === 'object') problems.push(isolation);

  if (
    problems.length > 0 ||
    lifespanMs === undefined ||
    typeof grace !== 'number' ||
    'tag' in kind ||
    (scopes !== undefined && !Array.isArray(scopes)) ||
    typeof environment === 'object' ||
    typeof isolation === 'object'
  ) {
    return { ok: false, problems, fingerprint };
  }
  const revokeTag = tags[TAG.revoke];
  const extensions = limits.graceExtensions ?? DEFAULT_GRACE_EXTENSIONS;
  const graceExtensionMs = Math.max(0, Math.min(grace * extensions, lifespanMs - grace));
  const policy: Policy = {
    lifespanMs,
    graceMs: grace,
    graceExtensionMs,
    kind: kind.kind,
    fingerprint,
  };
  if (kind.issuerFunction !== undefined) policy.issuerFunction = kind.issuerFunction;
  if (scopes !== undefined) policy.scopes = scopes;
  if (typeof environment === 'string') policy.environment = environment;
  if (typeof isolation === 'string') policy.isolation = isolation;
  if (revokeTag !== undefined) policy.revokeReason = displayValue(revokeTag, 256);
  return { ok: true, policy };
}

/** A duration in the tags' own notation, largest exact unit first (`7d`, `36h`, `90m`). */
/** An age or elapsed time as a person reads it: `35d 2h`, `5h 12m`, `40m`. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / MINUTE_MS);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  return hours > 0 ? `${hours}h ${minutes % 60}m` : `${minutes}m`;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0m';
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS}m`;
  return `${Math.round(ms / 1000)}s`;
}
