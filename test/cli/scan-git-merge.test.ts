// `scan --git` and merge commits: a token that only a merge commit brought in (written while
// resolving it) is found at that merge commit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '#domain/tokens';
import { run } from '../../cli/main.ts';
import { throwawayGit } from '../support/throwaway-git.ts';

let repo: string;
let merge = '';
const IN_MERGE = mintToken('acme_live_merge');

const git = (...args: string[]) => throwawayGit(repo, args);

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'scan-merge-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'a.txt'), 'a\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'a');
  git('checkout', '-q', '-b', 'topic');
  writeFileSync(join(repo, 'b.txt'), 'b\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'b');
  git('checkout', '-q', 'main');
  writeFileSync(join(repo, 'c.txt'), 'c\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'c');
  git('merge', '-q', '--no-ff', '--no-commit', 'topic');
  writeFileSync(join(repo, 'resolved.env'), `TOKEN=${IN_MERGE}\n`);
  git('add', '-A');
  git('commit', '-q', '-m', 'merge topic');
  merge = git('rev-parse', 'HEAD');
});

afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
});

describe('scan --git with merges', () => {
  it('finds a token only the merge commit brought in, at the merge commit', async () => {
    // Act
    let stdout = '';
    const code = await run(['scan', '--git', '--offline', '--repo', repo, '--json'], {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: () => true },
    });

    // Assess
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.findings).toMatchObject([{ commit: merge, path: 'resolved.env', line: 1 }]);
    expect(report.summary.commits).toBe(4);
    expect(stdout).not.toContain(IN_MERGE.slice(10, 30));
  });
});
