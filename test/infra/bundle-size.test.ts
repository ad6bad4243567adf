// Issue 16: every function's whole asset (its index.mjs and every chunk, those loaded on first
// call included) is at most 450 KB. Each handler under lambdas/handlers/ is bundled once, with the
// settings `cdk deploy` and the package use (infra/bundle-settings.ts), in memory.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleBuildOptions } from '../../infra/bundle-settings.ts';

const HANDLERS = join(import.meta.dirname, '..', '..', 'lambdas', 'handlers');
const KB = 1024;
/** The ceiling for a function's whole asset. */
const MAX_ASSET_BYTES = 450 * KB;

const names = readdirSync(HANDLERS)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.slice(0, -3));
const assets = new Map<string, { bytes: number; files: number }>();

beforeAll(async () => {
  await Promise.all(
    names.map(async (name) => {
      const { outputFiles } = await build({
        ...bundleBuildOptions(join(HANDLERS, `${name}.ts`), '/bundle'),
        write: false,
      });
      const code = outputFiles.filter((file) => file.path.endsWith('.mjs'));
      const bytes = code.reduce((sum, file) => sum + file.contents.byteLength, 0);
      assets.set(name, { bytes, files: code.length });
    }),
  );
}, 120_000);

describe('function assets', () => {
  it('bundles every handler', () => {
    expect(names.length).toBeGreaterThanOrEqual(7);
    expect([...assets.keys()].sort()).toEqual([...names].sort());
  });

  for (const name of names) {
    it(`${name}: the whole asset is at most ${MAX_ASSET_BYTES / KB} KB`, async (context) => {
      const asset = assets.get(name)!;
      await context.annotate(
        `${name}: ${(asset.bytes / KB).toFixed(1)} KB in ${asset.files} files`,
      );
      expect(asset.bytes).toBeLessThanOrEqual(MAX_ASSET_BYTES);
    });
  }
});
