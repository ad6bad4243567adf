// `token-rotation <argv>` as the demo's scenes run it: in this process, against the local AWS, on
// its clock, with the environment an operator's shell would have; exit code and stdout.
import type { LocalAws } from '#local-aws/index';
import { run } from '../../../cli/main.ts';
import { localEnv } from '../../support/local-env.ts';

export async function demoCli(
  aws: LocalAws,
  argv: string[],
): Promise<{ code: number; stdout: string }> {
  const env = localEnv(aws);
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  let stdout = '';
  try {
    const code = await run(argv, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      clock: aws.clock.now,
    });
    return { code, stdout };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
