// Bundles a handler entry the way the CDK construct does (infra/token-rotation.ts
// bundlingOptions: ESM, node22, module-first, the createRequire banner, minified with a source
// map) and zips it as a Lambda deployment package, so tests deploy what `cdk deploy` would ship.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeZip } from '#local-aws/zip';

// The same banner as infra/token-rotation.ts: ESM bundles of the SDK still require() built-ins.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __tokenRotationCreateRequire } from 'node:module'; const require = __tokenRotationCreateRequire(import.meta.url);";

const bundles = new Map<string, Promise<Buffer>>();

/** A zip holding `index.mjs` (and its map) built from `entry`; handler `index.handler`. Built once per run. */
export function bundleHandler(entry: string | URL): Promise<Buffer> {
  const path = entry instanceof URL ? fileURLToPath(entry) : entry;
  let bundle = bundles.get(path);
  if (!bundle) {
    bundle = build({
      entryPoints: { index: path },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: { js: ESM_REQUIRE_BANNER },
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      // As infra/suite-functions.ts: Lambda's credentials come from the environment alone.
      alias: {
        '@aws-sdk/credential-provider-node': fileURLToPath(
          new URL('../../../lambdas/commons/lambda-credentials.ts', import.meta.url),
        ),
      },
      outExtension: { '.js': '.mjs' },
      outdir: 'out',
      write: false,
      logLevel: 'error',
    }).then(({ outputFiles }) =>
      writeZip(Object.fromEntries(outputFiles.map((file) => [basename(file.path), file.contents]))),
    );
    bundles.set(path, bundle);
  }
  return bundle;
}

const basename = (path: string) => path.slice(path.lastIndexOf('/') + 1);
