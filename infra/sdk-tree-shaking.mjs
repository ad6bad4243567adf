// An esbuild plugin that lets the bundler drop the parts of the AWS SDK a function never uses,
// as it already drops unused code of ours. Plain JavaScript: the split build
// (infra/split-bundle.mjs) runs it under plain node. It changes how the SDK's code is written,
// never what it does:
// - A client's schemas (`schemas/schemas_0.js`, one per client, every operation's shapes) write
//   their trait keys as `{ [_hH]: ... }` with `_hH` a string constant of the same file. esbuild
//   must keep any statement with a computed key, and so every shape those reach: the whole file,
//   65 KB of S3's in a bundle that calls five S3 operations. The keys are written as the string
//   literals the constants hold, and the shapes no command reaches are dropped.
// - A client registers a class for every error its service can return (Systems Manager: 39 KB
//   of classes for a function that calls GetAutomationExecution), so the SDK can throw an instance
//   of it. Only the errors the SDK retries because of the class (its `$retryable`) stay
//   registered: any other error reaches our code as the client's service exception, with the same
//   name, message, fault, metadata and fields AWS sent. Our code tells AWS errors apart by name,
//   never by class (lambdas/adapters/aws-errors.ts; test/unit/sdk-tree-shaking.test.ts).
// - A client reads only `version` from its package.json (the user agent); esbuild keeps the whole
//   file, 2 KB a client. Its name and version are what the bundle gets.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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

const ERRORS_IMPORT = /^import \{([^}]*)\} from "\.\.\/models\/errors";$/m;
// The synthetic registry (`_s_registry`) holds the client's base exception: kept.
const REGISTRATION = /^(?!_s_registry\b)\w+_registry\.registerError\(\w+\$, (\w+)\);$/gm;

/**
 * The names of the error classes in a client's `models/errors.js` that the SDK retries because of
 * the class itself (`$retryable`, a trait of the shape), not by the error's name.
 * @param {string} errors
 * @returns {Set<string>}
 */
export function retryableErrors(errors) {
  const names = new Set();
  for (const declaration of errors.split(/^(?=export class )/m)) {
    const name = /^export class (\w+)/.exec(declaration)?.[1];
    if (name && /^\s*\$retryable\b/m.test(declaration)) names.add(name);
  }
  return names;
}

/**
 * `schemas` without the error classes of `../models/errors` registered, but for `keep`: their
 * registrations and the import of every other class removed. Unchanged if its layout is not the
 * one expected (one import of the classes).
 * @param {string} schemas
 * @param {Set<string>} keep
 * @returns {string}
 */
export function withoutErrorClasses(schemas, keep) {
  const imported = ERRORS_IMPORT.exec(schemas);
  if (!imported) return schemas;
  const kept = imported[1]
    .split(',')
    .map((name) => name.trim())
    .filter((name) => keep.has(name));
  const statement = kept.length > 0 ? `import { ${kept.join(', ')} } from "../models/errors";` : '';
  return schemas
    .replace(ERRORS_IMPORT, statement)
    .replace(REGISTRATION, (registration, name) => (keep.has(name) ? registration : ''));
}

/** @param {string} path a client's schemas file */
async function leanSchemas(path) {
  const code = literalSchemaKeys(await readFile(path, 'utf8'));
  const errors = join(dirname(path), '..', 'models', 'errors.js');
  const keep = retryableErrors(await readFile(errors, 'utf8').catch(() => ''));
  return withoutErrorClasses(code, keep);
}

/** @type {import('./bundle-settings.ts').EsbuildPlugin} */
export const sdkTreeShaking = {
  name: 'sdk-tree-shaking',
  setup(build) {
    build.onLoad({ filter: SCHEMAS }, async ({ path }) => ({
      contents: await leanSchemas(path),
      loader: 'js',
    }));
    build.onLoad({ filter: PACKAGE_JSON }, async ({ path }) => {
      const { name, version } = JSON.parse(await readFile(path, 'utf8'));
      return { contents: JSON.stringify({ name, version }), loader: 'json' };
    });
  },
};
