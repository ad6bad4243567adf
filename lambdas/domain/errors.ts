// Errors a person can act on: the secret, the step, what was expected, what was found.
// A message here never carries a secret value; `scrub` is the last line of defence for
// messages that come from elsewhere (the SDK, JSON.parse, an issuer).
//
// One hierarchy: every error the domain acts on is a DomainError with a stable `code`. The
// adapters translate AWS's errors into these, so no domain code matches error names or message
// text. A translated error keeps the AWS error's `name` and message (what a person reads, and
// what `describeError` prints, is unchanged) and the original as its `cause`.

import type { FailureReason } from './vocabulary.ts';

export const ERROR_CODES = [
  /** The secret, version or item does not exist. */
  'not-found',
  /** A version with this ID (ClientRequestToken) already holds a value. */
  'already-exists',
  /** A staging label is not on the version named, or is on another one: someone moved it. */
  'stage-conflict',
  /** A listing's continuation token is stale or foreign. */
  'invalid-next-token',
  /** The service refused the request as it stands (a rotation already in progress, a bad parameter). */
  'invalid-request',
  /** A conditional write lost to another writer. */
  'conflict',
  /** Too many requests: retry later. */
  'throttled',
  /** A custom issuer did not answer within its deadline. */
  'issuer-timeout',
  /** A rotation step, revoke or request failed for a reason of its own (RotationError.reason). */
  'rotation-failed',
  /** Input refused: a bad event, tag or secret value. Never retried into success. */
  'validation',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

/** What a translated error keeps of the original: its name, HTTP metadata and the error itself. */
export interface Translated {
  /** The AWS error's name (`ResourceNotFoundException`), kept so messages read the same. */
  name?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** An error of the AWS layer, in the domain's words; see the header. */
abstract class ServiceError extends DomainError {
  readonly $metadata?: { httpStatusCode?: number };
  constructor(message: string, defaultName: string, from: Translated = {}) {
    super(message, from.cause === undefined ? undefined : { cause: from.cause });
    this.name = from.name ?? defaultName;
    if (from.$metadata) this.$metadata = from.$metadata;
  }
}

/** A ServiceError class with its stable code and the AWS error name it stands for by default. */
function serviceError<C extends ErrorCode>(code: C, defaultName: string) {
  return class extends ServiceError {
    readonly code: C = code;
    constructor(message: string, from?: Translated) {
      super(message, defaultName, from);
    }
  };
}

export class NotFoundError extends serviceError('not-found', 'ResourceNotFoundException') {}

export class AlreadyExistsError extends serviceError('already-exists', 'ResourceExistsException') {}

/** A staging label was not where the request said (not attached to, or attached to another version). */
export class StageConflictError extends serviceError(
  'stage-conflict',
  'InvalidParameterException',
) {}

export class InvalidNextTokenError extends serviceError(
  'invalid-next-token',
  'InvalidNextTokenException',
) {}

export class InvalidRequestError extends serviceError(
  'invalid-request',
  'InvalidRequestException',
) {}

export class ConflictError extends serviceError('conflict', 'ConditionalCheckFailedException') {}

export class ThrottledError extends serviceError('throttled', 'ThrottlingException') {}

/** A custom issuer's function outlived its deadline; the custom issuer names it `issuer-timeout`. */
export class IssuerTimeoutError extends serviceError('issuer-timeout', 'IssuerTimeout') {}

/** The names AWS services give "too many requests" (retry later), whichever layer meets them. */
export const THROTTLE_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
]);

/** The error's stable code, where it is one of ours. */
export const errorCode = (error: unknown): ErrorCode | undefined =>
  error instanceof DomainError ? error.code : undefined;

export class RotationError extends DomainError {
  override readonly name: string = 'RotationError';
  readonly code: ErrorCode = 'rotation-failed';
  constructor(
    readonly secret: string,
    readonly step: string,
    message: string,
    /**
     * A machine-readable reason, stable across versions (audit `reason` field). Any string
     * still compiles until every thrower names a FailureReason.
     */
    readonly reason: FailureReason | (string & {}) = 'invalid',
  ) {
    super(`${secret}: ${step}: ${message}`);
  }
}

