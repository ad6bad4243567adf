// Single-fault injection at the ports: every call through wrapped ports is numbered, and the call
// whose number is `at` fails once, as an AWS call fails: an error (500), a throttle, or a timeout
// whose request was carried out but whose answer never came. A dry run with `at` unset lists the
// calls, so a matrix can fail each one in turn.

import { aroundMethods } from './around.ts';

export type FaultKind = 'error' | 'throttle' | 'timeout';
export const FAULT_KINDS: readonly FaultKind[] = ['error', 'throttle', 'timeout'];

export class SingleFault {
  /** Every call made, `label.method`, in order. */
  readonly calls: string[] = [];
  /** The call that failed, once it has. */
  fired: string | undefined;

  constructor(
    /** 0-based number of the call to fail; undefined: none. */
    private readonly at: number | undefined = undefined,
    private readonly kind: FaultKind = 'error',
  ) {}

  /** `target` with its methods (all, or those in `only`) numbered and, at `at`, failed. */
  wrap<T extends object>(target: T, label: string, only?: readonly string[]): T {
    return aroundMethods(target, label, only, async (call, invoke) => {
      const n = this.calls.push(call) - 1;
      if (n !== this.at) return invoke();
      this.fired = call;
      if (this.kind === 'timeout') {
        await invoke();
        throw named(
          'TimeoutError',
          `${call}: the request was sent but no answer came (socket timeout)`,
        );
      }
      throw this.kind === 'throttle'
        ? named('ThrottlingException', `${call}: Rate exceeded`, 400)
        : named('InternalServiceError', `${call}: internal service error`, 500);
    });
  }
}

function named(name: string, message: string, status?: number): Error {
  const error = new Error(message);
  error.name = name;
  if (status !== undefined) Object.assign(error, { $metadata: { httpStatusCode: status } });
  return error;
}
