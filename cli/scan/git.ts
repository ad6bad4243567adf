// Git sources for `token-rotation scan`: a repository's history (`--git [<refs...>]`) and its
// index (`--staged`, for a pre-commit hook). The `git` binary does the walking: one `git log
// --raw` lists, oldest first, every blob each commit brought in and at what path, so each unique
// blob is scanned once (streamed through one `git cat-file --batch`) and each token found is
// reported at the commit and path that first introduced it, even when a later commit deleted it.
import { spawn } from 'node:child_process';
import { CliError } from '../aws.ts';
import { MAX_FILE_BYTES } from './files.ts';
import { isBinary } from './shape.ts';
import type { Sightings } from './sightings.ts';

const EMPTY_BLOB = /^0+$/;
/** Modes that are not file content: a submodule's commit (160000), a symbolic link (120000). */
const NOT_CONTENT = new Set(['160000', '120000']);

export interface GitScanStats {
  commits: number;
  blobs: number;
  skippedBinary: number;
  skippedLarge: number;
}

/** Where a blob first appeared: the commit (or the index, for --staged) and its path there. */
interface Introduced {
  commit?: string;
  path: string;
}

/** Runs git and returns its stdout; a CliError (exit 2) naming what git said when it fails. */
function git(repo: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', repo, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', (error) =>
      reject(new CliError(`cannot run git: ${error.message}. Is git installed and on PATH?`)),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else
        reject(
          new CliError(
            `git ${args[0]} failed in ${repo}: ${err.trim().split('\n')[0] || `exit code ${code}`}`,
          ),
        );
    });
  });
}

/**
 * Parses `git log --raw -z --format=%x01%H` (or `git diff --raw -z`): each blob a commit added or
 * changed, first appearance only, in the order git printed them (oldest commit first).
 */
export function parseRaw(text: string, into: Map<string, Introduced>): number {
  let commit: string | undefined;
  let commits = 0;
  const fields = text.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!.replace(/^\n/, '');
    if (field.startsWith('\x01')) {
      const sha = field.slice(1);
      if (sha !== commit) commits++;
      commit = sha;
      continue;
    }
    if (!field.startsWith(':')) continue;
    const path = fields[++i] ?? '';
    const [, newMode, , newSha] = field.slice(1).split(' ');
    if (!newSha || !newMode || EMPTY_BLOB.test(newSha) || NOT_CONTENT.has(newMode)) continue;
    if (!into.has(newSha)) into.set(newSha, { ...(commit && { commit }), path });
  }
  return commits;
}

/**
 * Streams the blobs through `git cat-file --batch` and scans each text blob once, in the order
 * given (oldest first, so a token's first place is the commit that introduced it).
 */
async function scanBlobs(
  repo: string,
  blobs: Map<string, Introduced>,
  sightings: Sightings,
  stats: GitScanStats,
  tick: (stats: GitScanStats) => void,
): Promise<void> {
  if (blobs.size === 0) return;
  const order = [...blobs.keys()];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['-C', repo, 'cat-file', '--batch'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let pending: Buffer = Buffer.alloc(0);
    let next = 0;
    let err = '';
    let failed: Error | undefined;
    const take = () => {
      for (;;) {
        const eol = pending.indexOf(10);
        if (eol < 0) return;
        const header = pending.subarray(0, eol).toString('utf8');
        const [sha, type, sizeText] = header.split(' ');
        if (type === 'missing') {
          pending = pending.subarray(eol + 1);
          next++;
          continue;
        }
        const size = Number(sizeText);
        if (pending.length < eol + 1 + size + 1) return;
        const body = pending.subarray(eol + 1, eol + 1 + size);
        pending = pending.subarray(eol + 2 + size);
        next++;
        const where = blobs.get(sha ?? '');
        stats.blobs++;
        if (type !== 'blob' || !where) continue;
        if (size > MAX_FILE_BYTES) stats.skippedLarge++;
        else if (isBinary(body)) stats.skippedBinary++;
        else
          sightings.scan(body.toString('utf8'), (line) => ({
            path: where.path,
            line,
            ...(where.commit && { commit: where.commit }),
          }));
        tick(stats);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        take();
      } catch (error) {
        failed = error as Error;
        child.kill();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', (error) => reject(new CliError(`cannot run git: ${error.message}`)));
    child.on('close', (code) => {
      if (failed) reject(failed);
      else if (code !== 0 || next !== order.length)
        reject(
          new CliError(`git cat-file failed in ${repo}: ${err.trim() || `exit code ${code}`}`),
        );
      else resolve();
    });
    child.stdin.on('error', () => {});
    child.stdin.end(`${order.join('\n')}\n`);
  });
}

/** Scans every blob reachable from `refs` (default: every ref, `--all`) in `repo`. */
export async function scanHistory(
  repo: string,
  refs: string[],
  sightings: Sightings,
  tick: (stats: GitScanStats) => void = () => {},
): Promise<GitScanStats> {
  for (const ref of refs) {
    if (ref.startsWith('-'))
      throw new CliError(`"${ref}" is not a ref: refs cannot start with "-"`);
  }
  const log = await git(repo, [
    'log',
    '--reverse',
    '--topo-order',
    '--raw',
    '--no-abbrev',
    '--no-renames',
    '--no-textconv',
    '-m',
    '-z',
    '--format=%x01%H',
    ...(refs.length > 0 ? refs : ['--all']),
    '--',
  ]);
  const blobs = new Map<string, Introduced>();
  const stats: GitScanStats = { commits: 0, blobs: 0, skippedBinary: 0, skippedLarge: 0 };
  stats.commits = parseRaw(log.toString('utf8'), blobs);
  await scanBlobs(repo, blobs, sightings, stats, tick);
  return stats;
}

/** Scans what `git commit` would record now: the index's added and changed files. */
export async function scanStaged(
  repo: string,
  sightings: Sightings,
  tick: (stats: GitScanStats) => void = () => {},
): Promise<GitScanStats> {
  const diff = await git(repo, [
    'diff',
    '--cached',
    '--raw',
    '--no-abbrev',
    '--no-renames',
    '-z',
    '--diff-filter=ACMRT',
  ]);
  const blobs = new Map<string, Introduced>();
  const stats: GitScanStats = { commits: 0, blobs: 0, skippedBinary: 0, skippedLarge: 0 };
  parseRaw(diff.toString('utf8'), blobs);
  await scanBlobs(repo, blobs, sightings, stats, tick);
  return stats;
}
