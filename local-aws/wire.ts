// The wire pieces every emulator shares: AWS-shaped errors, the JSON and Query protocols'
// response shapes, and reading a request body. Nothing here knows a service's semantics.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * An error the caller sees as AWS would send it. `type` becomes the SDK exception's `name`
 * (ResourceNotFoundException, InvalidParameterException, ...).
 */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    /** Query-protocol errors say whose fault it was. */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = type;
  }
}

/** Who signed a request, read from the SigV4 credential scope. */
export interface Caller {
  accessKeyId: string;
  region: string;
  service: string;
}

const CREDENTIAL = /Credential=([^/\s,]+)\/\d{8}\/([^/\s,]+)\/([^/\s,]+)\/aws4_request/;

/**
 * The service a request is for: the SigV4 credential scope names it
 * (`Credential=AKID/20250101/us-east-1/secretsmanager/aws4_request`); JSON-protocol requests
 * also carry it in `X-Amz-Target` (`secretsmanager.GetSecretValue`, `DynamoDB_20120810.Query`).
 */
export function callerOf(req: IncomingMessage): Caller | undefined {
  const match = CREDENTIAL.exec(req.headers.authorization ?? '');
  if (match) return { accessKeyId: match[1]!, region: match[2]!, service: match[3]! };
  const target = String(req.headers['x-amz-target'] ?? '');
  if (!target) return undefined;
  const prefix = target.split('.')[0]!;
  const service = prefix.startsWith('DynamoDB_') ? 'dynamodb' : prefix.toLowerCase();
  return { accessKeyId: '', region: '', service };
}

/** A body already read (by the endpoint's request log), so a handler reading it again gets it. */
const bodies = new WeakMap<IncomingMessage, Promise<string>>();

export function readBody(req: IncomingMessage): Promise<string> {
  let body = bodies.get(req);
  if (!body) {
    body = (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    })();
    bodies.set(req, body);
  }
  return body;
}

/** AWS JSON 1.0/1.1: errors are `{"__type": "...", "message": "..."}` with HTTP 400. */
export function sendJson(res: ServerResponse, status: number, body: unknown, version = '1.1') {
  // JSON-protocol timestamps are epoch seconds; the SDK turns them back into Dates. (The
  // replacer sees a Date already turned into a string by toJSON, so read the holder's field.)
  const text = JSON.stringify(body, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : value;
  });
  res.writeHead(status, {
    'content-type': `application/x-amz-json-${version}`,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

export function sendJsonError(res: ServerResponse, error: AwsError, version = '1.1') {
  res.setHeader('x-amzn-errortype', error.type);
  sendJson(res, error.status, { __type: error.type, message: error.message }, version);
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`,
  );

/** XML written as is: for shapes the generic rules below don't cover (maps of `<entry>`). */
export class RawXml {
  constructor(readonly xml: string) {}
}

/** A value for the Query protocol's XML response: nested objects become elements; arrays become `<member>` lists. */
export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | undefined
  | RawXml
  | XmlValue[]
  | { [name: string]: XmlValue };

/** A Query-protocol map (`<entry><key/><value/></entry>`), as GetTopicAttributes returns. */
export const xmlMap = (map: Record<string, string>) =>
  new RawXml(
    Object.entries(map)
      .map(([k, v]) => `<entry><key>${escapeXml(k)}</key><value>${escapeXml(v)}</value></entry>`)
      .join(''),
  );

function toXml(value: XmlValue): string {
  if (value === undefined) return '';
  if (value instanceof RawXml) return value.xml;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([name, v]) => `<${name}>${toXml(v)}</${name}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** Query protocol (SNS, IAM, STS): `<{Action}Response><{Action}Result>...</...><ResponseMetadata/>`. */
export function sendQuery(res: ServerResponse, action: string, xmlns: string, result?: XmlValue) {
  const requestId = randomUUID();
  const resultXml =
    result === undefined ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  const body = `<${action}Response xmlns="${xmlns}">${resultXml}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  res.writeHead(200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendQueryError(res: ServerResponse, error: AwsError, xmlns: string) {
  const body = `<ErrorResponse xmlns="${xmlns}"><Error><Type>${error.fault}</Type><Code>${escapeXml(error.type)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  res.writeHead(error.status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Query-protocol parameters, flattened as the SDK sends them
 * (`MessageAttributes.entry.1.Name=severity`), read back into plain key/value pairs.
 */
export function queryParams(body: string): Map<string, string> {
  return new Map(new URLSearchParams(body));
}
