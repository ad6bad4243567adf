// Cold init of the rotation function's bundle, whole process: a fresh node process imports the
// bundle as `cdk deploy` ships it and runs its first invocation (which builds its clients and
// makes its first calls) against the embedded local AWS. Median of RUNS, with and without the
// deployed --enable-source-maps. A measurement, not a test:
//   npx tsx test/bench/cold-init.ts [other-bundle.mjs ...]
// Bundles named on the command line (another build's index.mjs) are measured alongside, their
// runs interleaved with this checkout's, so a busy machine slows every bundle alike.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { readZip } from '#local-aws/zip';
import { AwsUnderTest, ENTRY } from '../integration/support/aws.ts';
import { bundleHandler } from '../integration/support/bundle.ts';

const RUNS = 5;

const dir = mkdtempSync(join(tmpdir(), 'cold-init-'));
const aws = new AwsUnderTest();
try {
  const zip = await bundleHandler(ENTRY.rotation);
  for (const [name, content] of readZip(zip)) writeFileSync(join(dir, name), content);
  const bundle = join(dir, 'index.mjs');
  await aws.setUp();
  const secret = await aws.createSecret('cold-init', `acme_live_${randomUUID()}`);
  // Rotation enabled (by a function that passes Secrets Manager's configuration test), so the
  // step below runs its opening checks and records its outcome.
  const noop = aws.local!.functions.register(`cold-init-${aws.run}`, async () => {});
  await aws.secretsManager.send(
    new RotateSecretCommand({
      SecretId: secret.arn,
      RotationLambdaARN: noop,
      RotationRules: { AutomaticallyAfterDays: 7 },
      RotateImmediately: false,
    }),
  );
  await aws.local!.idle();
  // A step for the version that is already AWSCURRENT: DescribeSecret, one audit record, done.
  const event = {
    SecretId: secret.arn,
    ClientRequestToken: secret.versionId,
    Step: 'finishSecret',
  };
  const childFor = (bundle: string) => `
    const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
    const imported = performance.now();
    await handler(${JSON.stringify(event)});
    console.log(JSON.stringify({ imported, invoked: performance.now() }));
  `;
  const { NODE_OPTIONS: _deployed, ...environment } = aws.functionEnvironment();
  const base = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...environment,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: aws.local!.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: aws.local!.env.AWS_SECRET_ACCESS_KEY,
    AWS_LAMBDA_FUNCTION_NAME: 'cold-init',
  };
  /** Milliseconds from process start to the bundle imported, and to its first invocation done. */
  const coldStart = async (bundle: string, nodeOptions: string) => {
    // Asynchronously: the local AWS answering the child runs in this process.
    const run = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', childFor(bundle)],
      { env: { ...base, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' },
    ).catch((error: { stderr?: string }) => {
      throw new Error(`the cold start of ${bundle} failed: ${error.stderr?.slice(-2000)}`);
    });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    if (!line.startsWith('{"imported"')) {
      throw new Error(`the cold start of ${bundle} printed no times: ${run.stdout} ${run.stderr}`);
    }
    return JSON.parse(line) as { imported: number; invoked: number };
  };
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const bundles = [bundle, ...process.argv.slice(2)];
  for (const nodeOptions of ['--enable-source-maps', '']) {
    const times = bundles.map(() => ({ imported: [] as number[], invoked: [] as number[] }));
    for (let i = 0; i < RUNS; i++) {
      for (const [n, file] of bundles.entries()) {
        const { imported, invoked } = await coldStart(file, nodeOptions);
        times[n]!.imported.push(imported);
        times[n]!.invoked.push(invoked);
      }
    }
    for (const [n, file] of bundles.entries()) {
      const label = n === 0 ? 'this checkout' : file;
      console.log(
        `${label} (${Math.round(statSync(file).size / 1024)} KB), NODE_OPTIONS="${nodeOptions}": process start to bundle imported ${median(times[n]!.imported).toFixed(0)} ms, to first invocation done (clients built, 2 calls) ${median(times[n]!.invoked).toFixed(0)} ms (median of ${RUNS})`,
      );
    }
  }
} finally {
  await aws.tearDown();
  rmSync(dir, { recursive: true, force: true });
}
