// Types of infra/sdk-tree-shaking.mjs; the plugin's shape is declared with the bundle settings.
import type { EsbuildPlugin } from './bundle-settings.ts';

export declare function literalSchemaKeys(code: string): string;
export declare function retryableErrors(errors: string): Set<string>;
export declare function withoutErrorClasses(schemas: string, keep: Set<string>): string;
export declare const sdkTreeShaking: EsbuildPlugin;
