// What the scanner recognises in text: checksummed `random` tokens with no lookup (and nothing
// else of their shape), and the candidate strings of token shape it looks up in the index.
import { describe, expect, it } from 'vitest';
import { BASE62, mintToken } from '#domain/tokens';
import { seededRandom } from '#local-aws/random';
import {
  candidateStrings,
  hasTokenShape,
  isBinary,
  selfIssuedTokens,
} from '../../../cli/scan/shape.ts';

const base62 = (random: () => number, n: number) =>
  Array.from({ length: n }, () => BASE62[Math.floor(random() * 62)]).join('');

describe('selfIssuedTokens', () => {
  it('finds a minted token, with its line, in code, JSON and a URL', () => {
    // Prepare
    const a = mintToken('acme_live_old');
    const b = mintToken('plain');
    const text = `const x = 1;\nconst key = "${a}";\n{"token":"${b}"}\nhttps://api.example/?t=${a}&x=1\n`;

    // Act
    const found = selfIssuedTokens(text);

    // Assess
    expect(found).toEqual([
      { value: a, line: 2 },
      { value: b, line: 3 },
      { value: a, line: 4 },
    ]);
  });

  it('does not take a token with one character changed (the checksum)', () => {
    // Prepare
    const token = mintToken('acme_live_x');
    const last = token.at(-1) === 'a' ? 'b' : 'a';
    const altered = `${token.slice(0, -1)}${last}`;
    const inBody = `${token.slice(0, 15)}${token[15] === 'Z' ? 'Y' : 'Z'}${token.slice(16)}`;

    // Act / Assess
    expect(selfIssuedTokens(`${altered}\n${inBody}\n`)).toEqual([]);
  });

  it('finds none in 10,000 random strings of the token shape, with and without a prefix', () => {
    // Prepare
    const random = seededRandom(14);
    const lookAlikes = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 === 0 ? `acme_live_${base62(random, 49)}` : base62(random, 49),
    );
    // They do have the shape: the scanner's regex takes every one, only the checksum says no.
    const text = lookAlikes.join('\n');

    // Act
    const found = selfIssuedTokens(text);

    // Assess
    expect(candidateStrings(text)).toHaveLength(10_000);
    expect(found).toEqual([]);
  });
});

describe('hasTokenShape', () => {
  it.each([
    ['an AWS secret access key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', true],
    ['a hex key', '9f86d081884c7d659a2feaa0c55ad015', true],
    ['a base64 token with padding', 'dGhpcyBpcyBhIHRva2VuIQ==', true],
    ['a hand-set token with dashes', 'hs-9fQ2-xk81-ZZp0-Lm3w', true],
    ['a lower-case path', 'lambdas/domain/keyed-fingerprint.ts', false],
    ['too short', 'Ab3dEf7hIj1', false],
    ['one character repeated', 'AAAAAAAAAAAAAAAAAAAA1', false],
    ['over 512 characters', `aB3${'x'.repeat(600)}`, false],
  ])('%s: %s', (_, text, expected) => {
    expect(hasTokenShape(text)).toBe(expected);
  });
});

describe('candidateStrings', () => {
  it('takes assignments, quoted and JSON-escaped forms, and the end of a sentence', () => {
    // Prepare
    const text = [
      'API_TOKEN=hs-9fQ2-xk81-ZZp0-Lm3w',
      '{"secretAccessKey":"wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY"}',
      "token: 'Zq81mNc0pLr7tYw2'",
      'The key was Hx7Kq2Lm9Pw4Rt6Y.',
    ].join('\n');

    // Act
    const values = candidateStrings(text).map((c) => `${c.line}:${c.value}`);

    // Assess
    expect(values).toContain('1:hs-9fQ2-xk81-ZZp0-Lm3w');
    expect(values).toContain('2:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    expect(values).toContain('3:Zq81mNc0pLr7tYw2');
    expect(values).toContain('4:Hx7Kq2Lm9Pw4Rt6Y');
  });

  it('skips what has no token shape: words, paths, short values', () => {
    expect(candidateStrings('import x from "../lib/some-module.ts"; const n = 42;\n')).toEqual([]);
  });
});

describe('isBinary', () => {
  it('is binary with a NUL byte, as git decides', () => {
    expect(isBinary(Buffer.from('PNG\0\x01'))).toBe(true);
    expect(isBinary(Buffer.from('plain text'))).toBe(false);
  });
});
