// A raw S3 REST client for tests: SigV4-signed requests with exactly the headers a test gives,
// so a test can send what @aws-sdk/client-s3 never would (a locked put without Content-MD5 or
// checksum, a bypass header) and read S3's XML answers as they come.
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider, SourceData } from '@smithy/types';

/** An S3 error answer: `name` is S3's code (AccessDenied, NoSuchKey, InvalidRequest, ...). */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = code;
  }
}

export interface S3Request {
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE' | 'POST';
  bucket: string;
  key?: string;
  /** Sub-resources (`versioning: ''`) and parameters (`versionId`, `prefix`). */
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface S3Response {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface S3RestClientOptions {
  region: string | Provider<string>;
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  /**
   * An S3-compatible endpoint (the embedded local AWS, a compatible store): path-style requests
   * to it. Default: AWS's virtual-hosted endpoint `https://<bucket>.s3.<region>.amazonaws.com`.
   */
  endpoint?: string;
}

/** SHA-256 and HMAC-SHA-256 for the signer, from node:crypto. */
class NodeSha256 {
  private hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

const RETRIED_STATUS = new Set([500, 502, 503, 504]);
const ATTEMPTS = 4;

export class S3RestClient {
  private readonly signer: SignatureV4;
  private readonly region: Provider<string>;

  constructor(private readonly options: S3RestClientOptions) {
    const region = options.region;
    this.region = typeof region === 'string' ? async () => region : region;
    // S3 signs the path as sent (no second URI-encoding), unlike every other service.
    this.signer = new SignatureV4({
      service: 's3',
      region: this.region,
      credentials: options.credentials,
      sha256: NodeSha256,
      uriEscapePath: false,
    });
  }

  /**
   * Sends one request; an answer of 300 or more becomes an S3Error with S3's code and message.
   * Server errors (S3's 500 and 503 SlowDown) are tried again, up to four attempts.
   */
  async send(request: S3Request): Promise<S3Response> {
    for (let attempt = 1; ; attempt++) {
      const response = await this.once(request);
      if (response.status < 300) return response;
      const error = errorOf(request, response);
      if (!RETRIED_STATUS.has(response.status) || attempt >= ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }

  private async once(request: S3Request): Promise<S3Response> {
    const region = await this.region();
    const path = `/${(request.key ?? '').split('/').map(encodeURIComponent).join('/')}`;
    const base = this.options.endpoint
      ? new URL(`${this.options.endpoint.replace(/\/$/, '')}/${encodeURIComponent(request.bucket)}`)
      : new URL(`https://${request.bucket}.s3.${region}.amazonaws.com`);
    const fullPath = `${base.pathname === '/' ? '' : base.pathname}${request.key === undefined ? '/' : path}`;
    const query: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) query[name] = value;
    }
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const headers: Record<string, string> = {
      host: base.host,
      'x-amz-content-sha256': createHash('sha256')
        .update(body ?? '')
        .digest('hex'),
      ...(body ? { 'content-length': String(body.length) } : {}),
      ...request.headers,
    };
    const signed = await this.signer.sign({
      method: request.method,
      protocol: base.protocol,
      hostname: base.hostname,
      ...(base.port ? { port: Number(base.port) } : {}),
      path: fullPath,
      query,
      headers,
      ...(body ? { body } : {}),
    });
    const search = new URLSearchParams(query).toString().replace(/\+/g, '%20');
    const url = `${base.protocol}//${base.host}${fullPath}${search ? `?${search}` : ''}`;
    const { host: _host, ...sent } = signed.headers as Record<string, string>;
    const response = await fetch(url, {
      method: request.method,
      headers: sent,
      ...(body ? { body } : {}),
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: Buffer.from(await response.arrayBuffer()),
    };
  }
}

function errorOf(request: S3Request, response: S3Response): S3Error {
  const xml = response.body.toString('utf8');
  // HEAD answers carry no body: the status is all S3 says.
  const code =
    xmlText(xml, 'Code') ??
    ({ 403: 'AccessDenied', 404: 'NotFound' } as Record<number, string>)[response.status] ??
    `Http${response.status}`;
  const message = xmlText(xml, 'Message') ?? `HTTP ${response.status}`;
  const where = `${request.method} s3://${request.bucket}/${request.key ?? ''}`;
  return new S3Error(code, `${where}: ${code}: ${message}`, response.status);
}

const unescapeXml = (text: string) =>
  text.replace(
    /&(lt|gt|amp|apos|quot);/g,
    (_, name: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[name] ?? '',
  );

/** The text of the first `<tag>` element, unescaped; undefined when there is none. */
export function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match ? unescapeXml(match[1]!) : undefined;
}

/** The inner XML of every `<tag>` element (S3's answers do not nest an element in itself). */
export function xmlElements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
}

/** Content-MD5 of a body, as S3 requires on a PutObject with Object Lock retention. */
export const contentMd5 = (body: string | Buffer) =>
  createHash('md5').update(body).digest('base64');
