// Faults on one SDK client's calls, injected in its middleware outside the SDK's own retries, so
// one fault is one call that failed as the code under test sees it: the request still goes to
// the local AWS over HTTP for every call that is not faulted (and, for `timeout-after`, for the
// faulted one too, whose answer is then lost).
//
//   error          the service answered 500 (InternalServerError)
//   throttle       the service answered 400 ThrottlingException
//   timeout        the call timed out before the request reached the service
//   timeout-after  the service carried the request out, then the call timed out (answer lost)

export const FAULT_KINDS = ['error', 'throttle', 'timeout', 'timeout-after'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which call to fail: the SDK command's name, and optionally a test of its (marshalled) input. */
export interface FaultRule {
  command: string;
  /** The input as the wire sees it (DynamoDB attribute values are marshalled: `{ S: '…' }`). */
  when?: (input: Record<string, unknown>) => boolean;
  kind: FaultKind;
  /** How many matching calls fail; default 1. */
  times?: number;
}

/** Anything with an SDK v3 middleware stack (a client, or a DynamoDBDocumentClient). */
interface WithMiddleware {
  middlewareStack: {
    add(
      // biome-ignore lint/suspicious/noExplicitAny: the SDK's middleware types are generic per client.
      middleware: any,
      options: { step: 'build'; name: string; override?: boolean },
    ): void;
  };
}

export interface FaultInjector {
  /** Arms a rule: the next matching call(s) fail. */
  fail(rule: FaultRule): void;
  /** Faults fired so far, as `<command>:<kind>`. */
  readonly fired: string[];
  /** Every call made through the client(s), by command name, in order. */
  readonly calls: string[];
  /** Disarms every rule not fired yet. */
  clear(): void;
}

function faultError(kind: FaultKind, command: string): Error {
  const error = new Error(`injected ${kind} on ${command}`) as Error & {
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
  };
  switch (kind) {
    case 'error':
      error.name = 'InternalServerError';
      error.$fault = 'server';
      error.$metadata = { httpStatusCode: 500 };
      break;
    case 'throttle':
      error.name = 'ThrottlingException';
      error.$fault = 'client';
      error.$metadata = { httpStatusCode: 400 };
      break;
    default:
      // What the SDK's Node HTTP handler throws when its requestTimeout runs out.
      error.name = 'TimeoutError';
      error.$metadata = {};
  }
  return error;
}

/** Adds the fault middleware to each client; one injector serves them all. */
export function injectFaults(...clients: WithMiddleware[]): FaultInjector {
  const rules: (FaultRule & { left: number })[] = [];
  const fired: string[] = [];
  const calls: string[] = [];
  const middleware =
    // biome-ignore lint/suspicious/noExplicitAny: see WithMiddleware.
      (next: (args: any) => Promise<unknown>, context: { commandName?: string }) =>
      // biome-ignore lint/suspicious/noExplicitAny: see WithMiddleware.
      async (args: any) => {
        const command = context.commandName ?? '';
        calls.push(command);
        const rule = rules.find(
          (r) => r.left > 0 && r.command === command && (r.when?.(args.input ?? {}) ?? true),
        );
        if (!rule) return next(args);
        rule.left--;
        fired.push(`${command}:${rule.kind}`);
        if (rule.kind === 'timeout-after') await next(args);
        throw faultError(rule.kind, command);
      };
  for (const client of clients) {
    client.middlewareStack.add(middleware, { step: 'build', name: 'injectFaults', override: true });
  }
  return {
    fail: (rule) => void rules.push({ ...rule, left: rule.times ?? 1 }),
    fired,
    calls,
    clear: () => void rules.splice(0),
  };
}
