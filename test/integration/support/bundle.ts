// Bundles a handler entry the way the CDK construct does (infra/bundle-settings.ts, the settings
// infra/suite-functions.ts `bundlingOptions` hands NodejsFunction: ESM, node22, split into chunks,
// minified with a map per file) and zips it as a Lambda deployment package, so tests deploy what
// `cdk deploy` would ship.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeZip } from '#local-aws/zip';
import { bundleBuildOptions } from '../../../infra/bundle-settings.ts';

const bundles = new Map<string, Promise<Buffer>>();

/** A zip holding `index.mjs`, its chunks and their maps, built from `entry`; handler `index.handler`. Built once per run. */
export function bundleHandler(entry: string | URL): Promise<Buffer> {
  const path = entry instanceof URL ? fileURLToPath(entry) : entry;
  let bundle = bundles.get(path);
  if (!bundle) {
    bundle = build({ ...bundleBuildOptions(path, '/bundle'), write: false }).then(
      ({ outputFiles }) =>
        writeZip(
          Object.fromEntries(
            outputFiles.map((file) => [file.path.slice('/bundle/'.length), file.contents]),
          ),
        ),
    );
    bundles.set(path, bundle);
  }
  return bundle;
}

/**
 * The files of an unpacked bundle in `dir` that Node reads when it imports `entry`: the entry and
 * the chunks it imports statically, transitively (not those it loads with `import()`).
 */
export function loadedAtStart(dir: string, entry = 'index.mjs'): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(dir, file), 'utf8');
    for (const [, imported] of code.matchAll(/(?:from|import)\s*["']\.\/([^"']+\.mjs)["']/g)) {
      visit(imported!);
    }
  };
  visit(entry);
  return [...seen];
}
