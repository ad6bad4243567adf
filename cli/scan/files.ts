// Files and directories for `token-rotation scan <path...>`: directories recursively, .git
// skipped, binary files skipped (a NUL byte, as git decides), symbolic links followed only where
// they lead inside the directory scanned (never out of it, never round in a loop).
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { CliError } from '../aws.ts';
import { isBinary } from './shape.ts';
import type { Sightings } from './sightings.ts';

/** Larger files are skipped and counted: a token does not hide in a 10 MB file, a dump does. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

export interface FileScanStats {
  files: number;
  skippedBinary: number;
  skippedLarge: number;
  skippedLinks: number;
}

/** Scans `paths` (files or directories) into `sightings`; `tick` after each file, for progress. */
export async function scanPaths(
  paths: string[],
  sightings: Sightings,
  tick: (stats: FileScanStats) => void = () => {},
): Promise<FileScanStats> {
  const stats: FileScanStats = { files: 0, skippedBinary: 0, skippedLarge: 0, skippedLinks: 0 };
  for (const path of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      throw new CliError(`cannot read "${path}": no such file or directory`);
    }
    const root = await realpath(path);
    const visited = new Set<string>();
    const scanFile = async (file: string, shown: string) => {
      const bytes = await readFile(file);
      stats.files++;
      if (bytes.length > MAX_FILE_BYTES) stats.skippedLarge++;
      else if (isBinary(bytes)) stats.skippedBinary++;
      else sightings.scan(bytes.toString('utf8'), (line) => ({ path: shown, line }));
      tick(stats);
    };
    if (!info.isDirectory()) {
      await scanFile(path, path);
      continue;
    }
    const walk = async (dir: string): Promise<void> => {
      const real = await realpath(dir);
      if (visited.has(real)) return;
      visited.add(real);
      const entries = await readdir(dir, { withFileTypes: true });
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.name === '.git') continue;
        let target = full;
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        if (entry.isSymbolicLink()) {
          const resolved = await realpath(full).catch(() => undefined);
          if (!resolved || (resolved !== root && !resolved.startsWith(root + sep))) {
            stats.skippedLinks++;
            continue;
          }
          const linked = await lstat(resolved);
          target = resolved;
          isDir = linked.isDirectory();
          isFile = linked.isFile();
        }
        if (isDir) await walk(target);
        else if (isFile) await scanFile(target, join(path, relative(path, full)));
      }
    };
    await walk(path);
  }
  return stats;
}

/** Everything on stdin (`scan -`), as text. */
export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
