// Types of infra/sdk-tree-shaking.mjs, in esbuild's terms but without importing esbuild, so the
// package's declarations need no esbuild (as infra/bundle-settings.ts).

/** The part of esbuild's PluginBuild the plugin uses. */
export interface EsbuildPluginBuild {
  onLoad(
    options: { filter: RegExp },
    callback: (args: { path: string }) => Promise<{ contents: string; loader: 'js' | 'json' }>,
  ): void;
}

/** An esbuild plugin (assignable to esbuild's Plugin). */
export interface EsbuildPlugin {
  name: string;
  setup(build: EsbuildPluginBuild): void;
}

export declare function literalSchemaKeys(code: string): string;
export declare function retryableErrors(errors: string): Set<string>;
export declare function withoutErrorClasses(schemas: string, keep: Set<string>): string;
export declare const sdkTreeShaking: EsbuildPlugin;
