// REST-JSON, the protocol @aws-sdk/client-lambda speaks: a JSON body in, the status the
// operation defines and a JSON body out, errors typed in a header.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from './wire.ts';

export async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const value = body.length ? JSON.parse(body.toString('utf8')) : {};
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {}
  throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json.');
}

/** REST-JSON: the status the operation defines, a JSON body. */
export function sendRest(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

/** REST-JSON errors: the type in `x-amzn-ErrorType`, `{Type, message}` in the body. */
export function sendRestError(res: ServerResponse, error: AwsError) {
  const text = JSON.stringify({
    Type: error.fault === 'Sender' ? 'User' : 'Service',
    message: error.message,
  });
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': error.type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}
