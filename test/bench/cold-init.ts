// Cold init of every function's bundle, whole process, beside Python's: a fresh node process
// imports the bundle as `cdk deploy` ships it (and, for the rotation function, runs its first
// invocation, which builds its clients and makes its first calls against the embedded local AWS),
// and a fresh `python3 -c 'import boto3; boto3.client("secretsmanager")'` process, runs
// interleaved so a busy machine slows each alike. Wall time of each process, spawn to exit;
// median of RUNS; deployed NODE_OPTIONS (none) and with --enable-source-maps, for the choice the
// README records. A measurement, not a test:
//   npx tsx test/bench/cold-init.ts [other-bundle.mjs ...]
// Bundles named on the command line (another build's index.mjs) are measured alongside.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { readZip } from '#local-aws/zip';
import { AwsUnderTest } from '../integration/support/aws.ts';
import { bundleHandler, loadedAtStart } from '../integration/support/bundle.ts';

const RUNS = 9;
const HANDLERS = [
  'rotation',
  'sweep',
  'revoke',
  'revoke-events',
  'secretsmanager-events',
  'tag-events',
  'audit-anchor',
];

const dir = mkdtempSync(join(tmpdir(), 'cold-init-'));
const aws = new AwsUnderTest();
try {
  const bundles: { label: string; file: string }[] = [];
  for (const name of HANDLERS) {
    const zip = await bundleHandler(new URL(`../../lambdas/handlers/${name}.ts`, import.meta.url));
    const to = join(dir, name);
    mkdirSync(to);
    for (const [file, content] of readZip(zip)) writeFileSync(join(to, file), content);
    bundles.push({ label: name, file: join(to, 'index.mjs') });
  }
  for (const file of process.argv.slice(2)) bundles.push({ label: file, file });
  const bundle = bundles[0]!.file;
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
  const childFor = (bundle: string, invoke: boolean) => `
    const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
    ${invoke ? `await handler(${JSON.stringify(event)});` : ''}
  `;
  const base = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...aws.functionEnvironment(),
    AWS_REGION: aws.region,
    AWS_DEFAULT_REGION: aws.region,
    AWS_ACCESS_KEY_ID: aws.local!.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: aws.local!.env.AWS_SECRET_ACCESS_KEY,
    AWS_LAMBDA_FUNCTION_NAME: 'cold-init',
  };
  /** Milliseconds from spawning the process to its exit. Asynchronously: the local AWS answering it runs here. */
  const wall = async (command: string, args: string[], nodeOptions = '') => {
    const started = performance.now();
    await promisify(execFile)(command, args, {
      env: { ...base, NODE_OPTIONS: nodeOptions },
      encoding: 'utf8',
    }).catch((error: { stderr?: string }) => {
      throw new Error(`${command} ${args.join(' ')} failed: ${error.stderr?.slice(-2000)}`);
    });
    return performance.now() - started;
  };
  const node = (file: string, invoke: boolean, nodeOptions: string) =>
    wall(process.execPath, ['--input-type=module', '-e', childFor(file, invoke)], nodeOptions);
  const python = () => wall('python3', ['-c', 'import boto3; boto3.client("secretsmanager")']);
  /** What a cold start reads (the handler module and the chunks it imports), and the whole asset. */
  const sizes = (file: string) => {
    const dir = dirname(file);
    const kb = (names: string[]) =>
      Math.round(names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0) / 1024);
    const all = readdirSync(dir).filter((name) => name.endsWith('.mjs') || name.endsWith('.js'));
    return `${kb(loadedAtStart(dir, basename(file)))} KB at start, ${kb(all)} KB in ${all.length} files`;
  };
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  const cases = [
    ...bundles.map((b) => ({ label: `${b.label} import`, file: b.file, invoke: false })),
    { label: 'rotation import + first invocation', file: bundle, invoke: true },
  ];
  const times = new Map<string, number[]>();
  const note = (key: string, ms: number) => times.set(key, [...(times.get(key) ?? []), ms]);
  for (let i = 0; i < RUNS; i++) {
    note('python', await python());
    for (const c of cases) {
      for (const options of ['', '--enable-source-maps']) {
        note(`${c.label}|${options}`, await node(c.file, c.invoke, options));
      }
    }
  }
  const py = median(times.get('python')!);
  console.log(
    `python3 import boto3; boto3.client("secretsmanager"): ${py.toFixed(0)} ms (median of ${RUNS})`,
  );
  for (const c of cases) {
    const plain = median(times.get(`${c.label}|`)!);
    const mapped = median(times.get(`${c.label}|--enable-source-maps`)!);
    console.log(
      `${c.label} (${sizes(c.file)}): ${plain.toFixed(0)} ms = ${(plain / py).toFixed(2)} of Python; with --enable-source-maps ${mapped.toFixed(0)} ms (+${((mapped / plain - 1) * 100).toFixed(0)}%)`,
    );
  }
} finally {
  await aws.tearDown();
  rmSync(dir, { recursive: true, force: true });
}
