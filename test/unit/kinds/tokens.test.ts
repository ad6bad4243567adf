import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  BASE62,
  BODY_LENGTH,
  base62Digit,
  CHECKSUM_LENGTH,
  checkToken,
  crc32,
  fingerprint,
  mintToken,
  randomBase62,
  TOKEN_PATTERN,
  tokenPrefix,
} from '#domain/tokens';

const wholeMatch = (token: string) => [...token.matchAll(TOKEN_PATTERN)].map((m) => m[0]);

describe('minted tokens', () => {
  it('carry at least 256 bits of base62 randomness before the checksum', () => {
    // Prepare
    const bitsPerCharacter = Math.log2(BASE62.length);

    // Act
    const token = mintToken('acme_live_old');
    const body = token.slice('acme_live_'.length, -CHECKSUM_LENGTH);

    // Assess
    expect(body).toMatch(/^[0-9A-Za-z]+$/);
    expect(body.length).toBe(BODY_LENGTH);
    expect(body.length * bitsPerCharacter).toBeGreaterThanOrEqual(256);
  });

  it('keep the previous token prefix up to its last underscore', () => {
    // Act
    const fromLive = mintToken('acme_live_0123456789');
    const fromBare = mintToken('ghp_x');

    // Assess
    expect(fromLive.startsWith('acme_live_')).toBe(true);
    expect(fromLive.length).toBe('acme_live_'.length + BODY_LENGTH + CHECKSUM_LENGTH);
    expect(fromBare.startsWith('ghp_')).toBe(true);
  });

  it('have no prefix when the previous token had no underscore', () => {
    // Act
    const token = mintToken('changeme-please');

    // Assess
    expect(token).toMatch(/^[0-9A-Za-z]+$/);
    expect(token.length).toBe(BODY_LENGTH + CHECKSUM_LENGTH);
  });

  it('differ every time', () => {
    // Act
    const tokens = new Set(Array.from({ length: 50 }, () => mintToken('acme_')));

    // Assess
    expect(tokens.size).toBe(50);
  });

  it('are found whole by the documented scanner pattern, and pass checkToken', () => {
    // Prepare
    const token = mintToken('acme_live_old');
    const leakedLog = `request failed, Authorization: Bearer ${token} (retrying)`;

    // Act
    const found = wholeMatch(leakedLog);

    // Assess
    expect(found).toEqual([token]);
    expect(checkToken(token, 'acme_live_')).toBeUndefined();
    expect(checkToken(token)).toBeUndefined();
  });

  it.each([
    // secrets.token_urlsafe(32): "_" is one of its 64 characters, so ~16% of such keys have a
    // "prefix" longer than 32 characters by the last-underscore rule.
    ['a urlsafe key whose last "_" is near its end', 'Zx_9abcDEFghiJKLmnoPQRstuVWXyz0123456789_Q'],
    ['a key starting with "-"', '-abcDEF0123_ghiJKL4567mnoPQR'],
    ['a key with "/" before its last "_"', 'abc/def_0123456789ghiJKL'],
    ['a key starting with a digit', '9abc_def0123456789'],
    ['a key with spaces', 'my token_tail'],
  ])('mint with no prefix from %s, rather than refusing it', (_what, previous) => {
    // Act
    const token = mintToken(previous);

    // Assess
    expect(token).toMatch(/^[0-9A-Za-z]+$/);
    expect(token.length).toBe(BODY_LENGTH + CHECKSUM_LENGTH);
    expect(checkToken(token, '')).toBeUndefined();
  });

  it.each([
    ['acme_live_0123456789', 'acme_live_'],
    ['ghp_x', 'ghp_'],
    ['sk_test_abc', 'sk_test_'],
    ['acme-corp_live_x', 'acme-corp_live_'],
  ])('keep the vendor label of %s', (previous, label) => {
    // Act
    const token = mintToken(previous);

    // Assess
    expect(tokenPrefix(previous)).toBe(label);
    expect(token.startsWith(label)).toBe(true);
    expect(checkToken(token, label)).toBeUndefined();
  });

  it('fail checkToken on a token whose prefix is not a label, without quoting it', () => {
    // Prepare
    const longPrefix = `${'Zq8'.repeat(15)}_`;
    const minted = mintToken('x');

    // Act
    const problems = [checkToken(longPrefix + minted), checkToken(`my token_${minted}`)];

    // Assess
    expect(problems[0]).toContain('at most 32 characters, found 46');
    expect(problems[1]).toContain('starting with a letter');
    expect(problems.join()).not.toContain('Zq8Zq8');
    expect(problems.join()).not.toContain('my token');
  });
});

