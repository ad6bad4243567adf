// The `random` kind (SPEC "Token kinds"): self-issued tokens your own service checks against
// the secret. Values are a bare token or a JSON object with a string field "token"; minting
// replaces only that field, so every other field (and the text around it) is carried over.

import { scrub, ValidationError } from '#domain/errors';
import type { Issuer, IssuerContext } from '#domain/ports';
import { readReportedScopes } from '#domain/scopes';
import { checkToken, fingerprint, mintToken, tokenDigest } from '#domain/tokens';

const EXPECTED = 'a token or a JSON object with a string field "token"';

/** A value understood: its token, and how to rebuild the value around another token. */
interface TokenValue {
  token: string;
  withToken(token: string): string;
}

/** The value's token, or a description of its shape (never its content) when it has none. */
function readValue(value: string): TokenValue | { found: string } {
  const trimmed = value.trim();
  if (trimmed === '') return { found: 'an empty value' };
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) {
    return { token: trimmed, withToken: (token) => token };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // JSON.parse's own message quotes the input: describe the value instead.
    return {
      found: `text starting with "${trimmed[0]}" that is not valid JSON (${value.length} characters)`,
    };
  }
  if (Array.isArray(parsed)) return { found: 'a JSON array' };
  const fields = parsed as Record<string, unknown>;
  const field = fields.token;
  if (typeof field !== 'string') {
    if (!Object.hasOwn(fields, 'token')) {
      return { found: `a JSON object without a string field "token" (${describeFields(fields)})` };
    }
    return { found: `a JSON object whose field "token" is ${describeType(field)}` };
  }
  if (field.trim() === '') return { found: 'a JSON object whose field "token" is an empty string' };
  const spans = tokenSpans(value);
  if (spans.length !== 1) {
    return { found: `a JSON object with ${spans.length} fields "token" (exactly one is expected)` };
  }
  const [start, end] = spans[0]!;
  return {
    token: field,
    withToken: (token) => value.slice(0, start) + JSON.stringify(token) + value.slice(end),
  };
}

function describeFields(fields: Record<string, unknown>): string {
  const names = Object.keys(fields);
  if (names.length === 0) return 'no fields';
  const shown = names
    .slice(0, 10)
    .map((name) => (name.length > 40 ? `${name.slice(0, 40)}…` : name));
  const more = names.length > shown.length ? ` and ${names.length - shown.length} more` : '';
  // Field names are not values, but a careless one could hold a credential: scrub them anyway.
  return scrub(`fields: ${shown.join(', ')}${more}`);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

function skipSpace(text: string, i: number): number {
  while (isSpace(text[i])) i++;
  return i;
}

function endOfString(text: string, i: number): number {
  let j = i + 1;
  while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}

function endOfValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return endOfString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    let j = i;
    for (;;) {
      const c = text[j];
      if (c === '"') {
        j = endOfString(text, j);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      if (c === '}' || c === ']') depth--;
      j++;
      if (depth === 0) return j;
    }
  }
  let j = i;
  while (j < text.length && !isSpace(text[j]) && !',}]'.includes(text[j]!)) j++;
  return j;
}

/**
 * Where the top-level "token" fields' values sit in `text` (already known to be valid JSON
 * with an object at the top), so a new token can be spliced in leaving every other byte as it
 * was: JSON.parse + JSON.stringify would round large numbers and drop the formatting.
 */
function tokenSpans(text: string, field = 'token'): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let i = skipSpace(text, 0) + 1;
  for (;;) {
    i = skipSpace(text, i);
    if (text[i] === '}') return spans;
    const keyEnd = endOfString(text, i);
    const key: unknown = JSON.parse(text.slice(i, keyEnd));
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1);
    const valueEnd = endOfValue(text, valueStart);
    if (key === field) spans.push([valueStart, valueEnd]);
    i = skipSpace(text, valueEnd);
    if (text[i] === ',') i++;
  }
}

function malformed(ctx: IssuerContext, step: string, role: string, found: string): ValidationError {
  return new ValidationError(
    ctx.secretName,
    step,
    `${role} value: expected ${EXPECTED}, found ${found}`,
    'malformed-value',
  );
}

/**
 * `value` (a JSON object) with its top-level `scopes` field set to `scopes`, every other byte as it
 * was: the field replaced where it is, or added at the end.
 */
