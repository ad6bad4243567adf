// `token-rotation scan` over files, directories and stdin, offline: what is scanned and what is
// skipped (.git, binary files, links out of the tree), names a terminal would obey shown
// escaped, progress only on stderr and only when asked, and usage errors.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE62, mintToken } from '#domain/tokens';
import { run } from '../../cli/main.ts';
import { leakedForms } from '../support/token-canary.ts';

let root: string;
let outside: string;
const printed: string[] = [];
const IN_TREE = mintToken('acme_live_tree');
const IN_GIT_DIR = mintToken('acme_live_gitdir');
const OUTSIDE = mintToken('acme_live_outside');
const IN_BINARY = mintToken('acme_live_binary');
const ON_STDIN = mintToken('acme_live_stdin');
const EVIL_NAME = 'evil\u001b[2J\u001b]0;owned\u0007.txt';

async function scan(argv: string[], options: { stdin?: string; tty?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(['scan', ...argv], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: Object.assign({ write: (t: string) => (stderr += t) }, { isTTY: options.tty ?? false }),
    ...(options.stdin !== undefined && { stdin: Readable.from([Buffer.from(options.stdin)]) }),
  });
  printed.push(stdout, stderr);
  return { code, stdout, stderr };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'scan-files-'));
  outside = mkdtempSync(join(tmpdir(), 'scan-outside-'));
  mkdirSync(join(root, 'src', 'deep'), { recursive: true });
  mkdirSync(join(root, '.git'));
  writeFileSync(join(root, 'src', 'deep', 'config.yml'), `a: 1\nb: 2\ntoken: ${IN_TREE}\n`);
  writeFileSync(join(root, '.git', 'config'), `token = ${IN_GIT_DIR}\n`);
  writeFileSync(
    join(root, 'image.bin'),
    Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(IN_BINARY)]),
  );
  writeFileSync(join(outside, 'secret.txt'), `${OUTSIDE}\n`);
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link-out.txt'));
  symlinkSync(outside, join(root, 'dir-out'));
  symlinkSync(join(root, 'src'), join(root, 'src-again'));
  writeFileSync(join(root, EVIL_NAME), `${IN_TREE}\n`);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('scan <path>', () => {
  it('scans the tree, skipping .git, binary files and links that lead out of it', async () => {
    // Act
    const result = await scan([root, '--offline', '--json']);

    // Assess
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    const places = report.findings.map(
      (f: { path: string; line: number }) => `${f.path.slice(root.length + 1)}:${f.line}`,
    );
    // The link inside the tree (src-again) leads to a directory already walked: not walked twice.
    expect(places.sort()).toEqual([`${EVIL_NAME}:1`, 'src/deep/config.yml:3'].sort());
    expect(report.summary).toMatchObject({ source: 'files', skippedBinary: 1 });
  });

  it('shows a file name a terminal would obey escaped in the table, and exact in JSON', async () => {
    // Act
    const table = await scan([join(root, EVIL_NAME), '--offline']);
    const json = await scan([join(root, EVIL_NAME), '--offline', '--json']);

    // Assess
    expect(table.stdout).not.toContain('\u001b');
    expect(table.stdout).not.toContain('\u0007');
    expect(table.stdout).toContain('evil\\u001b[2J\\u001b]0;owned\\u0007.txt:1');
    expect(JSON.parse(json.stdout).findings[0].path).toBe(join(root, EVIL_NAME));
  });

  it('reads stdin with "-"', async () => {
    // Act
    const result = await scan(['-', '--offline', '--json'], {
      stdin: `log line\nAuthorization: Bearer ${ON_STDIN}\n`,
    });

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).findings).toMatchObject([{ path: '(stdin)', line: 2 }]);
  });

  it('finds nothing, and exits 0, in 10,000 random strings of the token shape', async () => {
    // Prepare: the scanner's regex takes every line; only the checksum rules them out.
    const lines = Array.from({ length: 10_000 }, (_, i) => {
      const body = [...randomBytes(49)].map((b) => BASE62[b % 62]).join('');
      return i % 2 === 0 ? `acme_live_${body}` : body;
    });
    const path = join(outside, 'look-alikes.txt');
    writeFileSync(path, `${lines.join('\n')}\n`);

    // Act
    const result = await scan([path, '--offline', '--json']);

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).findings).toEqual([]);
  });

  it('exits 0 on a tree with no token', async () => {
    const result = await scan([join(root, 'image.bin'), '--offline']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^No token found \(files: 1 files, 1 binary skipped; offline: checksum only\)\.$/m,
    );
  });
});

describe('progress', () => {
  it('goes to stderr with --progress, leaving stdout exact JSON', async () => {
    // Act
    const result = await scan([join(root, 'src'), '--offline', '--json', '--progress']);

    // Assess
    expect(result.stderr).toMatch(/^scan: reading .* \(offline\)…$/m);
    expect(result.stderr).toMatch(/^scan: 1 files read$/m);
    expect(() => JSON.parse(result.stdout)).not.toThrow();
    expect(result.stdout).not.toContain('scan: reading');
  });

  it('shows on a terminal, and not when stderr is not one or with --quiet', async () => {
    expect((await scan([join(root, 'src'), '--offline'], { tty: true })).stderr).toContain(
      'scan: reading',
    );
    expect((await scan([join(root, 'src'), '--offline'])).stderr).toBe('');
    expect((await scan([join(root, 'src'), '--offline', '--quiet'], { tty: true })).stderr).toBe(
      '',
    );
  });
});

describe('usage', () => {
  it.each([
    [['--git', '--staged', '--offline'], '--git scans history and --staged the index: give one'],
    [['--json', '--sarif', '--offline'], 'give one output format'],
    [['--revoke', '--offline'], '--revoke needs AWS'],
    [['--format', 'xml', '--offline'], '--format must be one of table, json, sarif'],
    [['/no/such/path', '--offline'], 'cannot read "/no/such/path"'],
  ])('refuses %j with exit code 2', async (argv, message) => {
    const result = await scan(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('has help', async () => {
    let stdout = '';
    const code = await run(['scan', '--help'], {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: () => true },
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: token-rotation scan \[<path\|ref>\.\.\.\] \[options\]/);
    expect(stdout).toContain('--staged');
  });
});

describe('scan output', () => {
  it('never prints a token, in any encoding or any 8-character piece', () => {
    const all = printed.join('\n');
    expect(
      [IN_TREE, IN_GIT_DIR, OUTSIDE, IN_BINARY, ON_STDIN].flatMap((t) => leakedForms(t, all)),
    ).toEqual([]);
  });
});