describe('the base62 alphabet mapping', () => {
  it('maps every character from exactly four byte values and rejects the rest (no modulo bias)', () => {
    // Prepare
    const counts = new Map<string, number>();
    let rejected = 0;

    // Act
    for (let byte = 0; byte < 256; byte++) {
      const digit = base62Digit(byte);
      if (digit === undefined) rejected++;
      else counts.set(digit, (counts.get(digit) ?? 0) + 1);
    }

    // Assess
    expect(counts.size).toBe(62);
    expect(new Set(counts.values())).toEqual(new Set([4]));
    expect(rejected).toBe(256 - 62 * 4);
  });

  it('skips rejected bytes rather than folding them onto the alphabet', () => {
    // Prepare: a source that yields rejected bytes between accepted ones.
    const bytes = [255, 0, 248, 61, 250, 62, 1];
    let next = 0;
    const source = (n: number) =>
      Uint8Array.from({ length: n }, () => bytes[next++ % bytes.length]!);

    // Act
    const out = randomBase62(4, source);

    // Assess: 0 -> '0', 61 -> 'z', 62 -> '0', 1 -> '1'; 255, 248 and 250 contribute nothing.
    expect(out).toBe('0z01');
  });
});

describe('the checksum', () => {
  it('is the standard CRC-32 a scanner can compute in any language', () => {
    // Act
    const check = crc32('123456789');

    // Assess
    expect(check).toBe(0xcbf43926);
    if ('crc32' in zlib) {
      const sample = 'acme_live_Zx81qQ';
      expect(crc32(sample)).toBe(
        (zlib as unknown as { crc32: (s: string) => number }).crc32(sample),
      );
    }
  });

  it('detects a change of any one character anywhere in the token', () => {
    // Prepare
    const token = mintToken('acme_live_old');
    const undetected: number[] = [];

    // Act
    for (let i = 0; i < token.length; i++) {
      const original = token[i]!;
      const replacement = original === 'a' ? 'b' : original === '_' ? 'x' : 'a';
      const altered = token.slice(0, i) + replacement + token.slice(i + 1);
      if (checkToken(altered) === undefined) undetected.push(i);
    }

    // Assess
    expect(undetected).toEqual([]);
  });
});

describe('checkToken', () => {
  const token = mintToken('acme_live_old');
  const body = token.slice('acme_live_'.length);

  it('fails a token with another prefix, naming the expected one', () => {
    // Act
    const problem = checkToken(`acme_test_${body}`, 'acme_live_');

    // Assess
    expect(problem).toBe(
      'expected the prefix "acme_live_", found a different prefix of 10 characters',
    );
  });

  it('fails a token with no prefix where one is expected', () => {
    // Act
    const problem = checkToken(body, 'acme_live_');

    // Assess
    expect(problem).toBe('expected the prefix "acme_live_", found no prefix');
  });

  it('fails a truncated token by its length', () => {
    // Act
    const problem = checkToken(token.slice(0, -3), 'acme_live_');

    // Assess
    expect(problem).toBe('expected 49 letters and digits after the prefix, found 46');
  });

  it('fails a token with characters outside base62', () => {
    // Act
    const problem = checkToken(`${token.slice(0, -1)}+`);

    // Assess
    expect(problem).toContain('only letters and digits after the prefix');
  });

  it('fails an empty token', () => {
    // Act
    const problem = checkToken('');

    // Assess
    expect(problem).toBe('expected a token, found an empty string');
  });

  it('never quotes the token it explains', () => {
    // Prepare
    const variants = [
      `acme_test_${body}`,
      token.slice(0, -3),
      `${token.slice(0, -1)}+`,
      `${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`,
    ];

    // Act
    const problems = variants.map((v) => checkToken(v, 'acme_live_') ?? '');

    // Assess
    for (const problem of problems) {
      expect(problem).not.toBe('');
      expect(problem).not.toContain(body.slice(0, 12));
      expect(problem).not.toContain(body.slice(-12));
    }
  });
});

describe('fingerprints', () => {
  it('are short, stable and do not contain the token', () => {
    // Prepare
    const token = mintToken('acme_');

    // Act
    const first = fingerprint(token);
    const second = fingerprint(token);

    // Assess
    expect(first).toMatch(/^fp:[0-9a-f]{12}$/);
    expect(second).toBe(first);
    expect(first).not.toContain(token.slice(5, 17));
  });

  it('tell different tokens apart', () => {
    // Act
    const a = fingerprint(mintToken('acme_'));
    const b = fingerprint(mintToken('acme_'));

    // Assess
    expect(a).not.toBe(b);
  });
});
