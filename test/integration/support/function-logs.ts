// What a function wrote, read back as on AWS: CloudWatch Logs FilterLogEvents on its log group
// (/aws/lambda/<name>) at the session's endpoint. The SDK's CloudWatch Logs client is not among
// the project's dependencies, so the request is signed here with the SDK's own SigV4 signer.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Session } from './session.ts';

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The SHA-256 (or, with a secret, HMAC-SHA-256) the signer asks for, from node:crypto. */
class Sha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

interface FilteredEvent {
  timestamp: number;
  message: string;
}

/** Every line `functionName` wrote, oldest first, following FilterLogEvents' pages. */
export async function functionLogLines(
  session: Pick<Session, 'clientConfig'>,
  functionName: string,
): Promise<string[]> {
  const { endpoint, region, credentials } = session.clientConfig;
  const signer = new SignatureV4({ service: 'logs', region, credentials, sha256: Sha256 });
  const url = new URL(endpoint);
  const lines: string[] = [];
  let nextToken: string | undefined;
  do {
    const body = JSON.stringify({
      logGroupName: `/aws/lambda/${functionName.split(':').at(-1)}`,
      ...(nextToken && { nextToken }),
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Logs_20140328.FilterLogEvents',
      },
      body,
    });
    // fetch sets Host itself, to the value signed.
    const { host: _host, ...headers } = signed.headers;
    const res = await fetch(new URL('/', endpoint), { method: 'POST', headers, body });
    const text = await res.text();
    if (!res.ok) throw new Error(`FilterLogEvents for ${functionName}: ${res.status} ${text}`);
    const page = JSON.parse(text) as { events?: FilteredEvent[]; nextToken?: string };
    lines.push(...(page.events ?? []).map((e) => e.message));
    nextToken = page.nextToken;
  } while (nextToken);
  return lines;
}
