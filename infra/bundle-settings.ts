// How every function's code is bundled, in esbuild's own terms: the construct hands these to
// NodejsFunction (infra/suite-functions.ts `bundlingOptions`, whose afterBundling hook builds the
// split form with infra/split-bundle.mjs), and the tests and the cold-init bench bundle with them
// too (test/integration/support/bundle.ts), so what they run is what `cdk deploy` ships. No CDK
// import here: a test that only bundles need not load aws-cdk-lib.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sdkTreeShaking } from './sdk-tree-shaking.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The SDK's default credential chain, and what the bundles use instead (lambdas/commons). */
export const DEFAULT_CREDENTIAL_CHAIN = '@aws-sdk/credential-provider-node';
export const LAMBDA_CREDENTIALS = path.join(
  projectRoot,
  'lambdas',
  'commons',
  'lambda-credentials.ts',
);

// ESM bundles of the AWS SDK still call require() for Node built-ins; give them one.
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __tokenRotationCreateRequire } from 'node:module'; const require = __tokenRotationCreateRequire(import.meta.url);";

/** The part of esbuild's PluginBuild our plugin uses (infra/sdk-tree-shaking.mjs). */
export interface EsbuildPluginBuild {
  onLoad(
    options: { filter: RegExp },
    callback: (args: { path: string }) => Promise<{ contents: string; loader: 'js' | 'json' }>,
  ): void;
}

/** An esbuild plugin, assignable to esbuild's Plugin. */
export interface EsbuildPlugin {
  name: string;
  setup(build: EsbuildPluginBuild): void;
}

/**
 * The esbuild options used here, declared here rather than taken from esbuild's BuildOptions (to
 * which they are assignable), so the package's declarations need no esbuild.
 */
export interface BundleBuildOptions {
  entryPoints: Record<string, string>;
  outdir: string;
  absWorkingDir: string;
  bundle: boolean;
  splitting: boolean;
  platform: 'node';
  format: 'esm';
  target: string;
  mainFields: string[];
  banner: { js: string };
  minify: boolean;
  sourcemap: boolean;
  sourcesContent: boolean;
  outExtension: Record<string, string>;
  alias: Record<string, string>;
  external: string[];
  /** Not JSON: the split build (infra/split-bundle.mjs) adds its own, the same. */
  plugins: EsbuildPlugin[];
  logLevel: 'error';
}

/**
 * Packages no function's code reaches, though esbuild would write them: `bowser` is the browser
 * user-agent parser of `@aws-sdk/core`, behind an `import()` in a function node never calls;
 * esbuild writes the target of every `import()` as a chunk, called or not (34 KB a bundle).
 */
export const NEVER_LOADED = ['bowser'];

/**
 * The bundle of `entry` (a handler file) written to `outdir` as `index.mjs` plus the chunks it
 * loads: ESM for node22, module-first, minified, with a map per file (not applied at run time,
 * README "Cold starts"). Split: a module imported with `import()` (the adapters of
 * lambdas/adapters/on-first-call.ts, and the SDK's own lazy modules) is a chunk of its own, read
 * only by an invocation that needs it; code both need is a shared chunk, loaded once.
 */
export function bundleBuildOptions(entry: string, outdir: string): BundleBuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    absWorkingDir: projectRoot,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    outExtension: { '.js': '.mjs' },
    // Lambda's credentials are in the environment: the SDK's whole default chain (SSO, shared
    // files, web identity, IMDS and the clients they bring, ~100 KB a bundle) stays out.
    alias: { [DEFAULT_CREDENTIAL_CHAIN]: LAMBDA_CREDENTIALS },
    external: NEVER_LOADED,
    // The SDK's unused schemas and package.json fields dropped (infra/sdk-tree-shaking.mjs).
    plugins: [sdkTreeShaking],
    logLevel: 'error',
  };
}
