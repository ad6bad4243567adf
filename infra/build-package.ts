// Builds the installable package `@token-rotation/cdk` (README "Use the construct in your own
// app") into a directory, dist/package/ by default, ready for `npm pack`:
//   index.js                the public entry point (infra/index.ts), bundled: aws-cdk-lib and
//                           constructs stay imports (peer dependencies), nothing else is needed
//   types/                  its .d.ts, emitted by tsc
//   functions/<name>/       each Lambda handler bundled as NodejsFunction bundles it at synth, with
//                           the same settings (infra/bundle-settings.ts, split into chunks), so a
//                           consumer's synth needs no esbuild
//   bin/token-rotation.mjs  the operator CLI in one file that needs only node
//   package.json            the package's own manifest: no dependencies, `files` limited to these
// Run with `npm run package` (optionally an output directory); test/package/pack.test.ts packs it,
// installs it outside the repository and synthesizes a stack with it.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { bundleBuildOptions, ESM_REQUIRE_BANNER } from './bundle-settings.ts';
import { bundleName } from './suite-functions.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HANDLERS = path.join(ROOT, 'lambdas', 'handlers');
/** The oldest Node.js the construct and the CLI run on (package.json engines). */
const NODE_TARGET = 'node20';
/** The peers the consumer's app provides: one aws-cdk-lib, one constructs, shared with its stacks. */
const PEERS = ['aws-cdk-lib', 'constructs'] as const;
/** Files shipped beside the code (npm adds README.md and LICENSE by itself; listed for clarity). */
const DOCUMENTS = ['README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md'];

export const DEFAULT_OUT_DIR = path.join(ROOT, 'dist', 'package');

/** Every handler under lambdas/handlers/ (one file per function), by its bundle's name. */
function handlerEntries(): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const file of readdirSync(HANDLERS)
    .filter((name) => name.endsWith('.ts'))
    .sort()) {
    entries[bundleName(file)] = path.join(HANDLERS, file);
  }
  return entries;
}

/** The package's manifest, from this repository's: same name and version, what ships, peers. */
function manifest(outDir: string): Record<string, unknown> {
  const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const peer = (name: string) => {
    const version: string | undefined = root.devDependencies?.[name];
    if (!version)
      throw new Error(`build-package: ${name} is not a devDependency to take its version from`);
    return `^${version.replace(/^[\^~]/, '')}`;
  };
  // The .d.ts files keep the `#domain/...` style imports of the sources: map them to the types.
  const imports: Record<string, { types: string }> = {};
  for (const [alias, target] of Object.entries(root.imports as Record<string, string>)) {
    const types = `./types/${target.replace(/^\.\//, '').replace(/\.ts$/, '.d.ts')}`;
    const dir = path.join(outDir, path.dirname(types));
    if (readdirSafe(dir).length > 0) imports[alias] = { types };
  }
  return {
    name: root.name,
    version: root.version,
    description: root.description,
    license: root.license,
    type: 'module',
    engines: root.engines,
    exports: {
      '.': { types: './types/infra/index.d.ts', default: './index.js' },
      './package.json': './package.json',
    },
    types: './types/infra/index.d.ts',
    imports,
    bin: { 'token-rotation': 'bin/token-rotation.mjs' },
    files: ['index.js', 'types/', 'functions/', 'bin/', ...DOCUMENTS],
    peerDependencies: Object.fromEntries(PEERS.map((name) => [name, peer(name)])),
    // Every CDK app has both; the CLI alone needs neither, so installing it (npm install -g)
    // must not pull in aws-cdk-lib.
    peerDependenciesMeta: Object.fromEntries(PEERS.map((name) => [name, { optional: true }])),
  };
}

/** Runs tsc on tsconfig.package.json: the .d.ts of the public entry point and what it names. */
function emitDeclarations(typesDir: string): Promise<void> {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '-p', path.join(ROOT, 'tsconfig.package.json'), '--outDir', typesDir];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`build-package: tsc failed:\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/**
 * tsc keeps the sources' `./x.ts` specifiers in the .d.ts it emits; a consumer's TypeScript
 * resolves `./x.js` to `x.d.ts` whatever its settings, so the declarations name `.js`.
 */
function rewriteDeclarationImports(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.d.ts')) continue;
    const file = path.join(dir, entry);
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text.replace(/((?:from|import\()\s*['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1.js$2'),
    );
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Builds the package into `outDir` (emptied first) and returns it. */
export async function buildPackage(outDir: string = DEFAULT_OUT_DIR): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const declarations = emitDeclarations(path.join(outDir, 'types'));
  // Awaited below; a failed bundle must not leave its rejection unhandled meanwhile.
  declarations.catch(() => undefined);

  await Promise.all([
    // The Lambda bundles: the settings synth uses (infra/bundle-settings.ts, which
    // bundlingOptions() hands to NodejsFunction), one directory per function, split into chunks.
    ...Object.entries(handlerEntries()).map(([name, entry]) =>
      esbuild.build(bundleBuildOptions(entry, path.join(outDir, 'functions', name))),
    ),

    // The construct: everything but the peers inlined (it uses the handlers' names and catalogs).
    esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: [path.join(ROOT, 'infra', 'index.ts')],
      outfile: path.join(outDir, 'index.js'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: NODE_TARGET,
      banner: { js: ESM_REQUIRE_BANNER },
      external: PEERS.flatMap((name) => [name, `${name}/*`]),
      logLevel: 'warning',
    }),

    // The CLI: one file with the SDK inside, and its whole credential chain (profiles, SSO).
    esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: [path.join(ROOT, 'cli', 'bin.ts')],
      outfile: path.join(outDir, 'bin', 'token-rotation.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: NODE_TARGET,
      minify: true,
      banner: { js: `#!/usr/bin/env node\n${ESM_REQUIRE_BANNER}` },
      logLevel: 'warning',
    }),
  ]);

  // The public API's declarations (the slow part, type-checked by tsc), while esbuild runs.
  await declarations;
  rewriteDeclarationImports(path.join(outDir, 'types'));

  for (const document of DOCUMENTS) {
    copyFileSync(path.join(ROOT, document), path.join(outDir, document));
  }
  writeFileSync(
    path.join(outDir, 'package.json'),
    `${JSON.stringify(manifest(outDir), null, 2)}\n`,
  );
  return outDir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = await buildPackage(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  process.stdout.write(`built ${outDir}: npm pack ${path.relative(process.cwd(), outDir)}\n`);
}
