// examples/pre-commit/pre-commit, installed as a git hook in a throwaway repository: it refuses a
// commit that stages a token-rotation token (never printing it) and lets a clean one through.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '#domain/tokens';
import { throwawayGitEnv } from '../support/throwaway-git.ts';
import { leakedForms } from '../support/token-canary.ts';

const HOOK = fileURLToPath(new URL('../../examples/pre-commit/pre-commit', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/token-rotation.mjs', import.meta.url));
let repo: string;
const env = () => throwawayGitEnv(repo, { TOKEN_ROTATION: `${process.execPath} ${BIN}` });
const git = (...args: string[]) =>
  spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: env() });

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'scan-hook-'));
  execFileSync('git', ['-C', repo, 'init', '-q', '-b', 'main'], { env: env() });
  copyFileSync(HOOK, join(repo, '.git', 'hooks', 'pre-commit'));
});

afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
});

describe('the pre-commit hook example', () => {
  it('refuses a commit that stages a token, naming the file and line only', () => {
    // Prepare
    const token = mintToken('acme_live_x');
    writeFileSync(join(repo, 'app.env'), `A=1\nAPI_TOKEN=${token}\n`);
    git('add', 'app.env');

    // Act
    const commit = git('commit', '-q', '-m', 'add config');

    // Assess
    expect(commit.status).not.toBe(0);
    // git shows a hook's output on stderr.
    expect(commit.stdout + commit.stderr).toContain('app.env:2');
    expect(commit.stderr).toContain('pre-commit: a token is staged');
    expect(git('rev-parse', '--verify', 'HEAD').status).not.toBe(0);
    expect(leakedForms(token, commit.stdout + commit.stderr)).toEqual([]);
  }, 60_000);

  it('lets a commit without a token through', () => {
    // Prepare
    writeFileSync(join(repo, 'app.env'), 'A=1\nAPI_TOKEN=from-secrets-manager\n');
    git('add', 'app.env');

    // Act
    const commit = git('commit', '-q', '-m', 'add config');

    // Assess
    expect(commit.status).toBe(0);
    expect(git('rev-parse', '--verify', 'HEAD').status).toBe(0);
  }, 60_000);
});
