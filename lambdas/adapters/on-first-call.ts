// An adapter whose module is imported on its first call, not when the function starts: the SDK
// client it brings (IAM and STS, Lambda, S3, Systems Manager) is loaded only by an invocation
// that calls it. Each deployed bundle keeps such modules in chunks of their own
// (infra/suite-functions.ts bundlingOptions), so a function that never needs one never reads it.

/** The names of `T`'s methods that return a promise (optional ones included). */
export type AsyncMethodOf<T> = {
  // biome-ignore lint/suspicious/noExplicitAny: any argument list
  [K in keyof T]-?: NonNullable<T[K]> extends (...args: any[]) => Promise<unknown> ? K : never;
}[keyof T];

/**
 * A `T` whose listed methods load the real adapter (`load`, once) and call it. A failed load is
 * not kept: the next call tries again.
 */
export function onFirstCall<T extends object>(
  load: () => Promise<T>,
  methods: readonly AsyncMethodOf<T>[],
): T {
  let adapter: Promise<T> | undefined;
  const loaded = () => {
    adapter ??= load().catch((error: unknown) => {
      adapter = undefined;
      throw error;
    });
    return adapter;
  };
  const lazy: Record<PropertyKey, unknown> = {};
  for (const name of methods) {
    lazy[name] = async (...args: unknown[]) => {
      const real = await loaded();
      return (real[name] as (...args: unknown[]) => Promise<unknown>).apply(real, args);
    };
  }
  return lazy as T;
}
