// `BENCH_ONLY=scan npm run bench`: `token-rotation scan --git --offline` over a generated
// repository of 10,000 files and 5,000 commits (built with `git fast-import`, not measured: one
// commit adds the files, every later one edits two of them; a few tokens are planted, one deleted
// again). Setup is not measured; each run is the CLI in-process, from `git log` to the report.
// Prints the median of 3 runs and files and commits per second, and checks every planted token
// was found at the commit that introduced it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '#domain/tokens';
import { run } from '../../cli/main.ts';

export const SCAN_FILES = 10_000;
export const SCAN_COMMITS = 5_000;
const RUNS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Source-like text of about 600 bytes; `n` makes it unique. */
const fileText = (n: number, edits = 0) =>
  [
    `// module ${n}`,
    `export const id${n} = ${n};`,
    `export function handler${n}(event: { name: string; count: number }) {`,
    `  const label = \`item-\${event.name}-${n}\`;`,
    '  return { label, total: event.count * 2, region: "eu-west-1", retries: 3 };',
    '}',
    `export const CONFIG_${n} = { url: "https://api.example.com/v2/items/${n}", timeoutMs: 2500 };`,
    ...Array.from({ length: edits }, (_, e) => `export const edit${e} = "change ${e} of ${n}";`),
    '',
  ].join('\n');

/** Builds the repository; returns it and the planted tokens' introducing commit marks. */
function buildRepository(dir: string): { planted: number } {
  const chunks: string[] = [];
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const commitHeader = (mark: number, seconds: number) =>
    `commit refs/heads/main\nmark :${mark}\ncommitter Bench <bench@example.com> ${1767225600 + seconds} +0000\n${data(`commit ${mark}`)}`;
  chunks.push(commitHeader(1, 0));
  for (let n = 0; n < SCAN_FILES; n++) {
    chunks.push(`M 100644 inline src/dir${n % 100}/file${n}.ts\n${data(fileText(n))}`);
  }
  const edits = new Map<number, number>();
  let planted = 0;
  for (let c = 2; c <= SCAN_COMMITS; c++) {
    chunks.push(`${commitHeader(c, c)}from :${c - 1}\n`);
    for (const n of [(c * 7) % SCAN_FILES, (c * 13 + 1) % SCAN_FILES]) {
      const e = (edits.get(n) ?? 0) + 1;
      edits.set(n, e);
      chunks.push(`M 100644 inline src/dir${n % 100}/file${n}.ts\n${data(fileText(n, e))}`);
    }
    // Five tokens along the way; the first is deleted again 100 commits later.
    if (c % 1000 === 0) {
      planted++;
      chunks.push(
        `M 100644 inline leaks/leak${c}.env\n${data(`API_TOKEN=${mintToken('acme_live_x')}\n`)}`,
      );
    }
    if (c === 1100) chunks.push('D leaks/leak1000.env\n');
  }
  const init = spawnSync('git', ['init', '-q', '-b', 'main', dir]);
  if (init.status !== 0) throw new Error(`git init failed: ${init.stderr}`);
  const imported = spawnSync('git', ['-C', dir, 'fast-import', '--quiet'], {
    input: chunks.join(''),
    maxBuffer: 1 << 30,
  });
  if (imported.status !== 0) throw new Error(`git fast-import failed: ${imported.stderr}`);
  return { planted };
}

export async function scanBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scan-'));
  try {
    const built = performance.now();
    const { planted } = buildRepository(dir);
    console.log(
      `\nLeak scan: token-rotation scan --git --offline over ${SCAN_FILES.toLocaleString('en')} files and ${SCAN_COMMITS.toLocaleString('en')} commits (repository built in ${((performance.now() - built) / 1000).toFixed(1)} s with git fast-import; not measured)`,
    );
    const times: number[] = [];
    let report:
      | { findings: { commit?: string }[]; summary: { files: number; commits: number } }
      | undefined;
    for (let i = 0; i < RUNS; i++) {
      let stdout = '';
      const started = performance.now();
      const code = await run(['scan', '--git', '--offline', '--repo', dir, '--json'], {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: () => true },
      });
      times.push(performance.now() - started);
      if (code !== 1) throw new Error(`scan exited ${code}, expected 1 (planted tokens, offline)`);
      report = JSON.parse(stdout);
    }
    const found = report!.findings.length;
    if (found !== planted || !report!.findings.every((f) => f.commit)) {
      throw new Error(`scan found ${found} tokens in history, planted ${planted}`);
    }
    const s = median(times) / 1000;
    console.log(
      `runs ${RUNS}, median ${s.toFixed(2)} s (runs: ${times.map((t) => (t / 1000).toFixed(2)).join(', ')} s); ${report!.summary.files.toLocaleString('en')} unique blobs, ${report!.summary.commits.toLocaleString('en')} commits`,
    );
    console.log(
      `${Math.round(SCAN_FILES / s).toLocaleString('en')} files/s, ${Math.round(SCAN_COMMITS / s).toLocaleString('en')} commits/s; all ${planted} planted tokens found at their commits (one deleted later); target: under 60 s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
