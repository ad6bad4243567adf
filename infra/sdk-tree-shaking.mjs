// An esbuild plugin that lets the bundler drop the parts of the AWS SDK a function never uses,
// as it already drops unused code of ours. Plain JavaScript: the split build
// (infra/split-bundle.mjs) runs it under plain node. It changes how the SDK's code is written,
// never what it does:
// - A client's schemas (`schemas/schemas_0.js`, one per client, every operation's shapes) write
//   their trait keys as `{ [_hH]: ... }` with `_hH` a string constant of the same file. esbuild
//   must keep any statement with a computed key, and so every shape those reach: the whole file,
//   65 KB of S3's in a bundle that calls five S3 operations. The keys are written as the string
//   literals the constants hold, and the shapes no command reaches are dropped.
// - A client reads only `version` from its package.json (the user agent); esbuild keeps the whole
//   file, 2 KB a client. Its name and version are what the bundle gets.
import { readFile } from 'node:fs/promises';

const SCHEMAS = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;
const PACKAGE_JSON = /[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/;

/**
 * `code` with every computed object key `[_name]:` whose `_name` is a top-level string constant
 * of `code` (`const _name = "...";`) written as that string literal. Any other key is left alone.
 * @param {string} code
 * @returns {string}
 */
export function literalSchemaKeys(code) {
  const strings = new Map();
  for (const [, name, literal] of code.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) {
    strings.set(name, literal);
  }
  return code.replace(/(?<=[{,]\s*)\[(_\w+)\]:/g, (key, name) =>
    strings.has(name) ? `${strings.get(name)}:` : key,
  );
}

/** @type {import('./sdk-tree-shaking.d.mts').EsbuildPlugin} */
export const sdkTreeShaking = {
  name: 'sdk-tree-shaking',
  setup(build) {
    build.onLoad({ filter: SCHEMAS }, async ({ path }) => ({
      contents: literalSchemaKeys(await readFile(path, 'utf8')),
      loader: 'js',
    }));
    build.onLoad({ filter: PACKAGE_JSON }, async ({ path }) => {
      const { name, version } = JSON.parse(await readFile(path, 'utf8'));
      return { contents: JSON.stringify({ name, version }), loader: 'json' };
    });
  },
};
