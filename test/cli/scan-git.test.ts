// `token-rotation scan --git` and `--staged`, offline, on a throwaway repository built with the
// git binary: tokens in history are found at the commit and path that introduced them, even
// after a later commit deleted them; the index is scanned for a pre-commit hook; nothing printed
// gives a token away.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '#domain/tokens';
import { run } from '../../cli/main.ts';
import { throwawayGit } from '../support/throwaway-git.ts';
import { leakedForms } from '../support/token-canary.ts';
import { readTable } from './support.ts';

let repo: string;
const printed: string[] = [];
const commits: Record<string, string> = {};
const DELETED = mintToken('acme_live_deleted');
const KEPT = mintToken('acme_live_kept');
const ON_BRANCH = mintToken('acme_ci_branch');
const IN_BINARY = mintToken('acme_live_binary');
const STAGED = mintToken('acme_live_staged');
const TOKENS = [DELETED, KEPT, ON_BRANCH, IN_BINARY, STAGED];
let tick = 0;

function git(...args: string[]): string {
  tick++;
  const date = `2026-01-0${Math.min(9, 1 + Math.floor(tick / 10))}T10:00:${String(tick % 60).padStart(2, '0')}Z`;
  return throwawayGit(repo, args, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
}
const write = (path: string, text: string | Buffer) => {
  mkdirSync(join(repo, path, '..'), { recursive: true });
  writeFileSync(join(repo, path), text);
};
function commit(name: string, message: string) {
  git('add', '-A');
  git('commit', '-q', '-m', message);
  commits[name] = git('rev-parse', 'HEAD');
}

async function scan(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(['scan', ...argv], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  printed.push(stdout, stderr);
  return { code, stdout, stderr };
}

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'scan-git-'));
  git('init', '-q', '-b', 'main');
  write('README.md', '# service\n');
  write('config.env', `REGION=eu-west-1\nDEBUG=0\nAPI_TOKEN=${DELETED}\n`);
  commit('added', 'config');
  write('src/app.ts', `export const a = 1;\nexport const b = 2;\nconst key = '${KEPT}';\n`);
  write(
    'assets/logo.png',
    Buffer.concat([Buffer.from([0x89, 0x50, 0, 0]), Buffer.from(IN_BINARY)]),
  );
  commit('app', 'app');
  rmSync(join(repo, 'config.env'));
  write(
    'src/app.ts',
    `export const a = 1;\nexport const b = 2;\nconst key = '${KEPT}';\nexport const c = 3;\n`,
  );
  commit('deleted', 'remove the token from config');
  git('checkout', '-q', '-b', 'feature');
  write('ci.yml', `token: ${ON_BRANCH}\n`);
  commit('branch', 'ci');
  git('checkout', '-q', 'main');
});

afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
});

describe('scan --git', () => {
  it('finds a token deleted in a later commit at the commit and path that introduced it', async () => {
    // Act
    const result = await scan('--git', '--offline', '--repo', repo, '--json');

    // Assess
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    const at = (commit: string) =>
      report.findings
        .filter((f: { commit: string }) => f.commit === commit)
        .map((f: { path: string; line: number }) => `${f.path}:${f.line}`);
    expect(at(commits.added!)).toEqual(['config.env:3']);
    // The token stayed in later versions of app.ts: still the commit that brought it in.
    expect(at(commits.app!)).toEqual(['src/app.ts:3']);
    expect(at(commits.branch!)).toEqual(['ci.yml:1']);
    expect(report.findings).toHaveLength(3);
    expect(report.findings.every((f: { status: string }) => f.status === 'unknown')).toBe(true);
    expect(report.summary).toMatchObject({ source: 'git history', commits: 4, skippedBinary: 1 });
  });

  it('scans only what the refs given reach', async () => {
    // Act
    const result = await scan('--git', 'main', '--offline', '--repo', repo, '--json');

    // Assess
    const report = JSON.parse(result.stdout);
    expect(report.findings.map((f: { path: string }) => f.path).sort()).toEqual([
      'config.env',
      'src/app.ts',
    ]);
    expect(report.summary.commits).toBe(3);
  });

  it('prints a table naming commit, file and line, and exits 1 (liveness unknown offline)', async () => {
    // Act
    const result = await scan('--git', '--offline', '--repo', repo);

    // Assess
    expect(result.code).toBe(1);
    const rows = readTable(result.stdout);
    expect(rows.find((r) => r.WHERE === 'config.env:3')).toMatchObject({
      COMMIT: commits.added!.slice(0, 12),
      STATUS: 'unknown',
    });
    expect(result.stdout).toMatch(
      /^3 findings: 0 live, 3 unknown, 0 revoked \(git history: \d+ blobs, 4 commits, 1 binary skipped/m,
    );
  });

  it('prints whole commit hashes with --wide', async () => {
    // Act
    const result = await scan('--git', '--offline', '--repo', repo, '--wide');

    // Assess
    const rows = readTable(result.stdout);
    expect(rows.find((r) => r.WHERE === 'config.env:3')?.COMMIT).toBe(commits.added);
    expect(commits.added).toMatch(/^[0-9a-f]{40}$/);
  });

  it('refuses a ref that does not exist, with exit code 2', async () => {
    // Act
    const result = await scan('--git', 'no-such-branch', '--offline', '--repo', repo);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/git log failed in .*no-such-branch/);
  });
});

describe('scan --staged', () => {
  it('finds a token in the files staged for the next commit, and nothing already committed', async () => {
    // Prepare
    write('deploy/secrets.yml', `a: 1\ntoken: "${STAGED}"\n`);
    git('add', 'deploy/secrets.yml');

    // Act
    const result = await scan('--staged', '--offline', '--repo', repo, '--json');

    // Assess
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.findings).toMatchObject([{ path: 'deploy/secrets.yml', line: 2 }]);
    expect(report.findings[0].commit).toBeUndefined();

    // Once the file is unstaged, the index is clean: exit 0.
    git('reset', '-q', 'deploy/secrets.yml');
    const clean = await scan('--staged', '--offline', '--repo', repo);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^No token found \(git index/);
  });
});

describe('scan output', () => {
  it('never prints a token, in any encoding or any 8-character piece', () => {
    expect(printed.length).toBeGreaterThan(4);
    const all = printed.join('\n');
    expect(TOKENS.flatMap((t) => leakedForms(t, all))).toEqual([]);
  });
});
