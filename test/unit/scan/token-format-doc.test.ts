// docs/token-format.md is what people paste into their scanners: its pattern must be the one the
// suite uses, its RE2 form must find the same tokens, its checksum snippet must agree with the
// suite, and its worked example must be a valid token.
import { readFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checksum, checkToken, crc32, mintToken, TOKEN_PATTERN } from '#domain/tokens';

const doc = readFileSync(new URL('../../../docs/token-format.md', import.meta.url), 'utf8');
const block = (lang: string) => {
  const match = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  if (!match) throw new Error(`docs/token-format.md has no ${lang} block`);
  return match[1]!;
};
const example = /^Example token: `([^`]+)`$/m.exec(doc)?.[1] ?? '';

describe('docs/token-format.md', () => {
  it('gives the exact pattern the scanner uses', () => {
    expect(block('regex')).toBe(TOKEN_PATTERN.source);
  });

  it('gives an RE2 form that finds exactly what the pattern finds', () => {
    // Prepare
    const re2 = new RegExp(block('re2'), 'g');
    const tokens = [mintToken('acme_live_x'), mintToken(''), mintToken('ghp_x'), example];
    // Matches separated by more than one character (see the doc for the one difference).
    const text = [
      `a=${tokens[0]}`,
      `"${tokens[1]}",`,
      `${tokens[2]}`,
      `x${tokens[0]}`,
      `${'a'.repeat(60)}`,
      `url?t=${tokens[3]}&b=1`,
    ].join('\n\n');

    // Act
    const viaRe2 = [...text.matchAll(re2)].map((m) => m[1]);
    const viaPattern = [...text.matchAll(TOKEN_PATTERN)].map((m) => m[0]);

    // Assess
    expect(viaRe2).toEqual(viaPattern);
    expect(viaRe2.filter((t) => checkToken(t!) === undefined)).toEqual(tokens);
  });

  it('gives a worked example that passes the pattern and the checksum, with its steps', () => {
    expect(checkToken(example)).toBeUndefined();
    expect([...example.matchAll(TOKEN_PATTERN)].map((m) => m[0])).toEqual([example]);
    const head = example.slice(0, -6);
    expect(doc).toContain(`CRC-32 of \`${head}\` = ${crc32(head)} (0x${crc32(head).toString(16)})`);
    expect(doc).toContain(`checksum \`${checksum(head)}\``);
  });

  it('gives a checksum function that agrees with the suite on tokens and look-alikes', () => {
    // Prepare
    const isToken = new Function(`${block('js')}\nreturn isTokenRotationToken;`)() as (
      token: string,
      crc: (b: Buffer) => number,
    ) => boolean;
    const genuine = Array.from({ length: 200 }, (_, i) => mintToken(i % 2 ? 'acme_live_x' : ''));
    const altered = genuine.map(
      (t) => `${t.slice(0, 20)}${t[20] === 'a' ? 'b' : 'a'}${t.slice(21)}`,
    );

    // Act / Assess
    expect(genuine.every((t) => isToken(t, zlibCrc32))).toBe(true);
    expect(altered.some((t) => isToken(t, zlibCrc32))).toBe(false);
    expect(isToken(example, zlibCrc32)).toBe(true);
  });
});
