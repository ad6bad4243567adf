// NodejsFunction's afterBundling hook (infra/suite-functions.ts bundlingOptions): rebuilds the
// function's bundle split into chunks (infra/bundle-settings.ts), in place of the single file
// NodejsFunction writes (it always passes esbuild --outfile, which splitting cannot use). The
// entry is read from the metafile of that first build.
//   node split-bundle.mjs <inputDir> <outputDir> <build options as base64 JSON>
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { sdkTreeShaking } from './sdk-tree-shaking.mjs';

const [inputDir, outputDir, encoded] = process.argv.slice(2);
if (!inputDir || !outputDir || !encoded) {
  throw new Error('usage: split-bundle.mjs <inputDir> <outputDir> <build options as base64 JSON>');
}
const metafile = join(outputDir, 'index.meta.json');
const meta = JSON.parse(readFileSync(metafile, 'utf8'));
const entry = Object.values(meta.outputs).find((output) => output.entryPoint)?.entryPoint;
if (!entry) throw new Error(`${metafile} names no entry point`);
for (const file of readdirSync(outputDir)) rmSync(join(outputDir, file), { recursive: true });
const options = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
// The options travel as JSON, which a plugin cannot: it is the one bundle-settings.ts names.
await build({
  ...options,
  entryPoints: { index: resolve(inputDir, entry) },
  outdir: outputDir,
  plugins: [sdkTreeShaking],
});
