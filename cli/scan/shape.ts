// What `token-rotation scan` looks for in text (SPEC "Leak scan"): the suite's own `random`
// tokens, recognised with no lookup by their shape and checksum (#domain/tokens), and, for the
// index lookup, every candidate string of token shape. Returns the strings themselves only to
// the scanner's memory: nothing here prints, and the callers never show them.
import { checkToken, TOKEN_PATTERN } from '#domain/tokens';

/** Token shape: the characters of API tokens, base64 and base64url, AWS secret access keys. */
export const SHAPE_CHARS = 'A-Za-z0-9_+/=.-';
export const MIN_CANDIDATE_LENGTH = 16;
export const MAX_CANDIDATE_LENGTH = 512;
/** Distinct characters a candidate needs: rules out `================` and `aaaaBBBB11112222`-like filler. */
export const MIN_DISTINCT_CHARACTERS = 8;

const RUN = new RegExp(`[${SHAPE_CHARS}]{${MIN_CANDIDATE_LENGTH},}`, 'g');
/** A JSON string literal that holds an escape (`\/` in an AWS key, `\u002b`): read as JSON reads it. */
const ESCAPED_STRING = /"((?:[^"\\\n]|\\.){16,1100})"/g;

/**
 * Whether `text` has token shape: 16 to 512 characters of [A-Za-z0-9_+/=.-], at least two of
 * upper-case letters, lower-case letters and digits, and at least 8 distinct characters.
 */
export function hasTokenShape(text: string): boolean {
  if (text.length < MIN_CANDIDATE_LENGTH || text.length > MAX_CANDIDATE_LENGTH) return false;
  const classes = Number(/[A-Z]/.test(text)) + Number(/[a-z]/.test(text)) + Number(/\d/.test(text));
  if (classes < 2) return false;
  return new Set(text).size >= MIN_DISTINCT_CHARACTERS;
}

/** One string found in a text, with the line it starts on (1-based). Held in memory only. */
export interface Occurrence {
  value: string;
  line: number;
}

/** Line numbers of offsets into one text, computed once per text and only when needed. */
class Lines {
  private starts: number[] | undefined;
  constructor(private readonly text: string) {}
  at(offset: number): number {
    if (!this.starts) {
      this.starts = [0];
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) {
        this.starts.push(i + 1);
      }
    }
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

/** Self-issued `random` tokens in `text`: TOKEN_PATTERN matches whose checksum holds. */
export function selfIssuedTokens(text: string): Occurrence[] {
  const found: Occurrence[] = [];
  let lines: Lines | undefined;
  for (const match of text.matchAll(TOKEN_PATTERN)) {
    if (checkToken(match[0]) !== undefined) continue;
    lines ??= new Lines(text);
    found.push({ value: match[0], line: lines.at(match.index) });
  }
  return found;
}

/**
 * Every candidate string of token shape in `text` (see hasTokenShape), for the index lookup:
 * each maximal run of shape characters; the value of an assignment inside a run (`KEY=value`,
 * `?token=value`), with trailing dots (end of a sentence) and `=`-less runs' edges trimmed; and
 * the content of JSON string literals with escapes, unescaped. Duplicates on a line are dropped.
 */
export function candidateStrings(text: string): Occurrence[] {
  const found: Occurrence[] = [];
  const seen = new Set<string>();
  const lines = new Lines(text);
  const add = (value: string, offset: number) => {
    if (!hasTokenShape(value)) return;
    const line = lines.at(offset);
    const key = `${line}\n${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    found.push({ value, line });
  };
  for (const match of text.matchAll(RUN)) {
    const run = match[0];
    add(run, match.index);
    const trimmed = run.replace(/\.+$/, '');
    if (trimmed !== run) add(trimmed, match.index);
    // `NAME=value`: the value after the first "=" that is not base64 padding.
    const assign = /^[^=]*?[A-Za-z0-9_.-]=(?=[^=])/.exec(trimmed);
    if (assign) add(trimmed.slice(assign[0].length), match.index + assign[0].length);
  }
  for (const match of text.matchAll(ESCAPED_STRING)) {
    if (!match[1]!.includes('\\')) continue;
    let inner: unknown;
    try {
      inner = JSON.parse(`"${match[1]}"`);
    } catch {
      continue;
    }
    if (typeof inner !== 'string') continue;
    for (const sub of inner.matchAll(RUN)) add(sub[0], match.index);
  }
  return found;
}

/** Whether `text` looks binary: a NUL byte in its first 8,000 bytes, as git decides. */
export function isBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8000);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}
