// Wraps a port's methods for tests that step in before each call: a race harness gating it, a
// fault matrix numbering and failing it. The one place that decides which members are wrapped.

/**
 * `target` with its methods (all but `constructor`, or those named in `only`) replaced by
 * `around(call, invoke)`, where `call` is `label.method` and `invoke` makes the real call.
 * Everything else passes through unchanged.
 */
export function aroundMethods<T extends object>(
  target: T,
  label: string,
  only: readonly string[] | undefined,
  around: (call: string, invoke: () => Promise<unknown>) => Promise<unknown>,
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (
        typeof value !== 'function' ||
        prop === 'constructor' ||
        typeof prop === 'symbol' ||
        (only !== undefined && !only.includes(prop))
      )
        return value;
      return (...args: unknown[]) =>
        around(`${label}.${prop}`, async () =>
          (value as (...a: unknown[]) => unknown).apply(obj, args),
        );
    },
  });
}
