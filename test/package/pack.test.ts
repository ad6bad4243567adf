// The construct as a CDK user gets it. `buildPackage` (npm run package) builds the package,
// `npm pack` packs it, and a throwaway CDK app in a temporary directory outside the repository
// installs the tarball offline, with the peers (aws-cdk-lib, constructs) linked from this
// repository's node_modules and no esbuild it can reach, and synthesizes a stack with it. The
// template's functions must run the bundles the package ships (the bytes this repository's
// NodejsFunction bundles at synth), and the installed `token-rotation` binary must answer
// --version and --help with nothing but node.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '#commons/logger';
import { startLocalAws } from '#local-aws/index';
import { installSuite } from '#local-aws/suite';
import { buildPackage } from '../../infra/build-package.ts';
import { bundlingOptions } from '../../infra/suite-functions.ts';
import { localEnv } from '../support/local-env.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROOT_MANIFEST = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const HANDLERS = readdirSync(path.join(ROOT, 'lambdas', 'handlers'))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => path.basename(file, '.ts'))
  .sort();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Run {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectSuccess(what: string, result: Run): void {
  if (result.status !== 0) {
    throw new Error(`${what} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

let work: string;
let app: string;
/** PATH for the consumer: node's directory, behind a fake esbuild that records being called. */
let consumerPath: string;
let esbuildCalls: string;
let packedFiles: string[];
interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** The Lambda functions of the `Security` stack the consumer's app synthesized into `outdir`. */
function synthesizedFunctions(outdir: string): Resource[] {
  const template: { Resources: Record<string, Resource> } = JSON.parse(
    readFileSync(path.join(outdir, 'Security.template.json'), 'utf8'),
  );
  return Object.values(template.Resources).filter(
    (resource) => resource.Type === 'AWS::Lambda::Function',
  );
}

/** The asset a function's code is: its S3 key is `<asset hash>.zip`. */
function assetHash(fn: Resource): string {
  const key = (fn.Properties.Code as { S3Key: string }).S3Key;
  return key.replace(/\.zip$/, '');
}
let cdkOut: string;
let installed: string;
let synth: Run;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'token-rotation-pack-'));
  // Build and pack.
  const built = await buildPackage(path.join(work, 'package'));
  const packed = run('npm', ['pack', built, '--pack-destination', work, '--json'], work, {
    ...process.env,
    npm_config_loglevel: 'error',
  });
  expectSuccess('npm pack', packed);
  const [report] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  packedFiles = report.files.map((file) => file.path).sort();
  tarball = path.join(work, path.basename(report.filename));

  // The throwaway app: outside the repository, its own node_modules.
  app = path.join(work, 'app');
  expect(path.relative(ROOT, app).startsWith('..')).toBe(true);
  mkdirSync(app);
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], app, {
    ...process.env,
    npm_config_loglevel: 'error',
  });
  expectSuccess('npm install', install);
  // The peers, as the app's own dependencies would provide them, with no network.
  for (const peer of ['aws-cdk-lib', 'constructs']) {
    symlinkSync(
      realpathSync(path.join(ROOT, 'node_modules', peer)),
      path.join(app, 'node_modules', peer),
    );
  }
  installed = path.join(app, 'node_modules', '@token-rotation', 'cdk');

  // A fake esbuild first on PATH: if anything tried to bundle, it would leave a mark and fail.
  const fakeBin = path.join(work, 'fake-bin');
  mkdirSync(fakeBin);
  esbuildCalls = path.join(work, 'esbuild-calls');
  writeFileSync(
    path.join(fakeBin, 'esbuild'),
    `#!/bin/sh\necho "$@" >> '${esbuildCalls}'\nexit 1\n`,
  );
  chmodSync(path.join(fakeBin, 'esbuild'), 0o755);
  consumerPath = `${fakeBin}:${path.dirname(process.execPath)}`;

  writeFileSync(
    path.join(app, 'app.mjs'),
    [
      "import { App, Stack } from 'aws-cdk-lib';",
      "import { METRIC, TokenRotation } from '@token-rotation/cdk';",
      'const app = new App();',
      "const stack = new Stack(app, 'Security');",
      "const rotation = new TokenRotation(stack, 'TokenRotation', { alertEmails: ['sec@example.com'] });",
      'rotation.metricOverdueSecrets();',
      'if (!METRIC) throw new Error("METRIC is not exported");',
      'app.synth();',
      '',
    ].join('\n'),
  );
  cdkOut = path.join(work, 'cdk.out');
  synth = run(process.execPath, ['app.mjs'], app, {
    PATH: consumerPath,
    HOME: work,
    CDK_OUTDIR: cdkOut,
  });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the installable package @token-rotation/cdk', () => {
  it('installs offline into an app outside the repository, with no dependency but the peers', () => {
    expect(JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'))).toMatchObject({
      name: ROOT_MANIFEST.name,
      version: ROOT_MANIFEST.version,
      peerDependencies: { 'aws-cdk-lib': expect.any(String), constructs: expect.any(String) },
    });
    expect(
      JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')).dependencies,
    ).toBeUndefined();
    // Nothing but the package and the two links: no esbuild, no TypeScript, no tsx.
    expect(readdirSync(path.join(app, 'node_modules')).sort()).toEqual(
      expect.arrayContaining(['@token-rotation', 'aws-cdk-lib', 'constructs']),
    );
    for (const absent of ['esbuild', 'typescript', 'tsx', '@aws-sdk']) {
      expect(existsSync(path.join(app, 'node_modules', absent))).toBe(false);
    }
  });

  it('ships compiled code, declarations, one bundle per function and the CLI, and nothing else', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'index.js',
        'types/infra/index.d.ts',
        'bin/token-rotation.mjs',
        ...HANDLERS.map((name) => `functions/${name}/index.mjs`),
      ]),
    );
    const unexpected = packedFiles.filter(
      (file) =>
        (file.endsWith('.ts') && !file.endsWith('.d.ts')) ||
        /(^|\/)(test|local-aws|node_modules|cdk\.out)(\/|$)/.test(file) ||
        /local-aws|\.test\./.test(file) ||
        !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|SECURITY\.md|index\.js|types\/.+\.d\.ts|bin\/token-rotation\.mjs|functions\/[a-z-]+\/(index|[a-z0-9-]+-[A-Z0-9]{8})\.mjs(\.map)?)$/.test(
          file,
        ),
    );
    expect(unexpected).toEqual([]);
    expect(readdirSync(path.join(installed, 'functions')).sort()).toEqual(HANDLERS);
  });

  it('ships declarations whose every import resolves inside the package or to a peer', () => {
    // What a consumer's TypeScript follows from types/infra/index.d.ts: relative `./x.js` to
    // `x.d.ts`, `#domain/...` through the package's imports map, bare names to the peers (and
    // `node:` to @types/node, which every CDK app has). Anything else would not be installed.
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
    const types = path.join(installed, 'types');
    const unresolved: string[] = [];
    const files = readdirSync(types, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.d.ts'),
    );
    for (const file of files) {
      const text = readFileSync(path.join(types, file), 'utf8');
      for (const [, , specifier] of text.matchAll(/(?:from|import\()\s*(['"])([^'"]+)\1/g)) {
        let target: string | undefined;
        if (specifier!.startsWith('.')) {
          target = path.join(types, path.dirname(file), specifier!.replace(/\.js$/, '.d.ts'));
        } else if (specifier!.startsWith('#')) {
          const [alias, rest] = [`${specifier!.split('/')[0]}/*`, specifier!.split('/').slice(1)];
          const pattern: string | undefined = manifest.imports?.[alias]?.types;
          target = pattern && path.join(installed, pattern.replace('*', rest.join('/')));
        } else if (/^(aws-cdk-lib|constructs)(\/|$)|^node:/.test(specifier!)) {
          continue;
        }
        if (!target || !existsSync(target)) unresolved.push(`${file}: ${specifier}`);
      }
    }
    expect(files).toContain(path.join('infra', 'index.d.ts'));
    expect(unresolved).toEqual([]);
  });

  it("synthesizes a stack in the consumer's app with the shipped bundles, and never calls esbuild", () => {
    expectSuccess('node app.mjs', synth);
    expect(existsSync(esbuildCalls)).toBe(false);
    const functions = synthesizedFunctions(cdkOut);
    expect(functions).toHaveLength(HANDLERS.length);
    const assets: { files: Record<string, { source: { path: string } }> } = JSON.parse(
      readFileSync(path.join(cdkOut, 'Security.assets.json'), 'utf8'),
    );
    const shipped = new Map(
      HANDLERS.map((name) => [sha256(path.join(installed, 'functions', name, 'index.mjs')), name]),
    );
    const used = functions.map((fn) => {
      expect(fn.Properties).toMatchObject({
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
      });
      const asset = path.join(cdkOut, assets.files[assetHash(fn)]!.source.path);
      // The asset is the shipped directory as it is (the bundle, its chunks and maps), nothing rebuilt.
      const name = shipped.get(sha256(path.join(asset, 'index.mjs')));
      expect(readdirSync(asset).sort()).toEqual(
        readdirSync(path.join(installed, 'functions', name ?? 'none')).sort(),
      );
      expect(readdirSync(asset)).toContain('index.mjs.map');
      return name;
    });
    expect(used.sort()).toEqual(HANDLERS);
  });

  it('loads with require() in a CommonJS app, as README says (Node.js 20.19 or later)', () => {
    // Prepare: the same stack from a .cjs file, which the app's "type": "module" does not reach
    writeFileSync(
      path.join(app, 'app.cjs'),
      [
        "const { App, Stack } = require('aws-cdk-lib');",
        "const { TokenRotation } = require('@token-rotation/cdk');",
        'const app = new App();',
        "const stack = new Stack(app, 'Security');",
        "new TokenRotation(stack, 'TokenRotation', { alertEmails: ['sec@example.com'] });",
        'app.synth();',
        '',
      ].join('\n'),
    );
    const out = path.join(work, 'cdk.out.cjs');

    // Act
    const synthCjs = run(process.execPath, ['app.cjs'], app, {
      PATH: consumerPath,
      HOME: work,
      CDK_OUTDIR: out,
    });

    // Assess
    expectSuccess('node app.cjs', synthCjs);
    expect(synthCjs.stderr).not.toMatch(/ERR_REQUIRE_ESM|ExperimentalWarning/);
    expect(synthesizedFunctions(out)).toHaveLength(HANDLERS.length);
  });

  it('ships the bytes NodejsFunction bundles at synth (split into the same chunks), from the one set of settings', () => {
    // Prepare: one function as this repository's synth builds it (infra/suite-functions.ts).
    const outdir = path.join(work, 'repository.out');
    const repository = new App({ outdir });
    new nodejs.NodejsFunction(new Stack(repository, 'Bundled'), 'TagEvents', {
      entry: path.join(ROOT, 'lambdas', 'handlers', 'tag-events.ts'),
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: path.join(ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      bundling: bundlingOptions(),
    });

    // Act
    repository.synth();

    // Assess
    const assets: { files: Record<string, { source: { path: string; packaging?: string } }> } =
      JSON.parse(readFileSync(path.join(outdir, 'Bundled.assets.json'), 'utf8'));
    const [code] = Object.values(assets.files).filter((file) => file.source.packaging === 'zip');
    const built = path.join(outdir, code!.source.path);
    const shippedDir = path.join(installed, 'functions', 'tag-events');
    // Chunk names carry a hash that also covers each map's paths (relative to where it was built),
    // so the scripts are compared with those hashes set aside: names and code, byte for byte, as
    // sorted lists (several shared chunks are all `chunk-<hash>.mjs`).
    const unhashed = (text: string) => text.replace(/-[A-Z0-9]{8}\.mjs/g, '-HASH.mjs');
    const scripts = (dir: string) => {
      const files = readdirSync(dir).filter((f) => f.endsWith('.mjs'));
      return {
        names: files.map(unhashed).sort(),
        code: files.map((f) => unhashed(readFileSync(path.join(dir, f), 'utf8'))).sort(),
      };
    };
    const synthesized = scripts(built);
    const shippedScripts = scripts(shippedDir);
    expect(synthesized.names).toEqual(shippedScripts.names);
    expect(synthesized.names.length).toBeGreaterThan(1);
    expect(synthesized.code.length).toBe(shippedScripts.code.length);
    synthesized.code.forEach((code, i) => {
      expect(code === shippedScripts.code[i], `script ${i} of ${synthesized.names.length}`).toBe(
        true,
      );
    });
  }, 600_000);

  it('runs the installed token-rotation binary with nothing but node', () => {
    const bin = path.join(app, 'node_modules', '.bin', 'token-rotation');
    const env = { PATH: consumerPath, HOME: work };
    const version = run(bin, ['--version'], app, env);
    expect(version).toEqual({
      status: 0,
      stdout: `token-rotation ${ROOT_MANIFEST.version}\n`,
      stderr: '',
    });
    const help = run(bin, ['--help'], app, env);
    expect(help.status).toBe(0);
    expect(help.stderr).toBe('');
    for (const command of ['status', 'audit', 'verify-audit', 'evidence', 'revoke']) {
      expect(help.stdout).toContain(command);
    }
    expect(help.stdout).toContain('--profile <name>');
  });

  it('runs a command with the AWS SDK it carries: status against the local AWS', async () => {
    // Prepare
    logger.setLogLevel('SILENT');
    const aws = await startLocalAws();
    try {
      await installSuite(aws);
      const bin = path.join(app, 'node_modules', '.bin', 'token-rotation');

      // Act: a child process (the local AWS answers from this one, so not spawnSync)
      const result = await new Promise<Run>((resolve) => {
        execFile(
          bin,
          ['status', '--quiet'],
          { cwd: app, env: { ...localEnv(aws), PATH: consumerPath, HOME: work } },
          (error, stdout, stderr) =>
            resolve({ status: error ? (error.code as number) : 0, stdout, stderr }),
        );
      });

      // Assess: it found the stack (CloudFormation) and listed the opted-in secrets (none here)
      expect(result).toEqual({
        status: 0,
        stdout:
          "No secret carries token-rotation:lifespan in stack TokenRotation's region: nothing is managed yet.\n",
        stderr: '',
      });
    } finally {
      await aws.stop();
    }
  });

  it('installs the CLI alone, globally, without the CDK, and runs it from PATH', () => {
    // Prepare: npm install -g into a prefix of our own, offline: nothing but the tarball.
    const prefix = path.join(work, 'global');
    const install = run(
      'npm',
      ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
      work,
      { ...process.env, npm_config_loglevel: 'error' },
    );
    expectSuccess('npm install --global', install);

    // Act
    const version = run('token-rotation', ['--version'], work, {
      PATH: `${path.join(prefix, 'bin')}:${path.dirname(process.execPath)}`,
      HOME: work,
    });

    // Assess
    expect(version).toEqual({
      status: 0,
      stdout: `token-rotation ${ROOT_MANIFEST.version}\n`,
      stderr: '',
    });
    const modules = path.join(prefix, 'lib', 'node_modules');
    expect(readdirSync(modules)).toEqual(['@token-rotation']);
  });
});
