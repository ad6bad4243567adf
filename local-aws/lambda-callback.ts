// A function whose code runs in another process: the local Lambda hands each invocation to a
// loopback URL (set with PUT /_local/lambda/functions/<name>/callback, control-functions.ts) and
// answers with what it replies, as Lambda answers for its own code. A test that runs against a
// separately started local AWS serves its in-process handlers this way, while Secrets Manager's
// checks (the function exists, its resource policy lets Secrets Manager invoke it) stay the
// endpoint's.
//
// The wire, one POST per invocation: body the event's JSON; headers x-local-function-arn and
// x-local-request-id. The reply: 200 with the result's JSON, or 200 with
// `x-amz-function-error: Unhandled` and {"errorType", "errorMessage"} for a handler that threw,
// the Invoke response's own shape (Lambda API Reference, API_Invoke.html, X-Amz-Function-Error).
import { randomUUID } from 'node:crypto';

/** What one forwarded invocation came back as: the Invoke payload, and its FunctionError. */
export interface ForwardedOutcome {
  requestId: string;
  payload: string;
  functionError?: 'Unhandled';
}

/** Checks a callback URL: only loopback HTTP, as the local AWS itself listens. */
export function callbackUrl(raw: unknown): string {
  if (typeof raw !== 'string') throw new Error(`expected {"url": "http://127.0.0.1:<port>/..."}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`expected a URL, found ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`expected a loopback http:// URL, found ${url.origin}`);
  }
  return url.href;
}

/**
 * Forwards one invocation of `arn` to `url`. `timeoutSeconds` is the function's configured
 * timeout, enforced as Lambda enforces it ("Task timed out after N.00 seconds"); an unreachable
 * URL is reported as the function failing, never as the caller's error.
 */
export async function forwardInvocation(
  url: string,
  arn: string,
  event: string,
  timeoutSeconds?: number,
): Promise<ForwardedOutcome> {
  const requestId = randomUUID();
  const failed = (errorType: string, errorMessage: string): ForwardedOutcome => ({
    requestId,
    payload: JSON.stringify({ errorType, errorMessage }),
    functionError: 'Unhandled',
  });
  try {
    const res = await fetch(url, {
      method: 'POST',
      body: event,
      headers: {
        'content-type': 'application/json',
        'x-local-function-arn': arn,
        'x-local-request-id': requestId,
      },
      ...(timeoutSeconds !== undefined && { signal: AbortSignal.timeout(timeoutSeconds * 1000) }),
    });
    const payload = await res.text();
    if (res.status !== 200) {
      return failed('Runtime.CallbackError', `the callback at ${url} answered ${res.status}`);
    }
    const functionError = res.headers.get('x-amz-function-error');
    return {
      requestId,
      payload: payload || 'null',
      ...(functionError && { functionError: 'Unhandled' }),
    };
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      return failed(
        'Sandbox.Timedout',
        `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds!.toFixed(2)} seconds`,
      );
    }
    return failed(
      'Runtime.CallbackError',
      `the callback at ${url} did not answer: ${String(error)}`,
    );
  }
}

/** A forwarded outcome as Secrets Manager (or another service) sees a synchronous invoke: the result, or the error thrown. */
export function resultOf(outcome: ForwardedOutcome): unknown {
  const payload = JSON.parse(outcome.payload);
  if (outcome.functionError) {
    const error = new Error(payload?.errorMessage ?? 'Unhandled');
    error.name = payload?.errorType ?? 'Error';
    throw error;
  }
  return payload;
}
