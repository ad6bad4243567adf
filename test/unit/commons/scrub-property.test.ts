// scrub and describeError against generated tokens and the ways real errors echo them: whatever
// a token's shape and whatever its encoding, no known token of the secret survives, in whole or
// as a prefix of 8 or more characters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeError, MIN_PREFIX_LENGTH, scrub, secretParts } from '#domain/errors';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PUNCTUATION = '!@#$%^&*()-_=+[]{};:,.<>?/\\|~`\'" ';

const chars = (alphabet: string, minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });

/** Token shapes people and vendors use. */
const token = fc
  .oneof(
    // Hand-set: short, with punctuation (a password someone typed into the console).
    fc
      .tuple(
        chars(`${BASE62}${PUNCTUATION}`, 1, 10),
        chars(PUNCTUATION, 1, 2),
        chars('0123456789', 1, 2),
      )
      .map(([a, b, c]) => `${a}${b}${c}`),
    // Vendor-prefixed (acme_live_…, ghp_…, xoxb-…).
    fc
      .tuple(fc.constantFrom('acme_live_', 'ghp_', 'sk_test_', 'xoxb-1234-'), chars(BASE62, 8, 49))
      .map(([prefix, body]) => prefix + body),
    // Bare base62 API keys.
    chars(BASE62, 8, 64),
    // Unicode, with spaces and emoji.
    fc
      .tuple(fc.string({ unit: 'grapheme', minLength: 3, maxLength: 16 }), chars(BASE62, 2, 8))
      .map(([a, b]) => `${b}${a}`),
  )
  .filter((t) => t.trim() !== '');

/** How a secret's value holds its token. */
const secretValue = (t: string, shape: 'bare' | 'json') =>
  shape === 'bare' ? t : JSON.stringify({ token: t, owner: 'payments-team' });

const toBase64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const lowerPercent = (text: string) =>
  encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
const jsonAscii = (text: string) =>
  JSON.stringify(text)
    .slice(1, -1)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** The encodings an issuer's error may carry a token in. */
const ENCODINGS: Record<string, (text: string) => string> = {
  raw: (t) => t,
  encodeURIComponent: (t) => encodeURIComponent(t),
  encodeURI: (t) => encodeURI(t),
  'percent, lower case': lowerPercent,
  'form encoding': (t) => new URLSearchParams({ k: t }).toString().slice(2),
  'percent, twice': (t) => encodeURIComponent(encodeURIComponent(t)),
  base64: toBase64,
  'base64, unpadded': (t) => toBase64(t).replace(/=+$/, ''),
  base64url: (t) => Buffer.from(t, 'utf8').toString('base64url'),
  'JSON-escaped': (t) => JSON.stringify(t).slice(1, -1),
  'JSON-escaped, ASCII only': jsonAscii,
  'JSON-escaped twice': (t) => JSON.stringify(JSON.stringify(t)).slice(1, -1),
  'hex, lower case': (t) => Buffer.from(t, 'utf8').toString('hex'),
  'hex, upper case': (t) => Buffer.from(t, 'utf8').toString('hex').toUpperCase(),
};

/** Text around the echoed token, as issuers and proxies write it. */
const SURROUNDINGS = [
  (e: string) => `GET /v1/keys?api_key=${e}&format=json returned 401`,
  (e: string) => `{"error":"invalid_token","token":"${e}"}`,
  (e: string) => `upstream rejected ${e}`,
  (e: string) => `Authorization: Bearer ${e} (expired)`,
  (e: string) => e,
];

const codePoints = (text: string) => [...text];

/** What a person could read of `echoed`: scrub's and describeError's output. */
function outputs(echoed: string, known: string[]): string[] {
  return [scrub(echoed, known), describeError(new Error(echoed), known)];
}

/** `form` appears in `out` (describeError folds white space, so compare folded too). */
const survives = (out: string, form: string) =>
  out.includes(form) || out.includes(form.replace(/\s+/g, ' ').trim());

describe('scrub, for every token shape and encoding', () => {
  it('leaves no known token (current, previous or pending) in any encoding, in whole or as a prefix of 8+ characters', () => {
    fc.assert(
      fc.property(
        fc.array(token, { minLength: 3, maxLength: 3 }),
        fc.nat({ max: 2 }),
        fc.constantFrom('bare', 'json') as fc.Arbitrary<'bare' | 'json'>,
        fc.constantFrom(...Object.keys(ENCODINGS)),
        fc.constantFrom(...SURROUNDINGS),
        fc.option(fc.nat(), { nil: undefined }),
        (tokens, which, shape, encoding, surround, cut) => {
          // Prepare: the secret's three staged values, remembered as the code does (secretParts);
          // one token echoed, maybe cut short.
          const known = tokens.map((t) => secretValue(t, shape)).flatMap(secretParts);
          const echoedToken = tokens[which]!;
          const points = codePoints(echoedToken);
          const length =
            cut === undefined || points.length < MIN_PREFIX_LENGTH
              ? points.length
              : MIN_PREFIX_LENGTH + (cut % (points.length - MIN_PREFIX_LENGTH + 1));
          const shown = points.slice(0, length).join('');
          const form = ENCODINGS[encoding]!(shown);
          const text = surround(form);
          // The surrounding words themselves are no echo of the token.
          fc.pre(!surround('').includes(form) && !surround('').includes(shown));

          // Act
          for (const out of outputs(text, known)) {
            // Assess
            expect(survives(out, form), `${encoding} of ${JSON.stringify(shown)} in ${out}`).toBe(
              false,
            );
            if (shown.trim().length >= MIN_PREFIX_LENGTH || form === shown) {
              expect(survives(out, shown), `${JSON.stringify(shown)} in ${out}`).toBe(false);
            }
          }
        },
      ),
      { numRuns: 300, seed: 20_261_202 },
    );
    // Generous: each run compiles the forms of nine new values, slow on a loaded machine.
  }, 300_000);

  it('leaves no token inside a longer base64 text (a Basic auth header) at any byte offset', () => {
    fc.assert(
      fc.property(
        token.filter((t) => codePoints(t).length >= 12),
        chars(BASE62, 0, 7),
        (t, user) => {
          // Prepare: base64 of "user:token", as a proxy echoes an Authorization header.
          const header = `Authorization: Basic ${toBase64(`${user}:${t}`)}`;

          // Act
          const out = scrub(header, secretParts(t));

          // Assess: decoding what is left at each offset finds no 8 characters of the token.
          const digits = out.match(/[A-Za-z0-9+/]{4,}/g) ?? [];
          for (const run of digits) {
            for (const start of [0, 1, 2, 3]) {
              const decoded = Buffer.from(run.slice(start), 'base64').toString('utf8');
              expect(decoded).not.toContain(t.slice(0, MIN_PREFIX_LENGTH));
            }
          }
        },
      ),
      { numRuns: 300, seed: 20_261_202 },
    );
  }, 300_000);

  it('keeps ordinary words readable around a short hand-set token', () => {
    // Prepare
    const text =
      'issuer rejected key=p%405s%21 (p@5s!) in eu-west-1; p@5sword is fine; ask the payments channel';
    const value = JSON.stringify({ token: 'p@5s!', region: 'eu', owner: 'payments-team' });

    // Act
    const out = scrub(text, [value, ...secretParts(value)]);

    // Assess: an owner field is found whole, never by its prefix.
    expect(out).toBe(
      'issuer rejected key=[redacted] ([redacted]) in eu-west-1; p@5sword is fine; ask the payments channel',
    );
  });
});