/** Input we refuse: a bad event, tag or secret value. Never retried into success. */
export class ValidationError extends RotationError {
  override readonly name = 'ValidationError';
  override readonly code: ErrorCode = 'validation';
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
 * plus each leaf as it appears escaped inside JSON text. A top-level `token` field is the token
 * itself (the field the kinds' contracts name), so it counts whatever its length.
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
  const walk = (node: unknown, anyLength = false): void => {
    if (typeof node === 'string') {
      if (node.trim() === '' || (node.length < MIN_SECRET_PART_LENGTH && !anyLength)) return;
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
      if (!(typeof item === 'string' && isIdentifier(key, item))) walk(item, key === 'token');
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

/** A known value's prefix of this many characters or more is redacted wherever it appears. */
export const MIN_PREFIX_LENGTH = 8;

// How an error may spell one character of a known value. Issuers echo tokens from query strings
// (percent-encoded, in either case, `+` for a space, sometimes encoded twice), inside JSON (at
// any depth of escaping, `\uXXXX` for any character), and as they are. A regex per character,
// so a prefix is found by extending a match one character at a time.
/** Hex digits matched in either case. */
const anyCase = (hex: string) => hex.replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
const hexByte = (byte: number) => anyCase(byte.toString(16).padStart(2, '0'));
const percentOf = (ch: string) =>
  [...Buffer.from(ch, 'utf8')].map((byte) => `%(?:25)*${hexByte(byte)}`).join('');
const jsonUnicodeOf = (ch: string) =>
  [...ch].length === 1
    ? Array.from(
        { length: ch.length },
        (_, i) => `\\\\+u${anyCase(ch.charCodeAt(i).toString(16).padStart(4, '0'))}`,
      ).join('')
    : '';
const JSON_SHORT: Record<string, string> = {
  '\b': 'b',
  '\f': 'f',
  '\n': 'n',
  '\r': 'r',
  '\t': 't',
};
const textUnitCache = new Map<string, string>();
function textUnit(ch: string): string {
  const cached = textUnitCache.get(ch);
  if (cached !== undefined) return cached;
  let unit: string;
  if (/^\s+$/u.test(ch)) {
    // A run of white space is one unit, matched at any length: describeError folds it to one space.
    const each = [...new Set(ch)].flatMap((c) => [percentOf(c), jsonUnicodeOf(c)]);
    unit = `(?:${['\\s', '\\+', '\\\\+[bfnrt]', ...each].join('|')})+`;
  } else if (/^\\+$/.test(ch)) {
    // A run of backslashes is one unit too, at any depth of escaping: two units that could each
    // take any number of them would make a failed match try every split of a long run.
    unit = `(?:\\\\|${percentOf('\\')}|${jsonUnicodeOf('\\')})+`;
  } else {
    const ways: string[] = [];
    if (ch === '"' || ch === '/') ways.push(`\\\\*${escapeRegExp(ch)}`);
    else if (JSON_SHORT[ch]) ways.push(`\\\\+${JSON_SHORT[ch]}`, escapeRegExp(ch));
    else ways.push(escapeRegExp(ch));
    ways.push(percentOf(ch));
    const unicode = jsonUnicodeOf(ch);
    if (unicode) ways.push(unicode);
    unit = `(?:${ways.join('|')})`;
  }
  textUnitCache.set(ch, unit);
  return unit;
}
/** The value as characters, a run of white space or of backslashes being one. */
const charsOf = (value: string) => value.match(/\s+|\\+|[\s\S]/gu) ?? [];

/**
 * The base64 digits that depend on the value's bytes alone, with the value at each of the three
 * byte offsets it can have inside a longer encoded text (a Basic auth header, a JWT, a blob).
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    if (end - first > 0) cores.push(encoded.slice(first, end));
  }
  return cores;
}
// base64 and base64url in one: a digit of either alphabet, the standard one percent-encoded too.
const base64Unit = (digit: string) => {
  if (digit === '+') return '(?:\\+|-|%2[bB])';
  if (digit === '/') return '(?:\\\\*/|_|%2[fF])';
  return digit;
};
const BASE64_TAIL = '(?:[A-Za-z0-9+/_-]?(?:=|%3[dD]){0,2})';

/** One way a known value may be written, as a regex per character (or per digit). */
interface Form {
  units: string[];
  /** Units that must match before a match counts: a prefix's length, or every unit. */
  head: number;
  /** A short value is only redacted where it stands as a word of its own. */
  word: boolean;
  /** What may follow a whole match of this form (base64 padding and its last digit). */
  tail?: string;
}

/** Fields the kinds' contracts hold a token in: `token` (random, custom issuers), `secretAccessKey` (IAM). */
const TOKEN_FIELDS = new Set(['token', 'secretAccessKey']);

/**
 * The leaves of a JSON value that are not tokens (an owner, a note, scopes), with their escaped
 * forms: found whole in every encoding, but not by prefix, or "payments" in a reason would go
 * for an owner "payments-team". Token fields and credential-shaped leaves are tokens.
 */
function plainLeaves(value: string): string[] {
  if (!/^\s*[{[]/.test(value)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [];
  }
  const plain: string[] = [];
  const walk = (node: unknown, key?: string): void => {
    if (typeof node === 'string') {
      if (key !== undefined && TOKEN_FIELDS.has(key)) return;
      if (credentialRuns(node).length > 0 || (node.match(MIXED_RUN) ?? []).some(looksMixed)) return;
      plain.push(node, JSON.stringify(node).slice(1, -1));
    } else if (Array.isArray(node)) {
      for (const item of node) walk(item);
    } else if (typeof node === 'object' && node !== null) {
      for (const [k, item] of Object.entries(node)) walk(item, k);
    }
  };
  walk(parsed);
  return plain;
}

function formsOf(value: string, prefixesAllowed: boolean): Form[] {
  const chars = charsOf(value);
  const word = value.length < MIN_SECRET_PART_LENGTH;
  // A JSON document is not a token: its leaves are (secretParts), each in every form; the
  // document itself is found as it is.
  if (/^\s*[{[]/.test(value) && isJson(value)) {
    return [{ units: [escapeRegExp(value)], head: 1, word: false }];
  }
  const prefixes = prefixesAllowed && [...value].length >= MIN_PREFIX_LENGTH;
  // Units covering MIN_PREFIX_LENGTH characters (a run of white space is one unit of many).
  let covered = 0;
  let prefixUnits = 0;
  while (covered < MIN_PREFIX_LENGTH && prefixUnits < chars.length) {
    covered += [...chars[prefixUnits++]!].length;
  }
  const head = (units: number, min: number) => (prefixes ? Math.min(min, units) : units);
  const forms: Form[] = [
    { units: chars.map(textUnit), head: head(chars.length, prefixUnits), word },
    {
      units: chars.map((ch) => [...Buffer.from(ch, 'utf8')].map((byte) => hexByte(byte)).join('')),
      head: head(chars.length, prefixUnits),
      word,
    },
  ];
  const bytes = Buffer.from(value, 'utf8');
  // A prefix of MIN_PREFIX_LENGTH characters fills at least this many whole base64 digits.
  const minDigits = Math.floor((8 * MIN_PREFIX_LENGTH) / 6);
  base64Cores(bytes).forEach((core, offset) => {
    // A short value's digits at other offsets are too few to tell from ordinary text.
    if (offset > 0 && !prefixes) return;
    const units = [...core].map(base64Unit);
    forms.push({ units, head: head(units.length, minDigits), word, tail: BASE64_TAIL });
  });
  return forms;
}

function isJson(value: string): boolean {
  try {
    JSON.parse(value);
    return true;
  } catch {
    return false;
  }
}

/** A form's regexes, compiled once: the head (global) and each further unit (sticky). */
interface CompiledForm {
  head: RegExp;
  rest: RegExp[];
  tail?: RegExp;
}

// One character's regex is the same for every value: compiled once (V8 compiles a regex on its
// first runs, which costs more than the run itself).
const unitRegExps = new Map<string, RegExp>();
function unitRegExp(unit: string): RegExp {
  let re = unitRegExps.get(unit);
  if (re === undefined) {
    re = new RegExp(unit, 'y');
    if (unitRegExps.size < 4096) unitRegExps.set(unit, re);
  }
  return re;
}

function compile(form: Form): CompiledForm | undefined {
  if (form.units.length === 0) return undefined;
  const whole = form.head === form.units.length;
  const before = form.word ? '(?<![A-Za-z0-9])' : '';
  const after = form.word && whole ? '(?![A-Za-z0-9])' : '';
  const tail = whole && form.tail ? form.tail : '';
  return {
    head: new RegExp(`${before}${form.units.slice(0, form.head).join('')}${tail}${after}`, 'g'),
    rest: form.units.slice(form.head).map(unitRegExp),
    ...(form.tail && !whole ? { tail: new RegExp(form.tail, 'y') } : {}),
  };
}

// Compiled forms of the values scrubbed lately: one invocation scrubs the same few values in
// every message it writes. Small, so it holds no more than an invocation's worth.
const compiled = new Map<string, CompiledForm[]>();
const COMPILED_KEPT = 32;
function compiledFormsOf(value: string, prefixes: boolean): CompiledForm[] {
  const key = `${prefixes ? 'token' : 'plain'}:${value}`;
  let forms = compiled.get(key);
  if (forms === undefined) {
    forms = formsOf(value, prefixes)
      .map(compile)
      .filter((f): f is CompiledForm => f !== undefined);
    if (compiled.size >= COMPILED_KEPT) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, forms);
  }
  return forms;
}

/** Replaces every match of `form` (its head, extended as far as the value goes) in `text`. */
function redactForm(text: string, form: CompiledForm): string {
  let out = '';
  let last = 0;
  form.head.lastIndex = 0;
  for (let match = form.head.exec(text); match !== null; match = form.head.exec(text)) {
    let end = match.index + match[0].length;
    let extended = form.rest.length === 0;
    for (const [i, unit] of form.rest.entries()) {
      unit.lastIndex = end;
      if (!unit.test(text)) break;
      end = unit.lastIndex;
      extended = i === form.rest.length - 1;
    }
    if (extended && form.tail) {
      form.tail.lastIndex = end;
      if (form.tail.test(text)) end = form.tail.lastIndex;
    }
    out += `${text.slice(last, match.index)}[redacted]`;
    last = end;
    form.head.lastIndex = end;
  }
  return out + text.slice(last);
}

/**
 * Removes secret material from a message: every value in `known` (values read or minted during
 * this invocation; each is expanded by secretParts) and anything shaped like a credential.
 * JSON.parse, for one, quotes its input. A known value is found raw, percent-encoded,
 * JSON-escaped, in hex and in base64 or base64url, and so is any prefix of MIN_PREFIX_LENGTH or
 * more of its characters (a message cut short). Known values shorter than
 * MIN_SECRET_PART_LENGTH are redacted where they stand as a word of their own, so a short value
 * does not shred every word containing it.
 */
export function scrub(message: string, known: Iterable<string> = []): string {
  let out = message;
  const values = new Set<string>();
  const plain = new Set<string>();
  for (const value of known) {
    if (value.trim() === '') continue;
    for (const part of secretParts(value)) if (part.trim() !== '') values.add(part);
    for (const leaf of plainLeaves(value)) plain.add(leaf);
  }
  // Longest first, so a field redacted inside its whole value leaves nothing of the value behind.
  const sorted = [...values].sort((a, b) => b.length - a.length);
  for (const value of sorted) {
    for (const form of compiledFormsOf(value, !plain.has(value))) out = redactForm(out, form);
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
