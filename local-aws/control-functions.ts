// Control routes for a test whose handlers run in its own process while the served local AWS
// invokes them (control.ts lists them): a function's invocations forwarded to a loopback URL, the
// rotations Secrets Manager ran and how each attempt ended, and IAM's eventual-consistency window.
// AWS shows none of these through an API a test could call: a rotation's per-step errors are in
// the function's logs, and IAM's propagation delay is AWS's own.
import type { LocalAws } from './index.ts';
import { callbackUrl, forwardInvocation, resultOf } from './lambda-callback.ts';

/** What these routes add to GET /_local/capabilities. */
export const FUNCTION_CAPABILITIES = [
  'function-callbacks',
  'rotations',
  'iam-consistency',
] as const;

export class ControlRequestError extends Error {}

type Reply = { status: number; body: unknown } | undefined;

/**
 * Sends the function's invocations to `url`. A function deployed with CreateFunction keeps its
 * configuration, role and resource policy: Secrets Manager invokes it only if that policy lets it,
 * as on AWS. One of the suite's own functions (installed with the session) is handed over as
 * it is, with the permission the stack gives it. Returns the function's ARN.
 */
export function forwardFunction(aws: LocalAws, name: string, rawUrl: unknown): string {
  let url: string;
  try {
    url = callbackUrl(rawUrl);
  } catch (error) {
    throw new ControlRequestError((error as Error).message);
  }
  if (aws.lambda.has(name)) return aws.lambda.forwardTo(name, url);
  if (aws.functions.has(name)) {
    const arn = aws.functions.arnOf(name);
    return aws.functions.register(arn, async (event) =>
      resultOf(await forwardInvocation(url, arn, JSON.stringify(event ?? null))),
    );
  }
  throw new ControlRequestError(
    `no function ${name} in this local AWS: create it (CreateFunction) before forwarding it`,
  );
}

/** The routes, on `aws` (the open session's local AWS, or the endpoint's own). */
export async function functionControl(
  aws: LocalAws,
  {
    method,
    path,
    query,
    body,
  }: { method: string; path: string; query: URLSearchParams; body: string },
): Promise<Reply> {
  const callback = /^\/_local\/lambda\/functions\/([^/]+)\/callback$/.exec(path);
  if (method === 'PUT' && callback) {
    const { url } = parse(body);
    const arn = forwardFunction(aws, decodeURIComponent(callback[1]!), url);
    return { status: 200, body: { functionArn: arn, url } };
  }
  if (method === 'GET' && path === '/_local/secretsmanager/rotations') {
    const secret = query.get('secret');
    const rotations = aws.secretsManager.rotations.filter(
      (r) => secret === null || r.secretArn === secret,
    );
    return { status: 200, body: { rotations } };
  }
  if (method === 'PUT' && path === '/_local/iam/consistency') {
    const { delayMs } = parse(body);
    if (typeof delayMs !== 'number' || !(delayMs >= 0)) {
      throw new ControlRequestError(`expected {"delayMs": <n ≥ 0>}, found ${body}`);
    }
    aws.iam.consistencyDelayMs = delayMs;
    return { status: 200, body: { delayMs } };
  }
  return undefined;
}

function parse(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Reported below.
  }
  throw new ControlRequestError(`expected a JSON object, found ${body.slice(0, 200)}`);
}