function withScopes(value: string, scopes: readonly string[]): string {
  const written = JSON.stringify(scopes);
  const spans = tokenSpans(value, 'scopes');
  if (spans.length > 0) {
    // Duplicate keys: JSON.parse keeps the last, so that is the one consumers read.
    const [start, end] = spans[spans.length - 1]!;
    return value.slice(0, start) + written + value.slice(end);
  }
  const close = value.lastIndexOf('}');
  const before = value.slice(0, close).trimEnd();
  const empty = before.endsWith('{');
  return `${before}${empty ? '' : ','}"scopes":${written}${value.slice(before.length)}`;
}

/** The scopes a `random` value carries in its `scopes` field; undefined where it has none. */
function scopesIn(value: string, ctx: IssuerContext): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !Object.hasOwn(parsed, 'scopes'))
    return undefined;
  const read = readReportedScopes((parsed as { scopes: unknown }).scopes);
  if (!read.ok) {
    throw new ValidationError(
      ctx.secretName,
      'scopes',
      `version ${ctx.versionId} value's field "scopes": ${read.why}`,
      'malformed-value',
    );
  }
  return read.scopes;
}

/** The token a `random` value holds (bare, or its JSON field "token"); undefined when none. */
export function tokenIn(value: string): string | undefined {
  const read = readValue(value);
  return 'found' in read ? undefined : read.token;
}

/** Tokens this short are too likely to occur by chance in other fields to be worth checking. */
const MIN_TOKEN_TO_TRACE = 8;

export const randomIssuer: Issuer = {
  kind: 'random',

  async mint(ctx) {
    const current = readValue(ctx.current);
    if ('found' in current) throw malformed(ctx, 'createSecret', 'AWSCURRENT', current.found);
    // Keeps the old token's prefix only when it is a label; any other token mints with none.
    const token = mintToken(current.token);
    let next = current.withToken(token);
    if (ctx.scopes !== undefined) {
      // SPEC: a `random` value carries the declared scopes in its `scopes` field, which only a
      // JSON object has. A bare token is refused, not rewritten into an object its consumers
      // would not parse.
      if (next.trim() === token) {
        throw malformed(
          ctx,
          'createSecret',
          'AWSCURRENT',
          `a bare token, while token-rotation:scopes declares scopes (a JSON object with a string field "token" carries them in its field "scopes")`,
        );
      }
      next = withScopes(next, ctx.scopes);
    }
    // A carried-over field holding the old token would keep it in every new version, and a
    // `random` token counts as revoked only once no staged version holds it.
    if (current.token.length >= MIN_TOKEN_TO_TRACE && next.includes(current.token)) {
      throw new ValidationError(
        ctx.secretName,
        'createSecret',
        'AWSCURRENT value: expected the token only in the field "token", found it in another field too (it would be carried over into every new version)',
        'malformed-value',
      );
    }
    return next;
  },

  async verify(ctx) {
    const pending = readValue(ctx.pending);
    if ('found' in pending)
      throw malformed(ctx, 'testSecret', `AWSPENDING (version ${ctx.versionId})`, pending.found);
    const problem = checkToken(pending.token);
    if (problem) {
      throw new ValidationError(
        ctx.secretName,
        'testSecret',
        `AWSPENDING (version ${ctx.versionId}) token: ${problem}`,
        'malformed-token',
      );
    }
  },

  // The suite is the issuer: the token can do what its value's `scopes` field says.
  async scopesOf(ctx) {
    return scopesIn(ctx.value, ctx);
  },

  // Nothing to do at the issuer: a `random` token is revoked once no staged version holds it,
  // and removing the staging label is the caller's job.
  async revoke() {},
  revokedByUnstaging: true,

  // The kind's contract: the token is the bare value or its `token` field.
  tokenOf(value) {
    const read = readValue(value);
    return 'found' in read ? undefined : { id: tokenDigest(read.token), by: 'token field' };
  },

  secretToken(value) {
    const read = readValue(value);
    return 'found' in read || read.token === '' ? undefined : read.token;
  },

  name(value) {
    const read = readValue(value);
    // Only tokens we minted are known to be high-entropy; a short fingerprint of anything
    // weaker (a hand-set "changeme") could be reversed by guessing.
    if ('found' in read || checkToken(read.token) !== undefined) return 'unfingerprinted';
    return fingerprint(read.token);
  },
};
