// The demo's auditor report: `token-rotation evidence --html`, run in this process as an operator
// runs it against the local AWS, writing the page to test/artifacts/ (kept out of git).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalAws } from '#local-aws/index';
import { run } from '../../cli/main.ts';
import { localEnv } from '../support/local-env.ts';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
export const reportFile = (name: string) => join(ARTIFACTS, name);

/** Runs `evidence --since <since> --html <file>`; its exit code, progress lines and the page. */
export async function writeEvidenceHtml(
  aws: LocalAws,
  since: string,
  file: string,
): Promise<{ code: number; stderr: string; html: string }> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const env = localEnv(aws);
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  let stderr = '';
  try {
    const code = await run(['evidence', '--since', since, '--html', file], {
      stdout: { write: () => undefined },
      stderr: {
        write: (text: string) => {
          stderr += text;
        },
      },
      clock: aws.clock.now,
    });
    return { code, stderr, html: readFileSync(file, 'utf8') };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
